"""The dashboards' event fan-out: bounded in subscribers and in backlog, and free when nobody listens."""

from __future__ import annotations

import re

import orjson
import pytest

from contracts.dashboard import EventHub, TooManySubscribers, _encode, page


def test_a_slow_subscriber_keeps_only_the_newest_events_and_counts_the_ones_it_lost():
    hub = EventHub(backlog=3)
    subscriber = hub.subscribe()
    for n in range(5):
        hub.publish("exchange", n)
    assert [item for _, item in subscriber.events] == [2, 3, 4]
    assert subscriber.dropped == 2
    assert subscriber.wake.is_set()


def test_one_more_dashboard_than_the_limit_is_refused_and_a_closed_one_frees_its_place():
    hub = EventHub(limit=2)
    first = hub.subscribe()
    hub.subscribe()
    with pytest.raises(TooManySubscribers, match="at most 2 dashboards"):
        hub.subscribe()
    hub.unsubscribe(first)
    hub.subscribe()


def test_a_tick_is_one_message_per_kind_and_a_lag_is_said():
    encoded = _encode(
        [("move", 1), ("exchange", 2), ("move", 3), ("skip", 4)],
        7,
        lambda kind, n: None if kind == "skip" else {"n": n},
    )
    messages = [m for m in encoded.decode().split("\n\n") if m]
    parsed = {
        m.split("\n")[0].removeprefix("event: "): orjson.loads(m.split("\n")[1].removeprefix("data: "))
        for m in messages
    }
    assert parsed == {"move": [{"n": 1}, {"n": 3}], "exchange": [{"n": 2}], "lagged": {"dropped": 7}}


def test_closing_the_hub_wakes_every_stream_so_a_stopping_server_does_not_wait_for_open_pages():
    hub = EventHub()
    subscriber = hub.subscribe()
    hub.close()
    assert hub.closed and subscriber.wake.is_set()


def test_a_page_renders_every_value_as_text_and_fetches_nothing():
    answer = page("contracts", "dashboard/base.html.j2", title="<script>alert(1)</script>", app_name="Sim", nav=[])
    assert "<script>alert(1)</script>" not in answer.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text
    assert " src=" not in answer.text
    assert re.findall(r"<link [^>]*>", answer.text) == ['<link rel="icon" href="data:,">']  # not even a favicon
    assert "default-src 'self'" in answer.headers["Content-Security-Policy"]


def test_a_subscriber_that_names_its_kinds_gets_only_those_and_others_are_not_wanted():
    hub = EventHub()
    orders = hub.subscribe(frozenset({"order"}))
    hub.publish("exchange", 1)
    hub.publish("order", 2)
    assert list(orders.events) == [("order", 2)]
    assert hub.wants("order") and not hub.wants("exchange")
    hub.subscribe()
    assert hub.wants("exchange")
