"""The supplier's rejection rules: why a well-formed order cannot be fulfilled."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from supplier_sim.catalog import Catalog
from supplier_sim.profile import Profile
from supplier_sim.seeding import rng_for


def rejection(
    order_id: str, customer_number: str, body: dict[str, Any], profile: Profile, catalog: Catalog, seed: int
) -> tuple[str, str] | None:
    """Why the supplier cannot fulfil a well-formed order, or None; the first rule that holds wins."""
    customer = profile.customer(customer_number)
    if customer is None or customer.blocked:
        return "CUSTOMER_BLOCKED", f"customer {customer_number} is blocked"
    lines = body["lines"]
    for rule in profile.rejection_rules:
        if (
            (rule.product_number is None or any(line["productNumber"] == rule.product_number for line in lines))
            and (rule.order_number is None or rule.order_number.search(body["orderNumber"]))
            and (rule.org_unit is None or rule.org_unit == body["orgUnit"])
        ):
            return rule.reason_code, rule.message or "rejected by the profile's rule"
    found = [(line, catalog.get(line["productNumber"])) for line in lines]
    unknown = [line["productNumber"] for line, product in found if product is None]
    if unknown:
        return "UNKNOWN_PRODUCT", "unknown product " + ", ".join(unknown)
    known = [(line, product) for line, product in found if product is not None]
    inactive = [line["productNumber"] for line, product in known if not product["active"]]
    if inactive:
        return "PRODUCT_INACTIVE", "withdrawn product " + ", ".join(inactive)
    every = profile.misbehave.mismatch_every_container  # a supplier whose comparison is broken
    mismatched = [
        f"{line['productNumber']} (container of {product['containerAmount']}, ordered as {line['containerAmount']})"
        for line, product in known
        if every or line["containerAmount"] != product["containerAmount"]
    ]
    if mismatched:
        return "CONTAINER_MISMATCH", "container amount differs for " + ", ".join(mismatched)
    value = sum((Decimal(product["purchasePrice"]["amount"]) * line["quantity"] for line, product in known), Decimal(0))
    minimum = profile.minimum_order_value
    if value < minimum:
        return "BELOW_MINIMUM_ORDER_VALUE", f"order value {value} is below the minimum of {minimum}"
    if rng_for(seed, order_id, "reject").random() < profile.random_rejection_rate:
        return "OTHER", "rejected by the supplier"
    return None
