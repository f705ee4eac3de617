"""A listing's pages: an item whose key came before, on the same page or an earlier one, is told by its place."""

from __future__ import annotations

from portal.adapters.supplier_answers import repeats


def page(*keys: str) -> dict:
    return {"items": [{"productNumber": key} for key in keys]}


def test_new_keys_pass_and_join_the_seen() -> None:
    seen = {"SP1"}
    assert repeats(page("SP2", "SP3"), "productNumber", seen) == []
    assert seen == {"SP1", "SP2", "SP3"}


def test_a_key_twice_on_one_page_is_told_at_its_second_place() -> None:
    found = repeats(page("SP1", "SP2", "SP1"), "productNumber", set())
    assert [(v.pointer, v.message) for v in found] == [("/items/2/productNumber", "SP1 came before")]


def test_a_key_from_an_earlier_page_is_told_wherever_it_comes_again() -> None:
    found = repeats(page("SP3", "SP1"), "productNumber", {"SP1", "SP2"})
    assert [v.pointer for v in found] == ["/items/1/productNumber"]
