"""A retailer's traffic as a Locust user: Locust imports this file in its own processes, never in the CLI's.

Every answer is judged against Supplier API v1 as certification judges it; a broken contract is a
Locust failure that names the pointer and the rule, never a value, so the reports can show it.
"""

from __future__ import annotations

import itertools
import random
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from locust import FastHttpUser, events, task
from locust.runners import WorkerRunner
from locust.stats import StatsError

from contracts.wire import basic_authorization
from scenarios.certify.recorder import contract_violations
from scenarios.load.plan import ACTIVITIES, FINAL_SUFFIX, Plan
from scenarios.load.summary import MADE

PLAN_OPTION = "--orderportal-plan"
KEPT_ORDERS = 200  # the order ids a user remembers for its dispatch fetches
MAX_PAGES = 100  # a sync stops here even when the server claims more pages
_users = itertools.count(1)


@events.init_command_line_parser.add_listener
def _plan_option(parser: Any) -> None:
    # Locust's master sends its custom options to every worker, so a remote worker needs no plan of its own.
    parser.add_argument(PLAN_OPTION, default="", include_in_web_ui=False, help="The run's plan (orderportal load).")


class Retailer(FastHttpUser):
    """One retailer's portal: syncs the catalog, places orders (and resends some), polls, fetches dispatches."""

    def on_start(self) -> None:
        self.plan = Plan.from_json(self.environment.parsed_options.orderportal_plan)
        worker = getattr(self.environment.runner, "worker_index", 0)
        self.me = f"{self.plan.run_id}-{worker}-{next(_users)}"
        self.rng = random.Random(f"{self.plan.seed}:{worker}:{self.me.rsplit('-', 1)[1]}")
        self.base = f"/api/v1/customers/{quote(self.plan.customer, safe='')}"
        self.sent = itertools.count(1)
        self.products: list[tuple[str, int]] = []
        self.known: list[str] = []
        self.catalog_since: str | None = None
        self.orders_since: str | None = None
        self.token = ""
        activities = [a for a in ACTIVITIES if a != "tokens" or self.plan.method == "token"]
        self.activities = [a for a in activities if self.plan.mix.get(a)]
        self.weights = [self.plan.mix[a] for a in self.activities]
        if self.plan.method == "token":
            self.tokens()
        self.catalog()

    def wait_time(self) -> float:
        return self.rng.uniform(0, self.plan.think_s)

    @task
    def act(self) -> None:
        if self.activities:
            getattr(self, self.rng.choices(self.activities, self.weights)[0])()

    def catalog(self) -> None:
        """A full sync first, then only what changed since the newest ``updatedAt`` seen."""
        since = self.catalog_since
        params = {"updatedSince": since} if since else {}
        name = "GET /products?updatedSince" if since else "GET /products"
        for page in range(1, MAX_PAGES + 1):
            body = self.call("GET", "/products", name, params={**params, "page": page, "size": self.plan.page_size})
            items = _items(body)
            if since is None:
                self.products += [(p["productNumber"], p["containerAmount"]) for p in items if _orderable(p)]
            self.catalog_since = max([self.catalog_since or "", *(_updated(p) for p in items)]) or None
            if not body or page * self.plan.page_size >= int(body.get("totalItems") or 0):
                return

    def orders(self) -> None:
        """A burst of new orders; in some bursts one of them is sent again, the same key and body."""
        if not self.products:
            return
        placed = []
        for _ in range(self.rng.randint(*self.plan.burst)):
            number = f"L{self.me}-{next(self.sent)}"
            body = self.order_body(number)
            answer = self.call("POST", "/orders", "POST /orders", json=body, key=number, replay=False)
            if answer and isinstance(order_id := answer.get("orderId"), str):
                placed.append((number, body, order_id))
                self.known = [*self.known, order_id][-KEPT_ORDERS:]
        if placed and self.rng.random() < self.plan.replay_share:
            number, body, order_id = self.rng.choice(placed)
            self.call("POST", "/orders", "POST /orders (replay)", json=body, key=number, replay=True, same=order_id)

    def polls(self) -> None:
        """The orders changed since the last poll, as a portal's worker asks for them."""
        since = self.orders_since
        params: dict[str, Any] = {"size": self.plan.page_size, **({"updatedSince": since} if since else {})}
        body = self.call("GET", "/orders", "GET /orders?updatedSince" if since else "GET /orders", params=params)
        self.orders_since = max([since or "", *(_updated(o) for o in _items(body))]) or None

    def dispatches(self) -> None:
        """One known order read back, and its dispatch notifications."""
        if not self.known:
            return self.polls()
        order = quote(self.rng.choice(self.known), safe="")
        self.call("GET", f"/orders/{order}", "GET /orders/{orderId}")
        self.call("GET", f"/orders/{order}/dispatch-notifications", "GET /orders/{orderId}/dispatch-notifications")
        return None

    def tokens(self) -> None:
        """A fresh bearer token, as a portal renews one before it expires."""
        login = {"username": self.plan.username, "password": self.plan.password}
        answer = self.call("POST", "/api/v1/auth", "POST /auth", json=login, absolute=True)
        self.token = str(answer.get("token", "")) if answer else ""

    def order_body(self, number: str) -> dict[str, Any]:
        picked = self.rng.sample(self.products, min(len(self.products), self.rng.randint(1, 5)))
        lines = []
        for index, (product, amount) in enumerate(picked, start=1):
            containers = self.rng.randint(1, 4)
            lines.append(
                {
                    "lineNumber": index,
                    "productNumber": product,
                    "containers": containers,
                    "containerAmount": amount,
                    "quantity": containers * amount,
                }
            )
        return {"orderNumber": number, "orgUnit": "LOAD", "warehouse": {"id": "W1", "name": "Load"}, "lines": lines}

    def authorization(self) -> dict[str, str]:
        plan = self.plan
        if plan.method == "api-key":
            return {"X-Api-Key": plan.api_key or ""}
        if plan.method == "basic":
            return {"Authorization": basic_authorization(plan.username or "", plan.password or "")}
        return {"Authorization": f"Bearer {self.token}"}

    def call(
        self,
        method: str,
        path: str,
        name: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        key: str | None = None,
        replay: bool | None = None,
        same: str | None = None,
        absolute: bool = False,
    ) -> dict[str, Any] | None:
        """One request, judged; the decoded body when it passed, else None after a failure that says why."""
        url = (path if absolute else self.base + path) + (f"?{urlencode(params)}" if params else "")
        headers = {} if absolute else self.authorization()
        if key is not None:
            headers["Idempotency-Key"] = key
        data = None
        if json is not None:
            data, headers["Content-Type"] = orjson.dumps(json).decode(), "application/json"
        endpoint = name.split("?")[0].split(" (")[0]
        with self.client.request(method, url, name=name, data=data, headers=headers, catch_response=True) as answer:
            problem, body = _judge(endpoint, answer, replay, same)
            if problem:
                answer.failure(f"{problem} ({MADE})" if _made(answer, replay, same) else problem)
                return None
            answer.success()
            return body if isinstance(body, dict) else {}


def _judge(endpoint: str, answer: Any, replay: bool | None, same: str | None) -> tuple[str | None, Any]:
    """Why an answer fails, in words that quote no value, and its decoded body."""
    status = answer.status_code
    if not status:
        return f"no answer: {type(answer.error).__name__}", None
    raw = answer.content or b""
    content_type = (answer.headers.get("Content-Type") or "").split(";")[0].strip()
    violations = contract_violations(endpoint, status, content_type, raw)
    if violations:
        return "contract: " + "; ".join(violations), None
    if status >= 300:
        return f"HTTP {status}", None
    body = orjson.loads(raw) if raw else None
    if replay is not None:
        replayed = answer.headers.get("Idempotent-Replayed")
        if replayed != ("true" if replay else "false"):
            return f"Idempotent-Replayed is {replayed or 'missing'} on a {'replay' if replay else 'new key'}", None
        if replay and isinstance(body, dict) and body.get("orderId") != same:
            return "a replay answered another order than the first send", None
    return None, body


def _made(answer: Any, replay: bool | None, same: str | None) -> bool:
    """Whether an order send that failed its judgment made an order all the same: a 201 to a first send,
    or to a resend that answered another order than the first send's."""
    if replay is None or answer.status_code != 201:
        return False
    if not replay:
        return True
    try:
        order_id = orjson.loads(answer.content or b"{}").get("orderId")
    except (orjson.JSONDecodeError, AttributeError):
        return False
    return isinstance(order_id, str) and order_id != same


def _items(body: dict[str, Any] | None) -> list[dict[str, Any]]:
    items = (body or {}).get("items")
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _updated(item: dict[str, Any]) -> str:
    value = item.get("updatedAt")
    return value if isinstance(value, str) else ""


def _orderable(product: dict[str, Any]) -> bool:
    amount = product.get("containerAmount")
    return product.get("active") is True and isinstance(amount, int) and isinstance(product.get("productNumber"), str)


_environments: list[Any] = []


@events.init.add_listener
def _remember(environment: Any, **_: Any) -> None:
    _environments.append(environment)


@events.quit.add_listener
def _final_figures(**_: Any) -> None:
    """Locust's own statistics once every user has stopped: its CSV files are written a second apart, not last."""
    environment = _environments[-1] if _environments else None
    prefix = getattr(getattr(environment, "parsed_options", None), "csv_prefix", None)
    if environment is None or prefix is None or isinstance(environment.runner, WorkerRunner):
        return
    stats = environment.runner.stats
    figures = {
        "entries": [_entry(entry) for entry in stats.entries.values()],
        "total": _entry(stats.total),
        "errors": [
            {"name": e.name, "method": e.method, "error": StatsError.parse_error(e.error), "occurrences": e.occurrences}
            for e in stats.errors.values()
        ],
    }
    with open(f"{prefix}{FINAL_SUFFIX}", "wb") as handle:
        handle.write(orjson.dumps(figures))


def _entry(entry: Any) -> dict[str, Any]:
    answered = entry.num_requests > 0
    cuts = {
        f"p{round(p * 100)}": entry.get_response_time_percentile(p) if answered else None for p in (0.5, 0.95, 0.99)
    }
    return {
        "name": entry.name,
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "requestsPerSecond": round(entry.total_rps, 2),
        **cuts,
        "max": round(entry.max_response_time, 2) if answered else None,
    }
