"""The portal's tables: one per domain entity, plus the keys products are matched by."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from portal.adapters.column_types import DecimalText, ValueTuple, enum_of
from portal.domain import catalog, model, setup

metadata = MetaData()


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True, autoincrement=True)


org_units = Table(
    "portal_org_units",
    metadata,
    _id(),
    Column("code", String(64), unique=True, nullable=False),
    Column("name", String(200), nullable=False),
)
warehouses = Table(
    "portal_warehouses",
    metadata,
    _id(),
    Column("code", String(64), unique=True, nullable=False),
    Column("name", String(200), nullable=False),
    Column("org_unit_id", ForeignKey("portal_org_units.id"), nullable=False),
)
suppliers = Table(
    "portal_suppliers",
    metadata,
    _id(),
    Column("name", String(200), unique=True, nullable=False),
    Column("order_interface", enum_of(setup.OrderInterface), nullable=False),
    Column("base_url", String(2000)),
    Column("tax_sector", String(64), nullable=False),
    Column("catalog_cursor", String(40)),
)
customer_numbers = Table(
    "portal_customer_numbers",
    metadata,
    _id(),
    Column("supplier_id", ForeignKey("portal_suppliers.id"), nullable=False),
    Column("org_unit_id", ForeignKey("portal_org_units.id"), nullable=False),
    Column("number", String(64), nullable=False),
    Column("auth_method", enum_of(setup.AuthMethod), nullable=False),
    Column("username", String(200)),
    Column("password", String(200)),
    Column("api_key", String(200)),
    Column("webhook_secret", String(100)),
    Column("state", enum_of(setup.Coupling), nullable=False),
    Column("last_error", Text),
    Column("poll_cursor", String(40)),
    UniqueConstraint("supplier_id", "org_unit_id", name="uq_portal_customer_number_per_org_unit"),
)
products = Table(
    "portal_products",
    metadata,
    _id(),
    # A product made from a supplier's is numbered "<supplier id>-<its product number>": up to 10 digits,
    # the dash and the 64 characters an identifier may have.
    Column("number", String(96), unique=True, nullable=False),
    Column("name", String(200), nullable=False),
    Column("barcodes", ValueTuple(), nullable=False),
    Column("tax_sector", String(64), nullable=False),
    Column("items", ValueTuple(catalog.SupplierItem), nullable=False),
)
catalog_entries = Table(
    "portal_catalog_entries",
    metadata,
    _id(),
    Column("supplier_id", ForeignKey("portal_suppliers.id"), nullable=False),
    Column("product_number", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("barcodes", ValueTuple(), nullable=False),
    Column("container_amount", Integer, nullable=False),
    Column("purchase_price", DecimalText(), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("tax_rate", String(8), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("updated_at", String(40), nullable=False),
    UniqueConstraint("supplier_id", "product_number", name="uq_portal_catalog_entry"),
)
carts = Table(
    "portal_carts",
    metadata,
    _id(),
    Column("supplier_id", ForeignKey("portal_suppliers.id"), nullable=False),
    Column("warehouse_id", ForeignKey("portal_warehouses.id"), nullable=False),
    Column("lines", ValueTuple(catalog.CartLine), nullable=False),
    UniqueConstraint("supplier_id", "warehouse_id", name="uq_portal_cart"),
)
stock_orders = Table(
    "portal_stock_orders",
    metadata,
    _id(),
    Column("number", String(64), unique=True, nullable=False),
    Column("supplier_id", ForeignKey("portal_suppliers.id"), nullable=False),
    Column("org_unit_id", ForeignKey("portal_org_units.id"), nullable=False),
    Column("warehouse_id", ForeignKey("portal_warehouses.id"), nullable=False),
    Column("lines", ValueTuple(model.OrderLine), nullable=False),
    Column("state", enum_of(model.StockOrderState), nullable=False),
    Column("note", Text),
    Column("requested_delivery_date", String(10)),
    Column("idempotency_key", String(64)),
    Column("supplier_order_id", String(64)),
    Column("portal_status", String(16)),
    Column("status_history", ValueTuple(model.StatusChange), nullable=False),
    Column("rejection_reason", Text),
    Column("status_updated_at", String(40)),
    # At most one unbooked order per supplier and warehouse: Create Stock Orders adds to it.
    Index(
        "uq_portal_stock_orders_unbooked",
        "supplier_id",
        "warehouse_id",
        unique=True,
        sqlite_where=text("state = 'UNBOOKED'"),
        postgresql_where=text("state = 'UNBOOKED'"),
    ),
    Index("ix_portal_stock_orders_supplier_order", "supplier_id", "supplier_order_id"),
)
dispatch_notifications = Table(
    "portal_dispatch_notifications",
    metadata,
    _id(),
    Column("stock_order_id", ForeignKey("portal_stock_orders.id"), nullable=False),
    Column("notification_id", String(80), nullable=False),
    Column("dispatched_at", String(40), nullable=False),
    Column("lines", ValueTuple(model.DispatchLine), nullable=False),
    Column("carrier", String(100)),
    Column("tracking_number", String(100)),
    Column("expected_delivery_date", String(10)),
    Column("received", Boolean, nullable=False),
    UniqueConstraint("stock_order_id", "notification_id", name="uq_portal_dispatch_notification"),
)
stock_receipts = Table(
    "portal_stock_receipts",
    metadata,
    _id(),
    Column("stock_order_id", ForeignKey("portal_stock_orders.id"), nullable=False),
    Column("warehouse_id", ForeignKey("portal_warehouses.id"), nullable=False),
    Column("lines", ValueTuple(model.ReceiptLine), nullable=False),
    Column("dispatch_notification_id", ForeignKey("portal_dispatch_notifications.id")),
    Column("state", enum_of(model.ReceiptState), nullable=False),
    Index("ix_portal_stock_receipts_order", "stock_order_id"),
    Index("uq_portal_stock_receipts_notification", "dispatch_notification_id", unique=True),
)
stock_levels = Table(
    "portal_stock_levels",
    metadata,
    _id(),
    Column("warehouse_id", ForeignKey("portal_warehouses.id"), nullable=False),
    Column("product_id", ForeignKey("portal_products.id"), nullable=False),
    Column("quantity", BigInteger, nullable=False),  # a sum of receipts, each line up to 1e12 units
    UniqueConstraint("warehouse_id", "product_id", name="uq_portal_stock_level"),
)
contract_violations = Table(
    "portal_contract_violations",
    metadata,
    _id(),
    Column("supplier_id", ForeignKey("portal_suppliers.id"), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("at", String(40), nullable=False),
    Column("stock_order_id", ForeignKey("portal_stock_orders.id")),
)
# What a supplier product can match a retailer product by: its supplier item or a barcode. Kept
# beside the products on every flush, so that matching reads a few rows, not every product.
product_keys = Table(
    "portal_product_keys",
    metadata,
    Column("product_id", ForeignKey("portal_products.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("key", String(100), nullable=False),
    Index("ix_portal_product_keys_key", "kind", "key"),
    Index("ix_portal_product_keys_product", "product_id"),
)
seen_events = Table(
    "portal_seen_events",
    metadata,
    _id(),
    Column("customer_number_id", ForeignKey("portal_customer_numbers.id"), nullable=False),
    Column("event_id", String(100), nullable=False),
    Column("received_at", String(40), nullable=False),
    UniqueConstraint("customer_number_id", "event_id", name="uq_portal_seen_event"),
)

send_intents = Table(
    "portal_send_intents",
    metadata,
    _id(),
    Column("stock_order_id", ForeignKey("portal_stock_orders.id"), nullable=False, unique=True),
    Column("idempotency_key", String(64), nullable=False),
    Column("queued_at", String(40), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_ms", BigInteger, nullable=False),
    Column("last_error", Text),
)
