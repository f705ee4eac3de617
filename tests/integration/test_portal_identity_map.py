"""The unit of work's identity map on the real database: one object per row, autoflush, only real changes written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, event, insert, update
from sqlalchemy.exc import IntegrityError

from portal.adapters.database import Engine
from portal.adapters.mapping import WATCHED
from portal.adapters.tables import org_units
from portal.adapters.unit_of_work import FailedTransaction, ForeignEntity, SqlUnitOfWork, UnlockedChange
from portal.domain.errors import Duplicate
from portal.domain.model import SendIntent, StockOrder
from portal.domain.setup import OrderInterface, OrgUnit, Supplier, Warehouse


class Recorder:
    """Events that keep what a commit announced."""

    listening = True

    def __init__(self) -> None:
        self.published: list[tuple[str, Any]] = []

    def publish(self, kind: str, item: Any) -> None:
        self.published.append((kind, item))


async def stored(engine: Engine, unit: OrgUnit) -> OrgUnit:
    """``unit``, committed by a unit of work of its own."""
    async with SqlUnitOfWork(engine) as uow:
        uow.org_units.add(unit)
        await uow.commit()
    return unit


def writes(engine: Engine) -> list[str]:
    """The INSERT, UPDATE and DELETE statements the engine runs from now on, by their first words."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.split()[0] in ("INSERT", "UPDATE", "DELETE"):
            seen.append(" ".join(statement.split()[:3]))

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    return seen


async def test_a_row_read_twice_is_one_object_and_a_locked_read_refreshes_it(portal_engine: Engine) -> None:
    watched = len(WATCHED)
    await stored(portal_engine, OrgUnit("U1", "First"))
    async with SqlUnitOfWork(portal_engine) as uow:
        unit = await uow.org_units.one(code="U1")
        assert unit is not None and await uow.org_units.get(unit.id or 0) is unit
        # Another statement of the same transaction renames it behind the entity's back.
        await uow.rows.connection.execute(update(org_units).values(name="Renamed"))
        assert (await uow.org_units.get(unit.id or 0)).name == "First"  # as loaded: not read again
        assert await uow.org_units.get(unit.id or 0, lock=True) is unit
        assert unit.name == "Renamed"  # read again under the lock
    assert len(WATCHED) == watched  # an ended unit of work watches nothing


async def test_what_an_action_added_or_changed_is_found_by_its_next_read(portal_engine: Engine) -> None:
    async with SqlUnitOfWork(portal_engine) as uow:
        uow.org_units.add(unit := OrgUnit("U1", "First"))
        found = await uow.org_units.one(code="U1")
        assert found is unit and unit.id is not None
        unit.name = "Second"
        assert await uow.org_units.one(name="Second") is unit
        assert await uow.org_units.count(name="First") == 0
        await uow.commit()
    async with SqlUnitOfWork(portal_engine) as uow:
        assert [u.name for u in await uow.org_units.all()] == ["Second"]


async def test_new_rows_get_their_ids_in_the_order_they_were_added_and_keep_every_value(portal_engine: Engine) -> None:
    async with SqlUnitOfWork(portal_engine) as uow:
        units = [OrgUnit(f"U{n}", f"Unit {n}") for n in range(3)]
        for unit in units:
            uow.org_units.add(unit)
        uow.suppliers.add(supplier := Supplier("S", OrderInterface.ORDERPORTAL, "http://127.0.0.1:1", "food"))
        await uow.flush()
        uow.warehouses.add(Warehouse("W", "Warehouse", units[1].id or 0))  # a foreign key to a row just inserted
        await uow.commit()
    ids = [unit.id or 0 for unit in units]
    assert ids == sorted(ids) and len(set(ids)) == 3
    async with SqlUnitOfWork(portal_engine) as uow:
        assert [await uow.org_units.get(i) for i in ids] == units
        assert await uow.suppliers.get(supplier.id or 0) == supplier
        (house,) = await uow.warehouses.all()
        assert house.org_unit_id == units[1].id


async def test_only_a_real_change_is_written_and_announced(portal_engine: Engine) -> None:
    async with SqlUnitOfWork(portal_engine) as uow:
        uow.suppliers.add(supplier := Supplier("S", OrderInterface.ORDERPORTAL))
        await uow.commit()
    events = Recorder()
    written = writes(portal_engine)
    async with SqlUnitOfWork(portal_engine, events) as uow:
        held = await uow.suppliers.get(supplier.id or 0, lock=True)
        held.name = "S"  # the value it has
        await uow.commit()
    assert written == [] and events.published == []
    async with SqlUnitOfWork(portal_engine, events) as uow:
        held = await uow.suppliers.get(supplier.id or 0, lock=True)
        held.catalog_cursor = "2026-01-01T00:00:00Z"
        await uow.commit()
    assert written == ["UPDATE portal_suppliers SET"] and events.published == [("supplier", held)]


async def test_a_removed_row_is_deleted_and_one_never_inserted_is_just_forgotten(portal_engine: Engine) -> None:
    async with SqlUnitOfWork(portal_engine) as uow:
        uow.org_units.add(unit := OrgUnit("U", "u"))
        uow.suppliers.add(supplier := Supplier("S"))
        await uow.flush()
        uow.warehouses.add(house := Warehouse("W", "w", unit.id or 0))
        await uow.flush()
        order = StockOrder("SO-1", supplier.id or 0, unit.id or 0, house.id or 0)
        uow.orders.add(order)
        await uow.flush()
        uow.intents.add(SendIntent(order.id or 0, "key", "2026-01-01T00:00:00Z"))
        await uow.commit()
    events, written = Recorder(), writes(portal_engine)
    async with SqlUnitOfWork(portal_engine, events) as uow:
        (intent,) = await uow.intents.all()
        await uow.intents.remove(intent)
        uow.intents.add(never := SendIntent(order.id or 0, "other", "2026-01-01T00:00:00Z"))
        await uow.intents.remove(never)
        await uow.commit()
    assert written == ["DELETE FROM portal_send_intents"] and never.id is None
    assert events.published == [("outbox.removed", intent)]
    async with SqlUnitOfWork(portal_engine) as uow:
        assert await uow.intents.all() == []


async def test_a_change_to_a_row_gone_since_it_was_read_is_a_conflict(portal_engine: Engine) -> None:
    await stored(portal_engine, OrgUnit("U", "u"))
    with pytest.raises(Duplicate, match="reload and try again"):
        async with SqlUnitOfWork(portal_engine) as uow:
            (unit,) = await uow.org_units.all()
            unit = await uow.org_units.get(unit.id or 0, lock=True)
            await uow.rows.connection.execute(delete(org_units))
            unit.name = "Renamed"
            await uow.commit()


async def test_a_unique_rule_broken_by_a_flush_is_a_duplicate_and_nothing_is_kept(portal_engine: Engine) -> None:
    await stored(portal_engine, OrgUnit("U", "u"))
    with pytest.raises(Duplicate):
        async with SqlUnitOfWork(portal_engine) as uow:
            uow.org_units.add(OrgUnit("U2", "kept only with the other"))
            uow.org_units.add(OrgUnit("U", "the same code"))
            await uow.commit()
    async with SqlUnitOfWork(portal_engine) as uow:
        assert [u.code for u in await uow.org_units.all()] == ["U"]


async def test_after_a_failed_flush_or_statement_nothing_of_the_action_can_be_kept(portal_engine: Engine) -> None:
    await stored(portal_engine, OrgUnit("U", "u"))
    async with SqlUnitOfWork(portal_engine) as uow:
        uow.suppliers.add(Supplier("S-new"))  # its table comes before the org units': written first
        uow.org_units.add(OrgUnit("U", "the same code"))
        with pytest.raises(Duplicate):
            await uow.flush()
        with pytest.raises(FailedTransaction):
            await uow.commit()  # on PostgreSQL a COMMIT would roll back in silence; on SQLite keep S-new
        with pytest.raises(FailedTransaction):
            await uow.suppliers.all()
    async with SqlUnitOfWork(portal_engine) as uow:
        uow.suppliers.add(Supplier("S-new"))
        with pytest.raises(IntegrityError):  # a statement of the action's own that fails
            await uow.rows.execute(insert(org_units).values(code="U", name="the same code"))
        with pytest.raises(FailedTransaction):
            await uow.commit()
    async with SqlUnitOfWork(portal_engine) as uow:
        assert await uow.suppliers.all() == []


async def test_a_change_refused_for_its_missing_lock_is_not_forgotten_by_a_second_commit(portal_engine: Engine) -> None:
    await stored(portal_engine, OrgUnit("U", "u"))
    async with SqlUnitOfWork(portal_engine) as uow:
        (unit,) = await uow.org_units.all()
        unit.name = "Renamed"
        uow.org_units.add(OrgUnit("U2", "added beside it"))
        with pytest.raises(UnlockedChange):
            await uow.commit()
        with pytest.raises(FailedTransaction):
            await uow.commit()
    async with SqlUnitOfWork(portal_engine) as uow:
        assert [(u.code, u.name) for u in await uow.org_units.all()] == [("U", "u")]


async def test_an_entity_of_another_unit_of_work_is_refused_and_a_removal_taken_back_keeps_the_row(
    portal_engine: Engine,
) -> None:
    elsewhere = await stored(portal_engine, OrgUnit("U", "u"))
    async with SqlUnitOfWork(portal_engine) as uow:
        with pytest.raises(ForeignEntity, match="OrgUnit"):
            uow.org_units.add(elsewhere)
        with pytest.raises(ForeignEntity, match="OrgUnit"):
            await uow.org_units.remove(elsewhere)
        unit = await uow.org_units.get(elsewhere.id or 0)
        await uow.org_units.remove(unit)
        uow.org_units.add(unit)
        await uow.commit()
    async with SqlUnitOfWork(portal_engine) as uow:
        assert [u.code for u in await uow.org_units.all()] == ["U"]
