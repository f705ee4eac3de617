"""What the admin API shows of the simulator: journal, deliveries, customers, orders, faults and catalog."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiMapping

from contracts import Violation
from supplier_sim.http import integer, json_response, timestamp
from supplier_sim.problems import Problem
from supplier_sim.profile import Customer
from supplier_sim.typedefs import SIM


async def journal(request: web.Request) -> web.Response:
    filters = journal_filters(request.query)
    found = request.app[SIM].journal.query(**filters)
    last = found[-1].seq if found else filters["after"] or 0
    body: dict[str, Any] = {"items": [item.to_json() for item in found], "lastSeq": last}
    cluster = request.app[SIM].cluster
    if cluster is not None:  # each worker journals what it served: say whose this is
        body["worker"] = {"pid": cluster.pid, "journal": "this worker's exchanges only; each worker keeps its own"}
    return json_response(body)


def journal_filters(query: MultiMapping[str], limit: int = 1000) -> dict[str, Any]:
    """The journal's filters from a query string, as Journal.query takes them; a 422 naming each bad one."""
    errors: list[Violation] = []
    status = integer(query, "status", -1, 100, 599, errors)
    filters = {
        "method": query.get("method"),
        "path": query.get("path"),
        "status": None if status < 0 else status,
        "customer": query.get("customer"),
        "after": integer(query, "after", -1, 0, 2**63 - 1, errors) if query.get("after") else None,
        "since_ms": timestamp(query, "since", errors),
        "limit": integer(query, "limit", limit, 1, 100_000, errors),
    }
    if errors:
        raise Problem.invalid(errors)
    return filters


async def deliveries(request: web.Request) -> web.Response:
    errors: list[Violation] = []
    limit = integer(request.query, "limit", 1000, 1, 100_000, errors)
    if errors:
        raise Problem.invalid(errors)
    items = await request.app[SIM].hooks.deliveries(request.query.get("customer"), request.query.get("state"), limit)
    return json_response({"items": items})


async def get_faults(request: web.Request) -> web.Response:
    return json_response(list(request.app[SIM].profile.faults))


async def customers(request: web.Request) -> web.Response:
    """The customers and their authentication methods, never their credentials."""
    profile = request.app[SIM].profile
    return json_response(
        {
            "items": [
                {"number": c.number, "name": c.name, "auth": c.auth, "blocked": c.blocked} for c in profile.customers
            ]
        }
    )


async def credentials(request: web.Request) -> web.Response:
    """A customer's login, for a harness that couples a portal; the admin token guards it and the journal blanks it."""
    number = request.match_info["number"]
    customer = request.app[SIM].profile.customer(number)
    if customer is None:
        raise Problem.not_found("the profile has no customer with this number")
    return json_response(login(customer))


def login(customer: Customer) -> dict[str, Any]:
    body: dict[str, Any] = {"number": customer.number, "auth": customer.auth}
    if customer.auth == "api-key":
        body["apiKey"] = customer.api_key
    else:
        body |= {"username": customer.username, "password": customer.password}
    return body


async def orders(request: web.Request) -> web.Response:
    """The orders the supplier holds, each with its Idempotency-Key: for counting what arrived exactly once."""
    query = request.query
    held = await request.app[SIM].orders.held(query.get("customer"), query.get("orderNumber"))
    items = [{"order": order, "idempotencyKey": key} for order, key in held]
    return json_response({"items": items, "total": len(items)})


async def dispatch_notifications(request: web.Request) -> web.Response:
    """Every dispatch notification of an order, whoever's it is, oldest first."""
    order_id = request.match_info["orderId"]
    found = await request.app[SIM].orders.dispatch_notifications(None, order_id, 1, 100_000)
    if found is None:
        raise Problem.not_found("the simulator holds no order with this id")
    items, total = found
    return json_response({"items": items, "total": total})


async def fault_hits(request: web.Request) -> web.Response:
    """Each fault rule as written, with how many requests or events it hit since it was set."""
    sim = request.app[SIM]
    rules = zip(sim.profile.faults, sim.faults.hits, strict=True)
    return json_response({"items": [{"rule": rule, "hits": hits} for rule, hits in rules]})


async def catalog(request: web.Request) -> web.Response:
    """How many products the catalog holds, and how many of them are active."""
    products = request.app[SIM].catalog.products()
    return json_response({"products": len(products), "active": sum(1 for p in products if p["active"])})


def setup_inspection_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/_sim/journal", journal, name="admin.journal")
    router.add_get("/_sim/webhooks/deliveries", deliveries, name="admin.deliveries")
    router.add_get("/_sim/customers", customers, name="admin.customers")
    router.add_get("/_sim/customers/{number}/credentials", credentials, name="admin.credentials")
    router.add_get("/_sim/orders", orders, name="admin.orders")
    router.add_get("/_sim/orders/{orderId}/dispatch-notifications", dispatch_notifications, name="admin.notes")
    router.add_get("/_sim/faults", get_faults, name="admin.faults")
    router.add_get("/_sim/faults/hits", fault_hits, name="admin.faults.hits")
    router.add_get("/_sim/catalog", catalog, name="admin.catalog")
