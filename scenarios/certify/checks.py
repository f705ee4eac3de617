"""The certification checks of Supplier API v1, in the order they run."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from typing import Any

import orjson

from contracts import contracts
from contracts.signing import refusal
from contracts.statuses import FINAL_STATUSES, illegal_step
from contracts.wire import basic_authorization, format_timestamp, parse_timestamp
from scenarios.certify.recorder import Exchange
from scenarios.certify.registry import ADVISORY, CheckSkipped, Context, check, expect

GARBAGE_TOKEN = "certify-garbage-token-0000000000000000"
OBSERVABLE = {"NEW": ("PROCESSED", "REJECTED", "ACCEPTED"), "PROCESSED": ("ACCEPTED", "REJECTED")}


def is_problem(exchange: Exchange) -> bool:
    return exchange.content_type == "application/problem+json" and isinstance(exchange.body, dict)


@check("AUTH-01", "Good credentials reach the customer's resources")
async def good_credentials(ctx: Context) -> None:
    answer = await ctx.http.call("GET", "/products", params={"page": "1", "size": "1"})
    expect(answer.status == 200, f"the customer's product list answered {answer.status}, not 200", answer)


@check("AUTH-02", "Wrong credentials get 401 with problem+json")
async def bad_credentials(ctx: Context) -> None:
    creds = ctx.http.credentials
    if creds.method == "token":
        answer = await ctx.http.login(creds.username or "", "certify-wrong-password")
    else:
        wrong = (
            {"X-Api-Key": "certify-wrong-key-0000000000"}
            if creds.method == "api-key"
            else {"Authorization": basic_authorization(creds.username or "", "certify-wrong-password")}
        )
        answer = await ctx.http.call("GET", "/products", auth=wrong, params={"size": "1"})
    expect(answer.status == 401, f"wrong credentials got {answer.status}, not 401", answer)
    expect(is_problem(answer), "the 401 is not application/problem+json", answer)


@check("AUTH-03", "A garbage bearer token and no credentials at all get 401")
async def garbage_token(ctx: Context) -> None:
    garbage = await ctx.http.call(
        "GET", "/products", auth={"Authorization": f"Bearer {GARBAGE_TOKEN}"}, params={"size": "1"}
    )
    expect(garbage.status == 401, f"a garbage bearer token got {garbage.status}, not 401", garbage)
    nothing = await ctx.http.call("GET", "/products", auth={}, params={"size": "1"})
    expect(nothing.status == 401, f"a request without credentials got {nothing.status}, not 401", nothing)


@check("AUTH-04", "Another customer's path gets 403 and no data")
async def other_customer(ctx: Context) -> None:
    other = ctx.target.other_customer
    if not other:
        raise CheckSkipped("no --other-customer-number was given", applies=False)
    for endpoint in ("/products", "/orders"):
        answer = await ctx.http.call("GET", endpoint, customer=other)
        expect(answer.status == 403, f"GET {endpoint} of customer {other} answered {answer.status}, not 403", answer)
        expect(
            not (isinstance(answer.body, dict) and "items" in answer.body),
            f"GET {endpoint} of customer {other} shows data",
            answer,
        )


async def all_pages(ctx: Context, size: int, **params: str) -> tuple[list[dict[str, Any]], list[Exchange]]:
    """Every page of the product list, checked to agree with the first."""
    items: list[dict[str, Any]] = []
    pages: list[Exchange] = []
    page = 1
    while True:
        answer = await ctx.http.call("GET", "/products", params={"page": str(page), "size": str(size), **params})
        expect(answer.status == 200 and isinstance(answer.body, dict), f"page {page} answered {answer.status}", answer)
        body = answer.body
        pages.append(answer)
        first = pages[0].body
        for name in ("totalItems", "totalPages"):
            expect(
                body.get(name) == first.get(name),
                f"page {page} says {name} {body.get(name)}, page 1 said {first.get(name)}",
                pages[0],
                answer,
            )
        expect(body.get("currentPage") == page, f"page {page} says it is page {body.get('currentPage')}", answer)
        items += body.get("items", [])
        if page >= (first.get("totalPages") or 0) or page >= 10_000:
            return items, pages
        page += 1


@check("PAGING-01", "The pages cover every product exactly once, in product number order, and the totals agree")
async def paging(ctx: Context) -> None:
    first = await ctx.http.call("GET", "/products", params={"page": "1", "size": "1"})
    total = first.body.get("totalItems", 0) if isinstance(first.body, dict) else 0
    size = 1000 if total > 5000 else max(1, -(-total // 5))
    items, pages = await all_pages(ctx, size)
    numbers = [str(p.get("productNumber")) for p in items]
    repeated = [n for n, c in Counter(numbers).items() if c > 1]
    expect(not repeated, f"products on more than one page: {', '.join(map(str, repeated[:5]))}", *pages[:3])
    expect(
        len(numbers) == total, f"the pages hold {len(numbers)} products but totalItems is {total}", pages[0], pages[-1]
    )
    expect(
        pages[0].body.get("totalPages") == -(-total // size),
        "totalPages does not match totalItems / pageSize",
        pages[0],
    )
    # The order is the server's collation: plain or case-folded, but the same on every page.
    in_order = numbers == sorted(numbers) or [n.casefold() for n in numbers] == sorted(n.casefold() for n in numbers)
    expect(in_order, "the products are not in productNumber order", *pages[:2])
    ctx.found["products"] = items


@check("PAGING-02", "Page size limits hold: 1000 is served, 0 and 1001 are refused naming the parameter")
async def paging_limits(ctx: Context) -> None:
    biggest = await ctx.http.call("GET", "/products", params={"page": "1", "size": "1000"})
    expect(biggest.status == 200, f"size=1000 answered {biggest.status}", biggest)
    expect(len(biggest.body.get("items", [])) <= 1000, "size=1000 returned more than 1000 items", biggest)
    for params in ({"size": "1001"}, {"size": "0"}, {"page": "0"}):
        answer = await ctx.http.call("GET", "/products", params=params)
        name = next(iter(params))
        expect(
            answer.status is not None and 400 <= answer.status < 500,
            f"{name}={params[name]} answered {answer.status}, not a 4xx",
            answer,
        )
        named = is_problem(answer) and name in str(answer.body.get("errors", answer.body.get("detail", "")))
        expect(named, f"the answer to {name}={params[name]} does not name {name}", answer)


@check("DELTA-01", "updatedSince returns exactly the products updated at or after it")
async def delta(ctx: Context) -> None:
    products = ctx.found.get("products")
    if not products:
        raise CheckSkipped("the product list could not be read")
    stamps = sorted({parse_timestamp(p["updatedAt"]) for p in products})
    since_ms = stamps[len(stamps) // 2]
    since = format_timestamp(since_ms)
    expected = {p["productNumber"] for p in products if parse_timestamp(p["updatedAt"]) >= since_ms}
    items, pages = await all_pages(ctx, 1000, updatedSince=since)
    got = {p["productNumber"] for p in items}
    expect(
        all(parse_timestamp(p["updatedAt"]) >= since_ms for p in items),
        f"updatedSince={since} returned older products",
        *pages[:2],
    )
    expect(
        got == expected,
        f"updatedSince={since} returned {len(got)} products, {len(expected)} were updated since",
        *pages[:2],
    )
    after = format_timestamp(stamps[-1] + 1)
    later, _ = await all_pages(ctx, 1000, updatedSince=after)
    expect(not later, f"updatedSince={after}, after the newest change, still returned {len(later)} products")
    if len(stamps) == 1:
        ctx.notes.append("DELTA-01: every product has the same updatedAt, so the split could not be tested")


def order_body(ctx: Context, number: str, containers: int = 1) -> dict[str, Any]:
    product = next((p for p in ctx.found.get("products", []) if p.get("active")), None)
    if product is None:
        raise CheckSkipped("the product list has no active product to order")
    amount = product["containerAmount"]
    line = {
        "lineNumber": 1,
        "productNumber": product["productNumber"],
        "containers": containers,
        "containerAmount": amount,
        "quantity": containers * amount,
    }
    return {
        "orderNumber": number,
        "orgUnit": "CERTIFY",
        "warehouse": {"id": "CERT-W1", "name": "Certification warehouse"},
        "lines": [line],
    }


def key(ctx: Context, name: str) -> str:
    return f"certify-{ctx.target.run_id}-{name}"


async def count_orders(ctx: Context) -> tuple[int, Exchange]:
    """The customer's number of orders; the list must be readable, or "creates nothing" cannot be shown."""
    answer = await ctx.http.call("GET", "/orders", params={"size": "1"})
    total = answer.body.get("totalItems") if isinstance(answer.body, dict) else None
    expect(answer.status == 200 and isinstance(total, int), f"the order list answered {answer.status}", answer)
    return int(total or 0), answer


@check("ORDER-01", "An order is created: 201 and status NEW")
async def create_order(ctx: Context) -> None:
    body = order_body(ctx, f"CERT-{ctx.target.run_id}-1")
    answer = await ctx.http.call("POST", "/orders", json=body, headers={"Idempotency-Key": key(ctx, "1")})
    expect(answer.status == 201, f"the order answered {answer.status}, not 201", answer)
    expect(answer.body.get("status") == "NEW", f"the new order is {answer.body.get('status')}, not NEW", answer)
    ctx.found["order"], ctx.found["order_body"] = answer.body, body


def need_order(ctx: Context) -> dict[str, Any]:
    if "order" not in ctx.found:
        raise CheckSkipped("no order was created")
    order: dict[str, Any] = ctx.found["order"]
    return order


@check("ORDER-02", "A replay with the same Idempotency-Key returns the same order and creates nothing")
async def replay(ctx: Context) -> None:
    order = need_order(ctx)
    before, listing = await count_orders(ctx)
    answer = await ctx.http.call(
        "POST", "/orders", json=ctx.found["order_body"], headers={"Idempotency-Key": key(ctx, "1")}
    )
    expect(answer.status in (200, 201), f"the replay answered {answer.status}", answer)
    expect(
        answer.body.get("orderId") == order["orderId"],
        f"the replay made order {answer.body.get('orderId')}, not {order['orderId']}",
        answer,
    )
    after, again = await count_orders(ctx)
    expect(after == before, f"the replay changed the number of orders from {before} to {after}", listing, answer, again)


@check("ORDER-03", "The same Idempotency-Key with another body gets 409 and creates nothing")
async def key_conflict(ctx: Context) -> None:
    need_order(ctx)
    before, listing = await count_orders(ctx)
    other = order_body(ctx, f"CERT-{ctx.target.run_id}-other", containers=2)
    answer = await ctx.http.call("POST", "/orders", json=other, headers={"Idempotency-Key": key(ctx, "1")})
    expect(answer.status == 409, f"another body under a used key answered {answer.status}, not 409", answer)
    expect(is_problem(answer), "the 409 is not problem+json", answer)
    after, again = await count_orders(ctx)
    expect(after == before, f"the refused order changed the number of orders from {before} to {after}", listing, again)


def bad_orders(ctx: Context) -> list[tuple[str, dict[str, Any] | bytes, str | None, str | None]]:
    """(case, body, Idempotency-Key, the JSON pointer the answer must name; None when nothing can be named)."""
    good = order_body(ctx, f"CERT-{ctx.target.run_id}-bad")
    line = good["lines"][0]
    return [
        ("no lines", {**good, "lines": []}, "bad-1", "/lines"),
        ("containers as a string", {**good, "lines": [{**line, "containers": "1"}]}, "bad-2", "/lines/0/containers"),
        (
            "quantity not containers x amount",
            {**good, "lines": [{**line, "quantity": line["quantity"] + 1}]},
            "bad-3",
            "/lines/0/quantity",
        ),
        ("an unknown field", {**good, "discount": "5%"}, "bad-4", "/discount"),
        ("no orderNumber", {k: v for k, v in good.items() if k != "orderNumber"}, "bad-5", "/orderNumber"),
        ("no Idempotency-Key", good, None, "/headers/idempotency-key"),
        ("broken JSON", b'{"orderNumber": ', "bad-7", None),
    ]


@check("ORDER-04", "Bad orders get a 4xx problem naming the field, never a 5xx, and create nothing")
async def bad_input(ctx: Context) -> None:
    before, listing = await count_orders(ctx)
    wrong: list[str] = []
    evidence: list[Exchange] = []
    for case, body, idem, pointer in bad_orders(ctx):
        headers = {"Idempotency-Key": key(ctx, idem)} if idem else {}
        if isinstance(body, bytes):
            answer = await ctx.http.call(
                "POST", "/orders", data=body, headers={**headers, "Content-Type": "application/json"}
            )
        else:
            answer = await ctx.http.call("POST", "/orders", json=body, headers=headers)
        named = [str(e.get("pointer", "")).lower() for e in answer.body.get("errors", [])] if is_problem(answer) else []
        if not (answer.status is not None and 400 <= answer.status < 500):
            wrong.append(f"{case}: answered {answer.status}, not a 4xx")
        elif not is_problem(answer):
            wrong.append(f"{case}: the {answer.status} is not problem+json")
        elif pointer is not None and pointer.lower() not in named:  # header names are case-insensitive
            wrong.append(f"{case}: errors name {named or 'nothing'}, not {pointer}")
        else:
            continue
        evidence.append(answer)
    after, again = await count_orders(ctx)
    if after != before:
        wrong.append(f"bad orders changed the number of orders from {before} to {after}")
        evidence += [listing, again]
    expect(not wrong, "; ".join(wrong), *evidence[:5])


@check("STATUS-01", "The statuses observed while waiting move only along legal paths")
async def status_path(ctx: Context) -> None:
    order = need_order(ctx)
    seen = [order["status"]]
    waited, answer = 0.0, None
    while waited <= ctx.target.wait_s:
        answer = await ctx.http.call("GET", f"/orders/{order['orderId']}")
        expect(answer.status == 200, f"reading the order answered {answer.status}", answer)
        history = [h.get("status") for h in answer.body.get("statusHistory", [])]
        expect(bool(history), "the order has an empty statusHistory", answer)
        step = illegal_step(history)
        expect(step is None, f"the order's history moves illegally: {' -> '.join(map(str, history))}", answer)
        expect(
            history[-1] == answer.body.get("status"),
            f"the order is {answer.body.get('status')} but its history ends in {history[-1]}",
            answer,
        )
        if answer.body.get("status") != seen[-1]:
            seen.append(answer.body["status"])
            step = illegal_step(seen)
            expect(
                step is None or (step[1] == "NEW" and step[2] == "ACCEPTED"), f"observed {' -> '.join(seen)}", answer
            )
        expect(
            not (seen[-1] in FINAL_STATUSES and len(seen) > 1 and seen[-2] in FINAL_STATUSES),
            "a final status changed",
            answer,
        )
        if answer.body.get("status") in FINAL_STATUSES:
            break
        await ctx.sleep(ctx.target.poll_s)
        waited += ctx.target.poll_s
    ctx.found["final"] = answer.body if answer is not None else order
    if seen[-1] not in FINAL_STATUSES:
        ctx.notes.append(f"order {order['orderId']} was still {seen[-1]} after waiting {ctx.target.wait_s:.0f} s")


@check("DISPATCH-01", "Dispatch notifications agree with the order and never ship more than was ordered")
async def dispatch(ctx: Context) -> None:
    final = ctx.found.get("final") or {}
    if final.get("status") != "ACCEPTED":
        raise CheckSkipped(f"the order was not ACCEPTED within the wait (it is {final.get('status')})")
    waited, path = 0.0, f"/orders/{final['orderId']}/dispatch-notifications"
    answer = await ctx.http.call("GET", path)
    while answer.status == 200 and not answer.body.get("items") and waited < ctx.target.wait_s:
        await ctx.sleep(ctx.target.poll_s)  # accepted means shipped: the notification may follow a little later
        waited += ctx.target.poll_s
        answer = await ctx.http.call("GET", path)
    expect(answer.status == 200, f"the dispatch notifications answered {answer.status}", answer)
    if not answer.body.get("items"):
        raise CheckSkipped(f"no dispatch notification arrived within {ctx.target.wait_s:.0f} s")
    ordered = {line["lineNumber"]: line for line in final["lines"]}
    shipped: defaultdict[int, int] = defaultdict(int)
    for note in answer.body.get("items", []):
        expect(
            note.get("orderId") == final["orderId"] and note.get("orderNumber") == final["orderNumber"],
            "a notification names another order",
            answer,
        )
        for line in note.get("lines", []):
            mine = ordered.get(line.get("lineNumber"))
            expect(
                mine is not None and mine["productNumber"] == line.get("productNumber"),
                f"a notification ships line {line.get('lineNumber')}, which the order does not have",
                answer,
            )
            shipped[line["lineNumber"]] += line.get("quantity", 0)
    over = [n for n, q in shipped.items() if q > ordered[n]["quantity"]]
    expect(not over, f"line(s) {over} are shipped beyond the ordered quantity", answer)


@check("WEBHOOK-01", "Webhooks: the secret stays hidden, events are signed and well formed, and redelivered")
async def webhooks(ctx: Context) -> None:
    url, receiver = ctx.target.webhook_url, ctx.receiver
    if not url or receiver is None:
        raise CheckSkipped("not checked: run with --webhook-listen HOST:PORT to check webhooks", applies=False)
    secret = "".join(ctx.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(32))
    before = await ctx.http.call("GET", "/webhook")
    if before.status == 200:
        ctx.notes.append(
            f"WEBHOOK-01 replaced the customer's receiver {before.body.get('url')} for the run; re-register it"
        )
    registered = await ctx.http.call("PUT", "/webhook", json={"url": url, "secret": secret})
    if registered.status in (404, 405, 501):
        raise CheckSkipped(f"the server offers no webhooks (PUT /webhook answered {registered.status})", applies=False)
    expect(
        registered.status == 200 and registered.body.get("url") == url, "the registration was not confirmed", registered
    )
    shown = await ctx.http.call("GET", "/webhook")
    expect(shown.status == 200 and secret not in str(shown.body), "GET /webhook does not show the url alone", shown)
    try:
        await _follow_events(ctx, receiver, secret)
    finally:
        await ctx.http.call("DELETE", "/webhook")


async def _follow_events(ctx: Context, receiver: Any, secret: str) -> None:
    body = order_body(ctx, f"CERT-{ctx.target.run_id}-hook")
    created = await ctx.http.call("POST", "/orders", json=body, headers={"Idempotency-Key": key(ctx, "hook")})
    expect(created.status == 201, f"the order for the webhook check answered {created.status}", created)
    waited = 0.0
    while not _redelivered(receiver) and waited < ctx.target.wait_s:
        await ctx.sleep(ctx.target.poll_s)
        waited += ctx.target.poll_s
    deliveries = receiver.deliveries
    expect(bool(deliveries), f"no event arrived within {ctx.target.wait_s:.0f} s", created)
    for delivery in deliveries:
        why = refusal(secret, delivery.body, delivery.signature, delivery.timestamp, delivery.received_s)
        expect(why is None, f"event {delivery.event_id} is refused: {why}")
        problems = contracts().errors("webhook-event", orjson.loads(delivery.body))
        expect(not problems, f"event {delivery.event_id} breaks the contract: {problems[:3]}")
    expect(_redelivered(receiver), "an event refused with 503 was not delivered again")


def _redelivered(receiver: Any) -> bool:
    counts = Counter(d.event_id for d in receiver.deliveries)
    return any(n > 1 for n in counts.values())


@check("CONTRACT-01", "Every answer meets its contract: JSON Schema, Content-Type, problem+json on every error")
async def contract(ctx: Context) -> None:
    broken = [e for e in ctx.http.exchanges if e.violations]
    listed = "; ".join(f"#{e.seq} {e.endpoint} -> {e.status}: {e.violations[0]}" for e in broken[:5])
    expect(not broken, f"{len(broken)} answer(s) break the contract: {listed}", *broken[:5])
    errors = [e for e in ctx.http.exchanges if e.status is not None and e.status >= 500]
    expect(not errors, f"{len(errors)} answer(s) were server errors", *errors[:5])


@check("LATENCY-01", "Latency per endpoint: p50, p95 and p99", severity=ADVISORY)
async def latency(ctx: Context) -> None:
    by_endpoint: defaultdict[str, list[float]] = defaultdict(list)
    for exchange in ctx.http.exchanges:
        if exchange.status is not None:
            by_endpoint[exchange.endpoint].append(exchange.duration_ms)
    rows = []
    for endpoint, times in sorted(by_endpoint.items()):
        cuts = statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 else times * 99
        rows.append(f"{endpoint}: n={len(times)} p50={cuts[49]:.1f} ms p95={cuts[94]:.1f} ms p99={cuts[98]:.1f} ms")
    ctx.notes.extend(rows)
    slow = [r for r, (e, t) in zip(rows, sorted(by_endpoint.items()), strict=True) if max(t) > 2000]
    expect(not slow, "answers slower than 2 s: " + "; ".join(slow))
