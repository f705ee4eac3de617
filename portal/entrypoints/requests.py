"""The bodies the portal's API accepts, as JSON Schemas compiled once."""

from __future__ import annotations

from typing import Any

from contracts.loader import Contracts

BASE = "https://orderportal-harness.dev/portal/v1/"
TEXT = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[^\\u0000-\\u001f]+$"}
CODE = {**TEXT, "maxLength": 64}  # the width of the code columns
ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
CONTAINERS = {"type": "integer", "minimum": 1, "maximum": 1_000_000}


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "additionalProperties": False, "properties": properties}


SCHEMAS: dict[str, dict[str, Any]] = {
    "org-unit": _object(["code", "name"], code=CODE, name=TEXT),
    "warehouse": _object(["code", "name", "orgUnitId"], code=CODE, name=TEXT, orgUnitId=ID),
    "supplier": _object(
        ["name", "orderInterface"],
        name=TEXT,
        orderInterface={"enum": ["PRECASTED", "ORDERPORTAL"]},
        baseUrl={"type": "string", "pattern": "^https?://", "maxLength": 2000},
        taxSector=CODE,
    ),
    "supplier-change": _object(
        ["orderInterface"],
        orderInterface={"enum": ["PRECASTED", "ORDERPORTAL"]},
        baseUrl={"type": "string", "pattern": "^https?://", "maxLength": 2000},
    ),
    "customer-number": _object(
        ["supplierId", "orgUnitId", "number", "authMethod"],
        supplierId=ID,
        orgUnitId=ID,
        number=CODE,
        authMethod={"enum": ["basic", "token", "api-key"]},
        username=TEXT,
        password=TEXT,
        apiKey=TEXT,
    ),
    "credentials": _object(
        ["authMethod"], authMethod={"enum": ["basic", "token", "api-key"]}, username=TEXT, password=TEXT, apiKey=TEXT
    ),
    "open": _object(["supplierId", "warehouseId"], supplierId=ID, warehouseId=ID),
    "cart-line": _object(["containers"], containers=CONTAINERS),
    "stock-order-change": _object(
        [],
        lines={
            "type": "array",
            "items": _object(["lineNumber", "containers"], lineNumber=ID, containers=CONTAINERS),
        },
        note={"type": "string", "maxLength": 2000},
        requestedDeliveryDate={"type": "string", "format": "date"},
    ),
    "notification-receipt": _object(
        [],
        lines={
            "type": "array",
            "minItems": 1,
            "items": _object(["lineNumber", "quantity"], lineNumber=ID, quantity={"type": "integer", "minimum": 0}),
        },
    ),
}

requests = Contracts({name: {"$id": BASE + name, **schema} for name, schema in SCHEMAS.items()})
