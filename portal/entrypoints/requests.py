"""The bodies the portal's API accepts: the request bodies of contracts/portal-openapi.yaml, compiled once."""

from __future__ import annotations

from typing import Any

from contracts.loader import Contracts, portal_openapi

BASE = "https://orderportal-harness.dev/portal/v1/"
REF = "#/components/schemas/"


def request_schemas(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each schema that a JSON request body of the document refers to, by its component name."""
    components = document["components"]["schemas"]
    found = {}
    for item in document["paths"].values():
        for operation in item.values():
            body = operation.get("requestBody", {}) if isinstance(operation, dict) else {}
            ref = body.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
            if ref.startswith(REF):
                name = ref.removeprefix(REF)
                found[name] = components[name]
    return found


SCHEMAS = request_schemas(portal_openapi())
requests = Contracts({name: {"$id": BASE + name, **schema} for name, schema in SCHEMAS.items()})
