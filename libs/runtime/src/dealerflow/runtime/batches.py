"""Set-based reactions: a run of events written at once (the services' batch handlers,
``EventRouter.on_batch``).

A batch handler gets each run of consecutive events of one class in a Kafka batch; its
use case writes each table with one statement for the run (``INSERT ... SELECT FROM
unnest(...) ON CONFLICT ...``), and a lone event is a run of one: there is no second,
per-event form of a reaction.

One statement may touch a row once (``ON CONFLICT DO UPDATE``), and the events of a run
must give the rows they give one after the other. So a run is written in :func:`rounds`:
an event goes to the round after the last one holding an event it shares a key with
(the same customer, contract, repair order or vehicle), and the rounds are written in
order. A run without such repeats (the usual one) is one round. :func:`columns` gives a
round's ``unnest`` arrays. Plain data: no I/O here.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from operator import attrgetter
from typing import Any, TypeVar

T = TypeVar("T")


def rounds(items: Sequence[T], keys: Callable[[T], Iterable[Hashable]]) -> list[list[T]]:
    """``items`` split into rounds, in order: no two items of a round share a key, and an
    item comes in a later round than every earlier item it shares a key with."""
    split: list[list[T]] = []
    last_round: dict[Hashable, int] = {}
    for item in items:
        item_keys = list(keys(item))
        n = max((last_round[k] + 1 for k in item_keys if k in last_round), default=0)
        for k in item_keys:
            last_round[k] = n
        if n == len(split):
            split.append([])
        split[n].append(item)
    return split


def columns(items: Sequence[Any], paths: str, **convert: Callable[[Any], Any]) -> list[list[Any]]:
    """The arrays of an ``unnest(...)`` statement: for each space-separated attribute path
    of ``paths`` (``"vehicle.model"``), its values over ``items``, passed through
    ``convert[<the path's last name>]`` when given."""
    arrays = []
    for path in paths.split():
        values = map(attrgetter(path), items)
        conversion = convert.get(path.rsplit(".", 1)[-1])
        arrays.append(list(map(conversion, values) if conversion else values))
    return arrays
