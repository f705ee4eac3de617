"""The auth checks: good credentials get in, wrong or missing ones get 401, another customer 403."""

from __future__ import annotations

from contracts.wire import basic_authorization
from scenarios.certify.checks.judging import is_problem
from scenarios.certify.recorder import Exchange
from scenarios.certify.registry import CheckSkipped, Context, check, expect

GARBAGE_TOKEN = "certify-garbage-token-0000000000000000"


@check("AUTH-01", "Good credentials reach the customer's resources", rules=["AUTH-R1", "AUTH-R2"])
async def good_credentials(ctx: Context) -> None:
    answer = await ctx.http.call("GET", "/products", params={"page": "1", "size": "1"})
    login = next((e for e in ctx.http.exchanges if e.endpoint == "POST /auth"), None)
    if ctx.http.credentials.method == "token":
        expect(login is not None and login.status == 200, "POST /auth refused the customer's own password", login)
    expect(answer.status == 200, f"the customer's product list answered {answer.status}, not 200", answer)


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
    expect(answer.status == 401, f"wrong credentials got {answer.status}, not 401", answer)
    expect(is_problem(answer), "the 401 is not application/problem+json", answer)


@check("AUTH-03", "A garbage bearer token and no credentials at all get 401", rules=["AUTH-R4", "AUTH-R5"])
async def garbage_token(ctx: Context) -> None:
    garbage = await ctx.http.call(
        "GET", "/products", auth={"Authorization": f"Bearer {GARBAGE_TOKEN}"}, params={"size": "1"}
    )
    expect(garbage.status == 401, f"a garbage bearer token got {garbage.status}, not 401", garbage)
    nothing = await ctx.http.call("GET", "/products", auth={}, params={"size": "1"})
    expect(nothing.status == 401, f"a request without credentials got {nothing.status}, not 401", nothing)


@check("AUTH-04", "Another customer's path gets 403 and no data", rules=["AUTH-R6"])
async def other_customer(ctx: Context, access: Exchange) -> None:
    other = ctx.target.other_customer
    if not other:
        raise CheckSkipped("no --other-customer-number was given")
    for endpoint in ("/products", "/orders"):
        answer = await ctx.http.call("GET", endpoint, customer=other)
        expect(answer.status == 403, f"GET {endpoint} of customer {other} answered {answer.status}, not 403", answer)
        expect("items" not in answer.fields, f"GET {endpoint} of customer {other} shows data", answer)
