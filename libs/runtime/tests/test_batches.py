"""Rounds of a set-based reaction (``dealerflow.runtime.batches``)."""

from __future__ import annotations

from dealerflow.runtime.batches import columns, rounds


def test_rounds_keep_each_key_once_per_round_and_in_order() -> None:
    items = [("a", 1), ("b", 1), ("a", 2), ("c", 1), ("a", 3), ("b", 2)]
    assert rounds(items, lambda item: [item[0]]) == [
        [("a", 1), ("b", 1), ("c", 1)],
        [("a", 2), ("b", 2)],
        [("a", 3)],
    ]
    # two keys: an item waits for every earlier item it shares one with
    pairs = [("o1", "v"), ("o2", "w"), ("o3", "v"), ("o2", "x"), ("o4", "x")]
    assert rounds(pairs, lambda p: p) == [
        [("o1", "v"), ("o2", "w")],
        [("o3", "v"), ("o2", "x")],
        [("o4", "x")],
    ]
    assert rounds([], lambda p: [p]) == []


def test_columns_are_the_unnest_arrays_of_the_items() -> None:
    class Row:
        def __init__(self, a: int, b: str) -> None:
            self.a, self.b = a, b

    items = [Row(1, "x"), Row(2, "y")]
    assert columns(items, "a b", b=str.upper) == [[1, 2], ["X", "Y"]]
