"""The unit of work keeps every change race-safe: only rows read with a lock change, and a deadlock is a conflict."""

from __future__ import annotations

import asyncio

import pytest

from portal.adapters.database import Engine
from portal.adapters.unit_of_work import SqlUnitOfWork, UnlockedChange
from portal.domain.errors import Duplicate
from portal.domain.setup import OrgUnit


async def _units(engine: Engine, count: int) -> list[int]:
    async with SqlUnitOfWork(engine) as uow:
        units = [OrgUnit(f"U{n}", "Unit") for n in range(count)]
        for unit in units:
            uow.org_units.add(unit)
        await uow.commit()
    return [unit.id or 0 for unit in units]


async def test_a_row_read_without_a_lock_cannot_be_changed_even_on_sqlite(
    portal_engine: Engine,
) -> None:
    (unit_id,) = await _units(portal_engine, 1)
    async with SqlUnitOfWork(portal_engine) as uow:
        unit = await uow.org_units.get(unit_id)
        unit.name = "Renamed"
        with pytest.raises(UnlockedChange, match="OrgUnit"):
            await uow.commit()
    async with SqlUnitOfWork(portal_engine) as uow:
        (await uow.org_units.get(unit_id, lock=True)).name = "Renamed"
        found = await uow.org_units.one(lock=True, code="U0")
        assert found is not None
        found.code = "U0-renamed"
        new = OrgUnit("U-new", "New")
        uow.org_units.add(new)
        await uow.flush()
        new.name = "A row the action inserted is its own"
        await uow.commit()
    async with SqlUnitOfWork(portal_engine) as uow:
        assert (await uow.org_units.get(unit_id)).name == "Renamed"


async def test_a_deadlock_on_postgresql_ends_as_a_conflict_with_nothing_kept(
    portal_db: str, portal_engine: Engine
) -> None:
    if not portal_db.startswith("postgresql"):
        pytest.skip("SQLite runs one transaction at a time: it cannot deadlock")
    first, second = await _units(portal_engine, 2)
    both_hold_one = asyncio.Barrier(2)

    async def rename(one: int, other: int) -> None:
        async with SqlUnitOfWork(portal_engine) as uow:
            (await uow.org_units.get(one, lock=True)).name = "Mine"
            await both_hold_one.wait()
            (await uow.org_units.get(other, lock=True)).name = "Mine"
            await uow.commit()

    results = await asyncio.gather(rename(first, second), rename(second, first), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["Duplicate", "NoneType"]
    assert all(r is None or isinstance(r, Duplicate) for r in results)
    async with SqlUnitOfWork(portal_engine) as uow:
        assert [unit.name for unit in await uow.org_units.all()] == ["Mine", "Mine"]
