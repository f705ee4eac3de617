"""The contracts: every schema loads, errors name every failing field, the OpenAPI document is valid."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate as validate_openapi

import contracts as contracts_package
from contracts import ContractViolation, contracts
from contracts.gtin import complete, is_valid_gtin
from contracts.statuses import LEGAL_MOVES, illegal_step, is_legal_move
from contracts.wire import format_timestamp, parse_timestamp

PRODUCT = {
    "productNumber": "SP1",
    "name": "Water",
    "barcodes": ["4006381333931"],
    "containerAmount": 6,
    "purchasePrice": {"amount": "0.45", "currency": "EUR"},
    "taxRate": "7.00",
    "active": True,
    "updatedAt": "2026-01-05T08:00:00.000Z",
}


OPENAPI = Path(contracts_package.__file__).parent / "openapi.yaml"


def test_the_openapi_document_is_valid_openapi_3_1_and_every_reference_resolves() -> None:
    validate_openapi(yaml.safe_load(OPENAPI.read_text("utf-8")), base_uri=OPENAPI.as_uri())


def test_a_violation_lists_every_failing_pointer_not_just_the_first() -> None:
    bad = {**PRODUCT, "containerAmount": 0, "taxRate": 19, "colour": "blue"}
    del bad["name"]
    with pytest.raises(ContractViolation) as caught:
        contracts().validate("product", bad)
    assert [v.pointer for v in caught.value.violations] == ["/colour", "/containerAmount", "/name", "/taxRate"]


def test_a_rule_broken_by_an_object_that_holds_a_secret_never_quotes_it() -> None:
    secret = "rotated-pass-9f31c2"
    violations = contracts().errors("sim-credentials-change", {"password": secret, "apiKey": "key-0123456789ab"})
    assert violations and all(secret not in v.message for v in violations)
    assert [v.pointer for v in violations] == [""]


def test_a_valid_product_passes_and_a_rejection_needs_its_reason() -> None:
    contracts().validate("product", PRODUCT)
    assert contracts().is_valid(
        "status-change", {"status": "REJECTED", "at": "2026-01-05T08:00:00Z", "reasonCode": "OTHER"}
    )
    assert not contracts().is_valid("status-change", {"status": "REJECTED", "at": "2026-01-05T08:00:00Z"})
    assert not contracts().is_valid(
        "status-change", {"status": "NEW", "at": "2026-01-05T08:00:00Z", "reasonCode": "OTHER"}
    )


def test_timestamps_must_be_utc_and_money_a_decimal_string() -> None:
    assert not contracts().is_valid("product", {**PRODUCT, "updatedAt": "2026-01-05T09:00:00+01:00"})
    assert not contracts().is_valid("product", {**PRODUCT, "purchasePrice": {"amount": 0.45, "currency": "EUR"}})


def test_an_unknown_contract_name_says_which_exist() -> None:
    with pytest.raises(KeyError, match="known: auth-request"):
        contracts().validate("invoice", {})


@pytest.mark.parametrize("code", ["4006381333931", "96385074", "036000291452", "10012345678902"])
def test_real_gtins_have_correct_check_digits(code: str) -> None:
    assert is_valid_gtin(code) and complete(code[:-1]) == code


@pytest.mark.parametrize("code", ["4006381333932", "400638133393", "40063813339x1", ""])
def test_a_wrong_check_digit_or_length_is_not_a_gtin(code: str) -> None:
    assert not is_valid_gtin(code)


def test_timestamps_round_trip_at_millisecond_precision_in_utc() -> None:
    ms = parse_timestamp("2026-01-05T09:30:00.250+01:00")
    assert format_timestamp(ms) == "2026-01-05T08:30:00.250Z"
    with pytest.raises(ValueError):
        parse_timestamp("2026-01-05T08:30:00")


def test_only_the_four_legal_moves_exist_and_final_statuses_have_none() -> None:
    legal = {(a, b) for a, moves in LEGAL_MOVES.items() for b in moves}
    assert legal == {("NEW", "PROCESSED"), ("NEW", "REJECTED"), ("PROCESSED", "ACCEPTED"), ("PROCESSED", "REJECTED")}
    assert not is_legal_move("ACCEPTED", "REJECTED")
    assert illegal_step(["NEW", "REJECTED"]) is None
    assert illegal_step(["NEW", "ACCEPTED"]) == (1, "NEW", "ACCEPTED")
    assert illegal_step(["PROCESSED"]) == (0, "", "PROCESSED")


@pytest.mark.parametrize("schema", ["auth-request", "webhook-registration", "sim-credentials-change", "product"])
def test_no_validation_message_quotes_a_value_of_the_instance(schema: str) -> None:
    secret = "quoted-value-3c9e1f"
    shapes = [secret, [secret], {"x": secret}, secret * 30, 12.5, [[{"password": secret}]]]
    instances = [
        secret,
        [secret],
        {"a": secret},
        *({key: shape} for key in ("username", "url", "name") for shape in shapes),
    ]
    instances += [{**PRODUCT, field: shape} for field in PRODUCT for shape in shapes]
    messages = [v.message for i in instances for v in contracts().errors(schema, i)]
    assert messages and not [m for m in messages if secret in m or "12.5" in m]


def test_an_instance_nested_past_the_validators_limit_is_a_violation_not_an_exception() -> None:
    deep: object = "x"
    for _ in range(300):
        deep = [deep]
    assert not contracts().is_valid("product", deep)
    assert [(v.pointer, "deeper than 64" in v.message) for v in contracts().errors("product", deep)] == [("", True)]


def test_a_webhook_events_message_is_bounded_as_the_status_history_entry_it_repeats() -> None:
    entry = {"status": "REJECTED", "at": "2026-01-05T08:00:00.000Z", "reasonCode": "OTHER"}
    data = {"orderId": "ORD1", "orderNumber": "SO-1", "previousStatus": "NEW", **entry}
    event = {"eventId": "E1", "type": "order.status_changed", "occurredAt": entry["at"], "data": data}
    for length, valid in ((2000, True), (2001, False)):
        assert contracts().is_valid("status-change", {**entry, "message": "m" * length}) is valid
        assert contracts().is_valid("webhook-event", {**event, "data": {**data, "message": "m" * length}}) is valid
