"""A unit of work: one transaction per user action, committed only when the action succeeds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.adapters.orm import MAPPED, item_key, product_keys
from portal.domain.errors import NotFound
from portal.domain.model import CatalogEntry, Product

T = TypeVar("T")


class UnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self.session: AsyncSession

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        return self

    async def __aexit__(self, *exc: object) -> None:
        # Closing rolls back whatever was not committed and detaches the objects without expiring
        # them, so that an answer can still be built from what the action loaded.
        await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()

    def add(self, entity: object) -> None:
        self.session.add(entity)

    async def flush(self) -> None:
        await self.session.flush()

    async def get(self, cls: type[T], ident: int, label: str | None = None, lock: bool = False) -> T:
        """The entity, or NotFound naming its kind and id; ``lock`` holds its row until commit."""
        found = await self.session.get(cls, ident, with_for_update=lock, populate_existing=lock)
        if found is None:
            raise NotFound(f"no {label or cls.__name__.lower()} {ident}")
        return found

    async def one(self, cls: type[T], lock: bool = False, **where: Any) -> T | None:
        query = select(cls).where(*_filters(cls, where))
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self.session.execute(query)).scalars().first()

    async def all(self, cls: type[T], order_by: str = "id", **where: Any) -> list[T]:
        query = select(cls).where(*_filters(cls, where)).order_by(MAPPED[cls].c[order_by])
        return list((await self.session.execute(query)).scalars())

    async def among(self, cls: type[T], column: str, values: Sequence[Any], **where: Any) -> list[T]:
        """The entities whose ``column`` is one of ``values``."""
        query = select(cls).where(MAPPED[cls].c[column].in_(values), *_filters(cls, where))
        return list((await self.session.execute(query)).scalars())

    async def count(self, cls: type, **where: Any) -> int:
        query = select(func.count()).select_from(MAPPED[cls]).where(*_filters(cls, where))
        return int(await self.session.scalar(query) or 0)

    async def page(self, cls: type[T], order_by: str, page: int, size: int, **where: Any) -> tuple[list[T], int]:
        query = select(cls).where(*_filters(cls, where)).order_by(MAPPED[cls].c[order_by])
        items = list((await self.session.execute(query.limit(size).offset((page - 1) * size))).scalars())
        return items, await self.count(cls, **where)

    async def matching_products(self, entries: Sequence[CatalogEntry]) -> list[Product]:
        """The products that share a supplier item or a barcode with any of ``entries``."""
        if not entries:
            return []
        keys = product_keys
        items = [item_key(e.supplier_id, e.product_number) for e in entries]
        codes = [code for e in entries for code in e.barcodes]
        ids = select(keys.c.product_id).where(
            ((keys.c.kind == "item") & keys.c.key.in_(items)) | ((keys.c.kind == "barcode") & keys.c.key.in_(codes))
        )
        query = select(Product).where(MAPPED[Product].c.id.in_(ids)).order_by(MAPPED[Product].c.id)
        return list((await self.session.execute(query)).scalars())


def _filters(cls: type, where: dict[str, Any]) -> list[ColumnElement[bool]]:
    table = MAPPED[cls]
    return [table.c[name] == value for name, value in where.items()]
