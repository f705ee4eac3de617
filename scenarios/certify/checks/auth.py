"""The auth checks: good credentials get in, wrong or missing ones get 401, another customer 403."""

from __future__ import annotations

from typing import Any

from contracts.wire import basic_authorization
from scenarios.certify.checks.judging import is_problem
from scenarios.certify.recorder import Exchange
from scenarios.certify.registry import CheckFailed, CheckSkipped, Context, check, expect

GARBAGE_TOKEN = "certify-garbage-token-0000000000000000"


@check("AUTH-01", "Good credentials reach the customer's resources", rules=["AUTH-R1", "AUTH-R2"])
async def good_credentials(ctx: Context) -> list[str] | None:
    answer = await ctx.http.call("GET", "/products", params={"page": "1", "size": "1"})
    login = next((e for e in ctx.http.exchanges if e.endpoint == "POST /auth"), None)
    if ctx.http.credentials.method == "token":
        said = login.said if login is not None else "was never asked"
        expect(
            login is not None and login.status == 200,
            f"POST /auth {said} for the customer's own password",
            login,
            rules=["AUTH-R2"],
        )
    expect(answer.status == 200, f"the customer's product list {answer.said}, not 200", answer, rules=["AUTH-R1"])
    return None if ctx.http.credentials.method == "token" else ["AUTH-R1"]  # no login to judge without a token


@check("AUTH-02", "Wrong credentials get 401 with problem+json", rules=["AUTH-R3"])
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
    expect(answer.status == 401, f"wrong credentials {answer.said}, not 401", answer)
    expect(is_problem(answer), "the 401 is not application/problem+json", answer)


@check("AUTH-03", "A garbage bearer token and no credentials at all get 401", rules=["AUTH-R4", "AUTH-R5"])
async def garbage_token(ctx: Context) -> None:
    garbage = await ctx.http.call(
        "GET", "/products", auth={"Authorization": f"Bearer {GARBAGE_TOKEN}"}, params={"size": "1"}
    )
    nothing = await ctx.http.call("GET", "/products", auth={}, params={"size": "1"})
    wrong = [
        (f"a garbage bearer token {garbage.said}, not 401", garbage, "AUTH-R4"),
        (f"a request without credentials {nothing.said}, not 401", nothing, "AUTH-R5"),
    ]
    failed = [(message, answer, rule) for message, answer, rule in wrong if answer.status != 401]
    if failed:
        held = [rule for _, answer, rule in wrong if answer.status == 401]
        message = "; ".join(m for m, _, _ in failed)
        raise CheckFailed(message, *(a for _, a, _ in failed), rules=[r for *_, r in failed], passed_rules=held)


@check("AUTH-04", "Another customer's path gets 403 and no data", rules=["AUTH-R6"])
async def other_customer(ctx: Context, access: Exchange) -> None:
    other = ctx.target.other_customer
    if not other:
        raise CheckSkipped("no --other-customer-number was given")
    # Every resource below the customer, read and written: the check of the path comes before anything else.
    probe = f"certify-probe-{ctx.target.run_id}"
    asks: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/products", None),
        ("GET", "/orders", None),
        ("GET", f"/orders/{probe}", None),
        ("GET", f"/orders/{probe}/dispatch-notifications", None),
        ("GET", "/webhook", None),
        ("POST", "/orders", {}),  # an empty body: even a refusal must not say more than 403
    ]
    wrong = []
    for method, endpoint, body in asks:
        headers = {"Idempotency-Key": f"certify-{ctx.target.run_id}-probe"} if method == "POST" else None
        answer = await ctx.http.call(method, endpoint, customer=other, json=body, headers=headers)
        if answer.status != 403 or "items" in answer.fields:
            wrong.append((f"{method} {endpoint} of customer {other} {answer.said}, not 403", answer))
    expect(not wrong, "; ".join(m for m, _ in wrong), *(a for _, a in wrong[:5]))
