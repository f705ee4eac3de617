"""The fixtures of certification: what checks need from the server, each computed once per run.

Each reads the server the way a retailer's portal would, tolerantly: a listing with wrong totals or
a field of the wrong type is for its own check to judge, never a reason to block the checks that
only need a product to order. A fixture raises Blocked when the server does not give what it is
for, and NotObserved when what it waits for did not happen within the wait.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from contracts.statuses import ACCEPTED, FINAL_STATUSES
from scenarios.certify.recorder import Exchange
from scenarios.certify.registry import Blocked, CheckSkipped, Context, NotObserved, fixture

PAGE_LIMIT = 10_000  # pages read of one listing at most: a server whose totals never end cannot hang the run


@dataclass(frozen=True, slots=True)
class Product:
    number: str
    container_amount: int
    active: bool
    name: str
    barcodes: tuple[str, ...]
    updated_at: str


@dataclass
class Placed:
    """An order certify placed: what it sent, under which key, and the answer."""

    purpose: str
    body: dict[str, Any]
    key: str
    answer: Exchange

    @property
    def order_id(self) -> str | None:
        order_id = self.answer.fields.get("orderId")
        created = self.answer.status is not None and 200 <= self.answer.status < 300
        return order_id if created and isinstance(order_id, str) else None


@dataclass
class Followed:
    """What was seen of one placed order while waiting for it to settle."""

    placed: Placed
    statuses: list[str] = field(default_factory=list)  # each status read, in the order read
    reads: list[Exchange] = field(default_factory=list)
    # Dispatch notifications shown while the order, read just before, was neither ACCEPTED nor had been.
    early_dispatches: list[Exchange] = field(default_factory=list)
    unaccepted_reads: int = 0  # how often its dispatch notifications were read while it was not ACCEPTED
    waited_s: float = 0.0

    @property
    def last(self) -> dict[str, Any]:
        return self.reads[-1].fields if self.reads else {}

    @property
    def final(self) -> str | None:
        status = self.last.get("status")
        return status if isinstance(status, str) and status in FINAL_STATUSES else None

    def entry(self, status: str) -> dict[str, Any] | None:
        """The last order read's history entry of ``status``."""
        history = self.last.get("statusHistory")
        entries = [h for h in history if isinstance(h, dict)] if isinstance(history, list) else []
        return next((h for h in entries if h.get("status") == status), None)

    @property
    def seen(self) -> str:
        """The statuses read, each change once: ``NEW -> PROCESSED -> NEW`` shows a move back."""
        changes = [s for i, s in enumerate(self.statuses) if i == 0 or s != self.statuses[i - 1]]
        return " -> ".join(changes) or "never read"

    def waited_for(self, what: str) -> str:
        seen = self.seen
        order = f"order {self.placed.order_id} ({self.placed.purpose})"
        return f"waited {self.waited_s:.0f} s for {order} {what}; seen: {seen}"


def key(ctx: Context, name: str) -> str:
    return f"certify-{ctx.target.run_id}-{name}"


def order_body(ctx: Context, name: str, lines: list[tuple[str, int, int]]) -> dict[str, Any]:
    """An order of (productNumber, containers, containerAmount) lines, numbered by the run."""
    return {
        "orderNumber": f"CERT-{ctx.target.run_id}-{name}",
        "orgUnit": "CERTIFY",
        "warehouse": {"id": "CERT-W1", "name": "Certification warehouse"},
        "lines": [
            {
                "lineNumber": index,
                "productNumber": number,
                "containers": containers,
                "containerAmount": amount,
                "quantity": containers * amount,
            }
            for index, (number, containers, amount) in enumerate(lines, start=1)
        ],
    }


async def place(ctx: Context, name: str, purpose: str, body: dict[str, Any]) -> Placed:
    answer = await ctx.http.call("POST", "/orders", json=body, headers={"Idempotency-Key": key(ctx, name)})
    return Placed(purpose, body, key(ctx, name), answer)


def _product(item: Any) -> Product | None:
    """A listed product, tolerantly: a containerAmount of digits in a string still tells the amount."""
    if not isinstance(item, dict) or not isinstance(item.get("productNumber"), str):
        return None
    amount = item.get("containerAmount")
    if isinstance(amount, str) and amount.isascii() and amount.isdigit():
        amount = int(amount)
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
        return None
    barcodes = item.get("barcodes")
    return Product(
        item["productNumber"],
        amount,
        item.get("active") is True,
        str(item.get("name", "")),
        tuple(b for b in barcodes if isinstance(b, str)) if isinstance(barcodes, list) else (),
        str(item.get("updatedAt", "")),
    )


async def read_listing(ctx: Context, path: str, size: int, **params: str) -> tuple[list[Any], list[Exchange]]:
    """Every item of a paged listing, read until a page is short, empty or the last by its totalPages."""
    items: list[Any] = []
    pages: list[Exchange] = []
    for page in range(1, PAGE_LIMIT + 1):
        answer = await ctx.http.call("GET", path, params={"page": str(page), "size": str(size), **params})
        pages.append(answer)
        found = answer.fields.get("items")
        if answer.status != 200 or not isinstance(found, list):
            break
        items += found
        total_pages = answer.fields.get("totalPages")
        if not found or not isinstance(total_pages, int) or page >= total_pages:
            break
    return items, pages


@fixture
async def access(ctx: Context) -> Exchange:
    """The run's credentials reach the customer's product list."""
    answer = await ctx.http.call("GET", "/products", params={"page": "1", "size": "1"})
    if answer.status != 200:
        raise Blocked(f"the run's credentials do not reach the customer: GET /products {answer.said}")
    return answer


@fixture
async def products(ctx: Context, access: Exchange) -> list[Product]:
    """Every product the listing shows, each once."""
    items, pages = await read_listing(ctx, "/products", 1000)
    if pages[0].status != 200 or not isinstance(pages[0].fields.get("items"), list):
        raise Blocked(f"the product list could not be read: page 1 answered {pages[0].status}")
    found = {p.number: p for p in map(_product, items) if p is not None}
    return list(found.values())


@fixture
async def orderable(ctx: Context, products: list[Product]) -> Product:
    """An active product to order."""
    product = next((p for p in products if p.active), None)
    if product is None:
        raise Blocked(f"the product list shows no active product with a containerAmount ({len(products)} read)")
    return product


@fixture(early=True)
async def order(ctx: Context, orderable: Product) -> Placed:
    """An order of one container of an active product, which the contract says must be accepted."""
    placed = await place(
        ctx, "1", "to be accepted", order_body(ctx, "1", [(orderable.number, 1, orderable.container_amount)])
    )
    if placed.order_id is None:
        raise Blocked(f"the order to be accepted was not created: POST /orders {placed.answer.said}")
    return placed


@fixture(early=True)
async def rejections(ctx: Context, products: list[Product], orderable: Product) -> dict[str, Placed]:
    """Orders the contract says must be rejected, by the reason code they must get."""
    numbers = {p.number for p in products}
    unknown = f"CERTIFY-NO-SUCH-{ctx.target.run_id}"
    while unknown in numbers:  # no product of the listing may have it
        unknown += "-X"
    wanted = {
        "UNKNOWN_PRODUCT": ("unknown", "an unknown product", [(unknown, 1, 1)]),
        "CONTAINER_MISMATCH": (
            "mismatch",
            "a container amount other than the catalog's",
            [(orderable.number, 1, orderable.container_amount + 1)],
        ),
    }
    inactive = next((p for p in products if not p.active), None)
    if inactive is not None:
        wanted["PRODUCT_INACTIVE"] = (
            "inactive",
            "an inactive product",
            [(inactive.number, 1, inactive.container_amount)],
        )
    return {
        reason: await place(ctx, name, purpose, order_body(ctx, name, lines))
        for reason, (name, purpose, lines) in wanted.items()
    }


@fixture
async def settled(ctx: Context, order: Placed, rejections: dict[str, Placed]) -> dict[str, Followed]:
    """Every placed order read until it is final or the wait is over; ``accept`` and the rejection reasons."""
    followed = {"accept": Followed(order)} | {
        reason: Followed(placed) for reason, placed in rejections.items() if placed.order_id is not None
    }
    while True:
        for one in [f for f in followed.values() if f.final is None]:
            await _read(ctx, one)
            one.waited_s = ctx.waited_s
        pending = [
            f"{f.placed.order_id} is {f.statuses[-1] if f.statuses else 'unread'}"
            for f in followed.values()
            if f.final is None
        ]
        if not pending or not await ctx.wait(f"order {', '.join(pending)}; waiting for a final status"):
            break
    for one in followed.values():
        if one.final is not None and one.final != ACCEPTED:  # a rejected order never ships
            await _dispatches_while_unaccepted(ctx, one)
    return followed


async def _read(ctx: Context, one: Followed, follow: bool = True) -> None:
    answer = await ctx.http.call("GET", f"/orders/{one.placed.order_id}")
    one.reads.append(answer)
    status = answer.fields.get("status")
    if answer.status == 200 and isinstance(status, str):
        one.statuses.append(status)
        if follow and status not in FINAL_STATUSES:
            await _dispatches_while_unaccepted(ctx, one)


async def _dispatches_while_unaccepted(ctx: Context, one: Followed) -> None:
    """Read the order's dispatch notifications, and keep them if it has never been ACCEPTED."""
    if one.entry(ACCEPTED) is not None:
        return
    answer = await ctx.http.call("GET", f"/orders/{one.placed.order_id}/dispatch-notifications")
    one.unaccepted_reads += 1
    if answer.status == 200 and answer.fields.get("items"):
        # The order may have been accepted and shipped between the two reads: only if it still is not
        # ACCEPTED after the notifications were seen were they early.
        await _read(ctx, one, follow=False)
        if one.reads[-1].status == 200 and one.entry(ACCEPTED) is None:
            one.early_dispatches.append(answer)


@dataclass
class Shipment:
    order: Followed
    answer: Exchange  # the dispatch notification list
    waited_s: float


@fixture
async def shipment(ctx: Context, settled: dict[str, Followed]) -> Shipment:
    """The accepted order's dispatch notifications, waited for."""
    accepted = settled["accept"]
    if accepted.final is None:
        raise NotObserved(accepted.waited_for("to be ACCEPTED"))
    if accepted.final != ACCEPTED:
        reason = (accepted.entry(accepted.final) or {}).get("reasonCode")
        raise Blocked(f"the order to be accepted was {accepted.final} ({reason}), so nothing ships")
    path = f"/orders/{accepted.placed.order_id}/dispatch-notifications"
    answer = await ctx.http.call("GET", path)
    # Accepted means shipped: the notification may follow a little later.
    waiting = f"order {accepted.placed.order_id} is ACCEPTED; waiting for its dispatch notification"
    while answer.status == 200 and not answer.fields.get("items") and await ctx.wait(waiting):
        answer = await ctx.http.call("GET", path)
    if answer.status != 200:
        raise Blocked(f"the accepted order's dispatch notifications {answer.said}")
    if not answer.fields.get("items"):
        raise NotObserved(
            f"waited {ctx.waited_s:.0f} s for a dispatch notification of ACCEPTED order {accepted.placed.order_id}; "
            "none came"
        )
    return Shipment(accepted, answer, ctx.waited_s)


@dataclass
class Hook:
    """The run's webhook registration and the events it received."""

    secret: str
    url: str
    registered: Exchange
    shown: Exchange
    placed: Placed | None
    deliveries: list[Any]
    waited_s: float

    @property
    def redelivered(self) -> bool:
        """An event refused with 503 came again: the same eventId and the same body, after the refusal."""
        refused: set[tuple[str, bytes]] = set()
        for delivery in self.deliveries:
            if not isinstance(delivery.event_id, str):
                continue
            if (delivery.event_id, delivery.body) in refused:
                return True
            if delivery.answered == 503:
                refused.add((delivery.event_id, delivery.body))
        return False


@fixture(early=True)
async def webhook(ctx: Context, orderable: Product) -> Hook:
    """A webhook registered with a fresh secret, and an order placed to raise events."""
    url, receiver = ctx.target.webhook_url, ctx.receiver
    if not url or receiver is None:
        raise CheckSkipped("not checked: run with --webhook-listen HOST:PORT to check webhooks")
    # A secret, not behaviour: from the OS, never from the run's seed, which the report shows.
    secret = secrets.token_hex(16)
    ctx.http.secrets.add(secret)
    before = await ctx.http.call("GET", "/webhook")
    if before.status == 200:
        ctx.notes.append(
            f"the webhook checks replaced the customer's receiver {before.fields.get('url')}; re-register it"
        )
    registered = await ctx.http.call("PUT", "/webhook", json={"url": url, "secret": secret})
    if registered.status in (404, 405, 501):
        raise CheckSkipped(f"the server offers no webhooks (PUT /webhook {registered.said})")
    ctx.cleanups.append(lambda: ctx.http.call("DELETE", "/webhook"))
    shown = await ctx.http.call("GET", "/webhook")
    hook = Hook(secret, url, registered, shown, None, receiver.deliveries, 0.0)
    if registered.status != 200:
        return hook
    body = order_body(ctx, "hook", [(orderable.number, 1, orderable.container_amount)])
    hook.placed = await place(ctx, "hook", "to raise events", body)
    return hook


@fixture
async def hook_events(ctx: Context, webhook: Hook) -> Hook:
    """The registered webhook's events, received until one refused with 503 came again, or the wait is over."""
    while not webhook.redelivered and await ctx.wait("waiting for a webhook event refused with 503 to come again"):
        pass
    webhook.waited_s = ctx.waited_s
    return webhook
