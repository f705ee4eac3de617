"""What the retailer can order: its products, a supplier's list as imported, and the cart it picks into."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from portal.domain.errors import InvalidInput, NotFound


@dataclass(frozen=True, slots=True)
class SupplierItem:
    """How one supplier sells a retailer product."""

    supplier_id: int
    product_number: str
    container_amount: int
    purchase_price: Decimal


@dataclass
class Product:
    number: str
    name: str
    barcodes: tuple[str, ...] = ()
    tax_sector: str = "standard"
    items: tuple[SupplierItem, ...] = ()
    id: int | None = None

    def item_of(self, supplier_id: int) -> SupplierItem | None:
        return next((i for i in self.items if i.supplier_id == supplier_id), None)

    def set_item(self, item: SupplierItem) -> None:
        self.items = (*(i for i in self.items if i.supplier_id != item.supplier_id), item)


@dataclass
class CatalogEntry:
    """A product of a supplier's list, as last imported."""

    supplier_id: int
    product_number: str
    name: str
    barcodes: tuple[str, ...]
    container_amount: int
    purchase_price: Decimal
    currency: str
    tax_rate: str
    active: bool
    updated_at: str
    id: int | None = None


@dataclass(frozen=True, slots=True)
class CartLine:
    product_number: str
    containers: int


@dataclass
class Cart:
    """What the retailer picked from one supplier's list for one warehouse, in containers."""

    supplier_id: int
    warehouse_id: int
    lines: tuple[CartLine, ...] = ()
    id: int | None = None

    def put(self, product_number: str, containers: int) -> None:
        """Set a product's containers."""
        if containers < 1:
            raise InvalidInput("containers must be at least 1", field="/containers")
        kept = tuple(line for line in self.lines if line.product_number != product_number)
        self.lines = (*kept, CartLine(product_number, containers))

    def take_out(self, product_number: str) -> None:
        if all(line.product_number != product_number for line in self.lines):
            raise NotFound("the cart has no product with this number")
        self.lines = tuple(line for line in self.lines if line.product_number != product_number)

    def clear(self) -> None:
        self.lines = ()
