"""Supplier API v1: JSON Schemas, the OpenAPI document, and one loader that validates against them."""

from __future__ import annotations

from contracts.loader import CONTRACT_VERSION, Contracts, ContractViolation, Violation, contracts

__all__ = ["CONTRACT_VERSION", "ContractViolation", "Contracts", "Violation", "contracts", "validate"]


def validate(name: str, instance: object) -> None:
    """Validate ``instance`` against the schema ``name``; raise ContractViolation listing every failure."""
    contracts().validate(name, instance)
