"""The Supplier API as the benchmark's customer calls it: its credentials, its paths, and one plain request."""

from __future__ import annotations

import base64
import urllib.error
import urllib.request

CUSTOMER = "10001"
AUTH = "Basic " + base64.b64encode(b"north-market:north-demo-pass-1").decode()
ROUTE = "/api/v1/customers/{customerNumber}"
PRODUCTS_PATH = f"/api/v1/customers/{CUSTOMER}/products"
ORDERS_PATH = f"/api/v1/customers/{CUSTOMER}/orders"
PAGE_QUERY = "?page=1&size=100"
JSON = "application/json"


def http(url: str, body: bytes | None = None, key: str | None = None) -> tuple[int, bytes]:
    """One request with the customer's Basic auth; a POST when ``body`` is given."""
    headers = {"Authorization": AUTH}
    if body is not None:
        headers["Content-Type"] = JSON
    if key is not None:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{url} answered {exc.code}: {exc.read()[:500]!r}") from None
