"""Supplier API v1: JSON Schemas, the OpenAPI document, and one loader that validates against them.

The loader (and with it jsonschema) is imported on first use, so that importing a small part such
as ``contracts.statuses`` stays light: the portal's domain does that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contracts.loader import CONTRACT_VERSION, Contracts, ContractViolation, Violation, contracts

__all__ = ["CONTRACT_VERSION", "ContractViolation", "Contracts", "Violation", "contracts", "validate"]


def __getattr__(name: str) -> Any:
    if name in __all__ and name != "validate":
        from contracts import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'contracts' has no attribute {name!r}")


def validate(name: str, instance: object) -> None:
    """Validate ``instance`` against the schema ``name``; raise ContractViolation listing every failure."""
    from contracts.loader import contracts

    contracts().validate(name, instance)
