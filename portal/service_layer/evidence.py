"""Supplier contract violations, kept with their evidence."""

from __future__ import annotations

import logging

from portal.domain.model import ContractViolation
from portal.service_layer.context import Portal
from portal.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger("portal.evidence")


def record(
    uow: UnitOfWork, portal: Portal, supplier_id: int, kind: str, detail: str, evidence: str, order_id: int | None
) -> ContractViolation:
    """Keep the violation in the caller's unit of work; what it reports is not applied."""
    violation = ContractViolation(supplier_id, kind, detail, evidence, portal.now(), order_id)
    uow.add(violation)
    log.warning("supplier %s broke the contract (%s): %s", supplier_id, kind, detail)
    return violation


async def keep(portal: Portal, supplier_id: int, kind: str, detail: str, evidence: str, order_id: int | None) -> None:
    """Record a violation in a unit of work of its own."""
    async with portal.uow() as uow:
        record(uow, portal, supplier_id, kind, detail, evidence, order_id)
        await uow.commit()
