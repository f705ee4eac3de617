"""A walk through Supplier API v1 against an in-process simulator on the virtual clock."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import aiohttp

from contracts.wire import basic_authorization
from supplier_sim.config import SimConfig
from supplier_sim.server import SimServer


async def run(echo: Callable[[str], None], seed: int = 1) -> None:
    async with SimServer(SimConfig(seed=seed, clock="virtual")) as server, aiohttp.ClientSession() as session:
        customer = next(c for c in server.config.profile.customers if c.auth == "basic" and not c.blocked)
        auth = {"Authorization": basic_authorization(customer.username or "", customer.password or "")}
        base = f"{server.url}/api/v1/customers/{customer.number}"
        echo(f"simulator on {server.url} (virtual clock, seed {seed}); customer {customer.number}, HTTP Basic")

        async with session.get(f"{base}/products", params={"size": "3"}, headers=auth) as response:
            page = await response.json()
        echo(f"products: {page['totalItems']} in {page['totalPages']} pages of {page['pageSize']}")
        products = [p for p in page["items"] if p["active"]]
        lines = []
        for number, product in enumerate(products[:3], start=1):
            containers = number + 1
            lines.append(
                {
                    "lineNumber": number,
                    "productNumber": product["productNumber"],
                    "containers": containers,
                    "containerAmount": product["containerAmount"],
                    "quantity": containers * product["containerAmount"],
                }
            )
            amount, name = product["containerAmount"], f"{product['productNumber']} {product['name']}"
            echo(f"  line {number}: {containers} x {amount} of {name}")

        order = {
            "orderNumber": "SO-1001",
            "orgUnit": "store-1",
            "warehouse": {"id": "W1", "name": "Main warehouse"},
            "lines": lines,
        }
        headers = {"Idempotency-Key": str(uuid.UUID(int=seed))}
        async with session.post(f"{base}/orders", json=order, headers={**headers, **auth}) as response:
            created = await response.json()
        echo(f"order {created['orderId']} placed: HTTP {response.status}, status {created['status']}")
        async with session.post(f"{base}/orders", json=order, headers={**headers, **auth}) as response:
            replay = await response.json()
        echo(f"resent with the same Idempotency-Key: HTTP {response.status}, same order {replay['orderId']}")

        for _ in range(6):
            clock = await server.admin(session, "POST", "clock/advance", json={"by": "30m"})
            async with session.get(f"{base}/orders/{created['orderId']}", headers=auth) as response:
                current = await response.json()
            echo(f"clock {clock['now']}: {current['status']}")

        echo("status history:")
        for entry in current["statusHistory"]:
            reason = f" ({entry['reasonCode']}: {entry.get('message', '')})" if "reasonCode" in entry else ""
            echo(f"  {entry['at']}  {entry['status']}{reason}")
        async with session.get(f"{base}/orders/{created['orderId']}/dispatch-notifications", headers=auth) as response:
            notes = await response.json()
        for note in notes["items"]:
            shipped = ", ".join(f"{line['quantity']} x {line['productNumber']}" for line in note["lines"])
            echo(f"dispatch {note['dispatchNotificationId']} by {note['carrier']} at {note['dispatchedAt']}: {shipped}")
        server.check()
