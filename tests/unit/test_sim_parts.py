"""The simulator's pure parts: profile durations, the catalog's pages and changes, redaction."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
import yaml

from contracts import ContractViolation, contracts
from contracts.redaction import redact_headers, redact_json, redact_query
from supplier_sim.catalog import Catalog, CatalogError, changed
from supplier_sim.catalog_sources import generate
from supplier_sim.profile import Delay, load_profile, parse_profile, seconds
from supplier_sim.seeding import draw, rng_for


def test_durations_read_as_seconds() -> None:
    assert [seconds(v) for v in (45, "250ms", "45s", "30m", "10h", "2d")] == [45, 0.25, 45, 1800, 36000, 172800]
    with pytest.raises(ValueError, match="duration"):
        seconds("soon")
    assert Delay.parse({"min": "1m", "max": "2m"}) == Delay(60_000, 120_000)


def test_a_log_normal_delay_is_drawn_from_the_seed_around_its_median() -> None:
    delay = Delay.parse({"median": "40ms", "sigma": 0.8})
    assert delay == Delay(0, 60_000, 40, 0.8)  # capped at 60 s when no max is given
    draws = [draw(delay, rng_for(7, "latency", n)) for n in range(2001)]
    assert draws == [draw(delay, rng_for(7, "latency", n)) for n in range(2001)]
    assert 36 <= sorted(draws)[1000] <= 44 and min(draws) < 15 and max(draws) > 150


def test_a_log_normal_draw_never_passes_its_max() -> None:
    delay = Delay.parse({"median": "1s", "sigma": 3, "max": "2s"})
    draws = [draw(delay, rng_for(1, n)) for n in range(500)]
    assert max(draws) == 2000 and min(draws) >= 0
    with pytest.raises(ValueError, match="below its median"):
        Delay.parse({"median": "2m", "sigma": 1})
    with pytest.raises(ContractViolation, match="/faults/0/latency"):
        parse_profile({"faults": [{"kind": "late", "latency": {"median": "0ms", "sigma": 1}}]}, base=None)


def test_the_default_profile_has_a_customer_for_each_auth_method() -> None:
    profile = load_profile()
    assert {c.auth for c in profile.customers} == {"basic", "token", "api-key"}
    assert profile.token_lifetime_ms == 10 * 3600 * 1000 and profile.catalog_size == 500


def test_a_profile_error_names_the_field() -> None:
    with pytest.raises(ContractViolation, match="/catalog/size"):
        parse_profile({"catalog": {"size": "many"}}, base=None)
    with pytest.raises(ContractViolation, match=r"/customers/1/username: is used by another customer, /customers/0$"):
        parse_profile(
            {
                "customers": [
                    {"number": "1", "auth": "basic", "username": "x", "password": "p"},
                    {"number": "2", "auth": "token", "username": "x", "password": "q"},
                ]
            },
            base=None,
        )


def test_the_same_seed_generates_the_same_catalog_and_another_seed_another() -> None:
    profile = parse_profile({"catalog": {"size": 50}}, base=None)
    assert generate(profile, 3) == generate(profile, 3)
    assert generate(profile, 3) != generate(profile, 4)
    for product in generate(profile, 3):
        contracts().validate("product", product)


def test_a_page_is_the_slice_in_product_number_order_with_totals() -> None:
    products = generate(parse_profile({"catalog": {"size": 25}}, base=None), 1)
    catalog = Catalog(list(reversed(products)))
    page = orjson.loads(catalog.page(3, 10))
    assert (page["currentPage"], page["totalPages"], page["totalItems"]) == (3, 3, 25)
    assert [p["productNumber"] for p in page["items"]] == sorted(p["productNumber"] for p in products)[20:]
    contracts().validate("product-page", page)


def test_changes_update_the_product_and_its_updated_at() -> None:
    product = generate(parse_profile({"catalog": {"size": 1}}, base=None), 1)[0]
    rng = random.Random(1)
    price = changed(product, "price", 1_767_600_000_000, rng, None, taken=set())
    assert price["purchasePrice"] != product["purchasePrice"] and price["updatedAt"] == "2026-01-05T08:00:00.000Z"
    barcode = changed(product, "barcode", 0, rng, None, taken=set(product["barcodes"]))
    assert len(barcode["barcodes"]) == len(product["barcodes"]) + 1
    assert changed(product, "withdraw", 0, rng, None, set())["active"] is False
    with pytest.raises(CatalogError, match="check digit"):
        changed(product, "barcode", 0, rng, "4006381333932", set())
    assert product == generate(parse_profile({"catalog": {"size": 1}}, base=None), 1)[0]  # the original is untouched


def test_redaction_blanks_every_secret_field_and_header() -> None:
    body = {"username": "u", "password": "p", "nested": [{"token": "t", "apiKey": "k", "secret": "s", "keep": 1}]}
    assert redact_json(body) == {
        "username": "u",
        "password": "***",
        "nested": [{"token": "***", "apiKey": "***", "secret": "***", "keep": 1}],
    }
    headers = redact_headers({"Authorization": "Bearer abc", "X-Api-Key": "k", "Idempotency-Key": "i"})
    assert headers == {"Authorization": "Bearer ***", "X-Api-Key": "***", "Idempotency-Key": "i"}


def test_a_query_string_keeps_its_parameters_but_no_secret_value() -> None:
    assert redact_query("page=1&size=5") == "page=1&size=5"
    assert redact_query("apiKey=k-123&page=2&Token=t%2F1") == "apiKey=***&page=2&Token=***"


def test_the_readme_profile_example_is_a_valid_profile() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    example = readme.split("### Behaviour profile", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    profile = parse_profile(yaml.safe_load(example), base=None)
    assert profile.customers[0].number == "20001" and profile.minimum_order_value == Decimal("25.00")


def test_the_readme_fault_rules_example_is_a_valid_profile() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    example = readme.split("Four more kinds hit webhook events", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    profile = parse_profile(yaml.safe_load(example), base=None)
    assert [rule["kind"] for rule in profile.faults] == ["latency", "reorder", "withhold"]


def test_every_misbehave_switch_is_in_the_contract_the_readme_and_the_settings() -> None:
    switches = contracts().schemas["sim-profile"]["properties"]["misbehave"]["properties"]
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    table = readme.split("| switch | what the answer does |", 1)[1].split("\n\n", 1)[0]
    rows = [line.split("`")[1] for line in table.splitlines()[2:]]
    assert rows == list(switches) and all(s["description"] for s in switches.values())
    every = parse_profile({"misbehave": dict.fromkeys(switches, True)}, base=None).misbehave
    assert all(getattr(every, field) for field in every.__dataclass_fields__)
    assert len(every.__dataclass_fields__) == len(switches) == 37


def test_a_curl_copy_encodes_the_path_leaves_out_a_refused_body_and_the_browsers_cookie():
    from supplier_sim.dashboard import curl
    from supplier_sim.journal import Exchange

    headers = ((b"Cookie", b"sim_admin_token=secret-admin-token"), (b"Content-Type", b"application/json"))
    refused = Exchange(
        1, 0, "POST", "/api/v1/customers/10001/orders/a b", "", headers, b'{"password": "x"', 400, (), None, None, 1.0
    )
    copied = curl(refused._replace(body_refused=True), "http://127.0.0.1:8080")
    assert " http://127.0.0.1:8080/api/v1/customers/10001/orders/a%20b " in copied
    assert "--data-raw" not in copied and "not kept" in copied
    assert "Cookie" not in copied and "secret-admin-token" not in copied
    kept = curl(refused._replace(request_body=b'{"a": 1}'), "http://127.0.0.1:8080")
    assert "--data-raw '{\"a\":1}'" in kept
