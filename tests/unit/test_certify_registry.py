"""The certification registry without a server: selection, fixtures computed once, and what a failure blocks."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from scenarios.certify import registry
from scenarios.certify.registry import REGISTRY, Blocked, Check, CheckFailed, NotObserved, select
from scenarios.certify.rules import rule_catalogue
from scenarios.certify.runner import Fixtures, _run


def ids(checks: list[Check]) -> list[str]:
    return [c.id for c in checks]


def test_a_selector_is_an_id_or_the_start_of_ids_in_any_case() -> None:
    assert ids(select(REGISTRY, ["auth"], [])) == ["AUTH-01", "AUTH-02", "AUTH-03", "AUTH-04"]
    assert set(ids(select(REGISTRY, ["ORDER-0"], ["ORDER-04"]))) == {f"ORDER-0{n}" for n in (1, 2, 3, 5, 6, 7, 8)}
    assert ids(select(REGISTRY, [], [])) == ids(REGISTRY)
    assert "LATENCY-01" not in ids(select(REGISTRY, [], ["LATENCY"]))


def test_a_selector_that_matches_no_check_is_an_error_naming_the_ids() -> None:
    with pytest.raises(ValueError, match=r"no check id starts with AUTHX.*AUTH-01"):
        select(REGISTRY, ["AUTHX"], [])


def test_every_rule_of_the_contract_is_checked_or_says_why_it_cannot_be() -> None:
    rules = {r["id"]: r for r in rule_catalogue()}
    checked = {rule for c in REGISTRY for rule in c.rules}
    assert checked <= set(rules), f"checks name rules the contract does not have: {checked - set(rules)}"
    unaccounted = [i for i, r in rules.items() if i not in checked and "notCheckable" not in r]
    assert not unaccounted, f"rules with neither a check nor a reason: {unaccounted}"
    assert not [i for i, r in rules.items() if i in checked and "notCheckable" in r], "a checked rule says it cannot be"
    assert all(c.rules for c in REGISTRY if c.severity == registry.MANDATORY), "a mandatory check checks no rule"
    assert len(rules) == len(rule_catalogue()), "a rule id is used twice"


def test_check_ids_are_stable_families_numbered_from_01() -> None:
    for check in REGISTRY:
        family, _, number = check.id.rpartition("-")
        assert family.isupper() and number.isdigit() and len(number) == 2, check.id


class Recorder:
    """What the runner reads of the recording client: its exchanges and the secrets to blank."""

    def __init__(self) -> None:
        self.exchanges: list[Any] = []
        self.secrets = {"s3cret-value"}


@pytest.fixture
def fake_fixtures(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Three fixtures: ``base`` counts its calls, ``broken`` is blocked, ``raising`` raises, ``over`` needs broken."""
    calls = {"base": 0}
    made: dict[str, registry.Fixture] = {}

    async def base(ctx: Any) -> str:
        calls["base"] += 1
        return "base value"

    async def broken(ctx: Any, base: str) -> str:
        raise Blocked("the server gave no product")

    async def raising(ctx: Any) -> str:
        raise KeyError("items")

    async def over(ctx: Any, broken: str) -> str:
        return broken

    for function in (base, broken, raising, over):
        made[function.__name__] = registry.Fixture(function.__name__, function, registry._needs(function), "")
    monkeypatch.setattr("scenarios.certify.runner.FIXTURES", made)
    return calls


def a_check(id: str, function: Any) -> Check:
    return Check(id, id, registry.MANDATORY, function, registry._needs(function), ())


async def verdict_of(check: Check, fixtures: Fixtures) -> tuple[str, str]:
    result = await _run(check, SimpleNamespace(http=Recorder()), fixtures)  # type: ignore[arg-type]
    return result.verdict, result.message


async def test_a_fixture_is_computed_once_for_every_check_that_needs_it(fake_fixtures: dict[str, int]) -> None:
    fixtures = Fixtures(SimpleNamespace())  # type: ignore[arg-type]

    async def uses(ctx: Any, base: str) -> None:
        assert base == "base value"

    for n in range(3):
        assert await verdict_of(a_check(f"X-0{n}", uses), fixtures) == ("passed", "")
    assert fake_fixtures["base"] == 1


async def test_a_blocked_fixture_blocks_only_the_checks_that_need_it_and_says_by_what(
    fake_fixtures: dict[str, int],
) -> None:
    fixtures = Fixtures(SimpleNamespace())  # type: ignore[arg-type]

    async def needs_over(ctx: Any, over: str) -> None: ...
    async def needs_base(ctx: Any, base: str) -> None: ...

    verdict, message = await verdict_of(a_check("X-01", needs_over), fixtures)
    assert verdict == "blocked" and message == "needs over: the server gave no product"
    assert await verdict_of(a_check("X-02", needs_base), fixtures) == ("passed", "")


async def test_a_fixture_or_check_that_raises_is_an_error_with_its_traceback_never_a_pass(
    fake_fixtures: dict[str, int],
) -> None:
    fixtures = Fixtures(SimpleNamespace())  # type: ignore[arg-type]

    async def needs_raising(ctx: Any, raising: str) -> None: ...
    async def crashes(ctx: Any) -> None:
        {}["status"]

    verdict, message = await verdict_of(a_check("X-01", needs_raising), fixtures)
    assert verdict == "error" and "fixture raising raised KeyError" in message and "Traceback" in message
    verdict, message = await verdict_of(a_check("X-02", crashes), fixtures)
    assert verdict == "error" and message.startswith("KeyError: 'status'") and "Traceback" in message


async def test_verdicts_of_what_a_check_raises_and_secrets_blanked_from_messages(fake_fixtures: dict[str, int]) -> None:
    fixtures = Fixtures(SimpleNamespace())  # type: ignore[arg-type]

    async def fails(ctx: Any) -> None:
        raise CheckFailed("the answer shows s3cret-value")

    async def waits(ctx: Any) -> None:
        raise NotObserved("waited 600 s for order 1 to be ACCEPTED; seen: NEW")

    assert await verdict_of(a_check("X-01", fails), fixtures) == ("failed", "the answer shows ***")
    assert (await verdict_of(a_check("X-02", waits), fixtures))[0] == "not observed"


def test_an_event_is_redelivered_only_when_the_one_refused_comes_again_with_its_body() -> None:
    from scenarios.certify.fixtures import Hook
    from scenarios.certify.receiver import Delivery

    def hook(*deliveries: tuple[str | None, bytes, int]) -> Hook:
        made = [Delivery(body, "sig", "1", event_id, answered, 0.0) for event_id, body, answered in deliveries]
        return Hook("s", "u", None, None, None, made, 0.0)  # type: ignore[arg-type]

    assert hook(("e1", b"a", 503), ("e1", b"a", 204)).redelivered
    assert not hook(("e1", b"a", 503), ("e1", b"b", 204)).redelivered  # an id reused for another event
    assert not hook((None, b"a", 204), (None, b"a", 204)).redelivered  # no id: nothing to tell apart
    assert not hook(("e1", b"a", 204), ("e1", b"a", 204)).redelivered  # never refused, so never redelivered


def test_a_known_secret_is_blanked_where_it_stands_as_a_word_under_any_name() -> None:
    from contracts.redaction import blank_values

    shown = {"signingKey": "whsec_0123abcd", "detail": "needs orderable: key 0123abcd refused"}
    assert blank_values(shown, ["0123abcd", "order"]) == {
        "signingKey": "whsec_***",
        "detail": "needs orderable: key *** refused",
    }
