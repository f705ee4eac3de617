"""`orderportal contracts validate` judges a file by the simulator's own business rules, after its schema."""

from __future__ import annotations

import copy

import orjson
from click.testing import CliRunner

import supplier_sim.api
from contracts import business
from contracts.cli import contracts_group

LINE = {"lineNumber": 1, "productNumber": "P-1", "containers": 3, "containerAmount": 12, "quantity": 36}
REQUEST = {"orderNumber": "SO-1", "orgUnit": "OU-1", "warehouse": {"id": "W1", "name": "Main"}, "lines": [LINE]}
ORDER = {
    **REQUEST,
    "orderId": "o-1",
    "status": "ACCEPTED",
    "statusHistory": [
        {"status": "NEW", "at": "2026-01-01T10:00:00.000Z"},
        {"status": "PROCESSED", "at": "2026-01-01T10:05:00.000Z"},
        {"status": "ACCEPTED", "at": "2026-01-01T11:00:00.000Z"},
    ],
    "createdAt": "2026-01-01T10:00:00.000Z",
    "updatedAt": "2026-01-01T11:00:00.000Z",
}


def validate(name: str, instance: object) -> tuple[int, str]:
    result = CliRunner().invoke(contracts_group, ["validate", name, "-"], input=orjson.dumps(instance).decode())
    return result.exit_code, result.output


def test_a_valid_order_request_and_order_pass_schema_and_rules():
    assert validate("order-request", REQUEST) == (0, "<stdin>: valid order-request\n")
    assert validate("order", ORDER)[0] == 0


def test_an_order_request_whose_quantity_is_not_containers_times_the_amount_fails_as_the_simulator_refuses_it():
    bad = copy.deepcopy(REQUEST)
    bad["lines"].append({**LINE, "quantity": 35})  # and line number 1 again
    code, output = validate("order-request", bad)
    assert code == 1
    assert "/lines/1/quantity: must be containers x containerAmount" in output
    assert "/lines/1/lineNumber: is used by another line" in output
    assert "35" not in output  # a rule and a pointer, never the value sent


def test_an_orders_status_history_must_start_new_move_legally_keep_time_and_end_at_its_status():
    bad = copy.deepcopy(ORDER)
    bad["statusHistory"][1] = {"status": "ACCEPTED", "at": "2026-01-01T09:00:00.000Z"}
    bad["status"] = "PROCESSED"
    code, output = validate("order", bad)
    assert code == 1
    assert "/statusHistory/1/status: NEW may not move to ACCEPTED" in output
    assert "/statusHistory/1/at: must not be earlier than the entry before it" in output
    assert "/status: must be the status of the last statusHistory entry" in output


def test_an_order_page_names_the_item_that_breaks_a_rule():
    bad = copy.deepcopy(ORDER)
    bad["lines"][0]["quantity"] = 1
    page = {"items": [ORDER, bad], "page": 1, "size": 2, "total": 2}
    assert business.order_page(page) == [
        business.Violation("/items/1/lines/0/quantity", "must be containers x containerAmount")
    ]


def test_a_file_that_breaks_its_schema_is_not_also_judged_by_rules_that_read_missing_fields():
    code, output = validate("order-request", {"lines": [{}]})
    assert code == 1
    assert "Traceback" not in output


def test_the_simulator_refuses_orders_by_the_same_rules():
    assert supplier_sim.api.order_request is business.order_request
