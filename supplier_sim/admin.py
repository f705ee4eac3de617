"""The admin API under /_sim/: the operator's and the tests' hands on the simulator."""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import unquote

import yaml
from aiohttp import web

from contracts import ContractViolation, Violation
from contracts.bodies import TOO_DEEP, NotJson, decode_json, decoded_yaml_refusal
from contracts.serving import UNSAFE_METHODS, cross_site
from contracts.wire import LAST_INSTANT_MS, format_timestamp, parse_timestamp
from supplier_sim.catalog import CatalogError
from supplier_sim.clock import VirtualClock
from supplier_sim.dashboard import ADMIN_COOKIE, SIGN_IN_PATH, setup_dashboard_routes
from supplier_sim.http import JSON, integer, json_response, read_json
from supplier_sim.inspection import setup_inspection_routes
from supplier_sim.problems import Problem
from supplier_sim.profile import fault_rule_errors, parse_profile, seconds
from supplier_sim.seeding import rng_for
from supplier_sim.typedefs import BODY, BODY_REFUSED, CONFIG, SIM

VALUE_OF_KIND = {"price": "amount", "barcode": "barcode", "rename": "name"}


def _clock(request: web.Request, applied: int | None = None) -> web.Response:
    sim = request.app[SIM]
    body: dict[str, Any] = {"mode": sim.clock.mode, "now": format_timestamp(sim.clock.now_ms())}
    if applied is not None:
        body["applied"] = applied
    return json_response(body)


async def get_clock(request: web.Request) -> web.Response:
    await request.app[SIM].sync_clock()
    return _clock(request)


async def advance_clock(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    body = await read_json(request, "sim-clock-advance")
    if not isinstance(sim.clock, VirtualClock):
        raise Problem.conflict("real-clock", "the simulator runs on the real clock; start it with --clock virtual")
    await sim.sync_clock()
    now = sim.clock.now_ms()
    field = "/by" if "by" in body else "/to"
    by_ms = seconds(body["by"]) * 1000 if "by" in body else 0.0
    if by_ms > LAST_INSTANT_MS - now:
        raise Problem.invalid_field(field, "the virtual clock stops at 9999-12-31T23:59:59.999Z")
    target = now + int(by_ms) if "by" in body else parse_timestamp(body["to"])
    if target < now:
        raise Problem.invalid_field(field, f"the virtual clock never goes back; it is {format_timestamp(now)}")
    if target > LAST_INSTANT_MS:
        raise Problem.invalid_field(field, "the virtual clock stops at 9999-12-31T23:59:59.999Z")
    # A span is measured once this advance's turn comes: advances sent together each move the clock.
    applied = await sim.advance(by_ms=int(by_ms)) if "by" in body else await sim.advance(target)
    return _clock(request, applied)


async def reset(request: web.Request) -> web.Response:
    seed = _seed(request)
    await request.app[SIM].reset(seed=seed)
    return _clock(request)


async def load_profile(request: web.Request) -> web.Response:
    """Replace the profile (YAML or JSON body) and reset."""
    raw = await request.read()
    request[BODY], request[BODY_REFUSED] = raw, True
    try:
        # JSON is decoded as every JSON body is, within its depth limit; YAML may nest until Python's stack ends.
        decoded = decode_json(raw) if request.content_type == JSON else yaml.safe_load(raw)
        if why := decoded_yaml_refusal(decoded):
            raise NotJson(why)
        profile = parse_profile(decoded, base=None)
    except NotJson as exc:
        raise Problem.malformed(str(exc)) from None
    except RecursionError:
        raise Problem.malformed(TOO_DEEP) from None
    except yaml.YAMLError as exc:
        raise Problem.malformed(f"the profile is not valid YAML or JSON{_where(exc)}") from None
    except UnicodeDecodeError:
        raise Problem.malformed("the profile is not UTF-8 text") from None
    except ContractViolation as exc:
        raise Problem.invalid(exc.violations, "the profile is not valid") from None
    except ValueError:
        raise Problem.invalid_field("", "the profile cannot be used") from None
    try:
        await request.app[SIM].reset(profile=profile, seed=_seed(request))
    except CatalogError as exc:
        raise Problem.invalid_field("/catalog", str(exc)) from None
    request[BODY_REFUSED] = False
    return _clock(request)


def _where(exc: yaml.YAMLError) -> str:
    """Where YAML gave up: the position only, for PyYAML's message quotes the offending line."""
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        return f" at line {mark.line + 1}, column {mark.column + 1}"
    position = getattr(exc, "position", None)  # a ReaderError: a character YAML does not allow
    return f" at character {position + 1}" if isinstance(position, int) else ""


def _seed(request: web.Request) -> int | None:
    errors: list[Violation] = []
    seed = integer(request.query, "seed", -1, 0, 2**63, errors)
    if errors:
        raise Problem.invalid(errors)
    return None if seed < 0 else seed


async def force_transition(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    body = await read_json(request, "sim-transition")
    order_id = request.match_info["orderId"]
    if body.get("reasonCode") and body["status"] != "REJECTED":
        raise Problem.invalid_field("/reasonCode", "only a move to REJECTED has a reason code")
    async with sim.exclusive():
        now = sim.clock.now_ms()
        await sim.lifecycle.force(order_id, body["status"], now, body.get("reasonCode"), body.get("message"))
        await sim.hooks.pump()
    return json_response(await sim.orders.get(None, order_id))


async def dispatch(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    body = await read_json(request, "sim-dispatch")
    lines = {line["lineNumber"]: line["quantity"] for line in body["lines"]} if "lines" in body else None
    async with sim.exclusive():
        notification = await sim.lifecycle.dispatch_now(
            request.match_info["orderId"], lines, sim.clock.now_ms(), body.get("carrier"), body.get("trackingNumber")
        )
        await sim.hooks.pump()
    return json_response(notification, status=201)


async def change_product(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    body = await read_json(request, "sim-catalog-change")
    value = body.get(VALUE_OF_KIND.get(body["kind"], ""))
    try:
        async with sim.exclusive(), sim.db.write() as conn:
            now = sim.clock.now_ms()
            product = await sim.lifecycle.change_product(
                conn, body["kind"], body["productNumber"], now, rng_for(sim.seed, "admin-change", now), value
            )
    except CatalogError as exc:
        raise Problem.invalid_field("/" + ("barcode" if body["kind"] == "barcode" else "kind"), str(exc)) from None
    return json_response(product)


async def put_faults(request: web.Request) -> web.Response:
    """Replace the fault rules; each rule's count starts again."""
    rules = await read_json(request, "sim-faults")
    if errors := fault_rule_errors(rules):
        raise Problem.invalid(errors)
    await request.app[SIM].share_faults(rules)
    return json_response(rules)


async def change_credentials(request: web.Request) -> web.Response:
    """The supplier rotates a customer's password or API key; the old one is refused from now on."""
    body = await read_json(request, "sim-credentials-change")
    number = request.match_info["number"]
    sim = request.app[SIM]
    customer = sim.profile.customer(number)
    if customer is None:
        raise Problem.not_found("the profile has no customer with this number")
    field = "password" if customer.auth in ("basic", "token") else "apiKey"
    wrong = next((name for name in body if name != field), None)
    if wrong is not None or field not in body:
        # Point at the field that does not belong, or else at the one that is missing.
        raise Problem.invalid_field(
            f"/{wrong or field}", f"this customer signs in with {customer.auth}: send its {field} only"
        )
    await sim.share_credentials(number, body.get("password"), body.get("apiKey"))
    return web.Response(status=204)  # the new secret is not sent back: the caller has it


async def expire_tokens(request: web.Request) -> web.Response:
    """Every bearer token issued so far is revoked: a client must log in again."""
    return json_response({"expired": await request.app[SIM].expire_tokens()})


@web.middleware
async def same_origin(request: web.Request, handler: Any) -> web.StreamResponse:
    """A page of another origin cannot drive the admin API through a visitor's browser: such a change is a 403.

    The admin API is open on loopback, and a browser signed in to the dashboard sends its cookie to every port
    of the host; without this, any page the user visits could reset the simulator or advance its clock.
    """
    if request.method in UNSAFE_METHODS and request.path.startswith("/_sim/") and cross_site(request):
        raise Problem.forbidden("a page of another origin cannot change the simulator; use its dashboard or API")
    return await handler(request)


@web.middleware
async def admin_token(request: web.Request, handler: Any) -> web.StreamResponse:
    token = request.app[CONFIG].admin_token or ""
    if request.path.startswith("/_sim/") and request.path != SIGN_IN_PATH:
        header = request.headers.get("X-Admin-Token") or unquote(request.cookies.get(ADMIN_COOKIE, ""))
        if not hmac.compare_digest(header.encode("utf-8", "surrogateescape"), token.encode()):
            if request.method == "GET" and _a_page(request):
                raise web.HTTPSeeOther(SIGN_IN_PATH)  # a person at a browser is shown where to sign in
            raise Problem.unauthorized(
                f"the admin API needs the X-Admin-Token header; in a browser, sign in at {SIGN_IN_PATH}",
                scheme="AdminToken",
            )
    return await handler(request)


def _a_page(request: web.Request) -> bool:
    return request.path.startswith("/_sim/ui") and "text/html" in request.headers.get("Accept", "")


def setup_admin_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/_sim/clock", get_clock, name="admin.clock")
    router.add_post("/_sim/clock/advance", advance_clock, name="admin.advance")
    router.add_post("/_sim/reset", reset, name="admin.reset")
    router.add_put("/_sim/profile", load_profile, name="admin.profile")
    router.add_post("/_sim/orders/{orderId}/transition", force_transition, name="admin.transition")
    router.add_post("/_sim/orders/{orderId}/dispatch", dispatch, name="admin.dispatch")
    router.add_post("/_sim/catalog/changes", change_product, name="admin.catalog-change")
    router.add_put("/_sim/customers/{number}/credentials", change_credentials, name="admin.credentials.put")
    router.add_post("/_sim/auth/expire-tokens", expire_tokens, name="admin.expire-tokens")
    router.add_put("/_sim/faults", put_faults, name="admin.faults.put")
    setup_inspection_routes(app)
    setup_dashboard_routes(app)
