"""Unit tests of the merge rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from dealerflow.leads.domain_merge import MergeRefused, MergeSide, check_merge, survivor_after

T1, T2 = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 5, tzinfo=UTC)
X, Y = uuid.uuid4(), uuid.uuid4()


def side(
    customer: uuid.UUID = X, status: str = "open", touches: int = 1, at: datetime = T1
) -> MergeSide:
    return MergeSide(uuid.uuid4(), customer, status, touches, at)


def test_refused_merges_say_why() -> None:
    survivor, other = side(), side(Y)
    for merged, reason in [
        ([], "names no lead"),
        ([survivor], "into itself"),
        ([other, other], "twice"),
        ([side(status="merged")], "already merged"),
    ]:
        with pytest.raises(MergeRefused, match=reason):
            check_merge(survivor, merged)
    with pytest.raises(MergeRefused, match="was merged into another"):
        check_merge(side(status="merged"), [other])
    check_merge(survivor, [other, side(status="lost")])  # closed leads may join


def test_the_survivor_adds_the_touches_and_absorbs_the_other_customers() -> None:
    survivor = side(touches=2)
    merged = [side(Y, touches=3, at=T2), side(X), side(Y)]
    after = survivor_after(survivor, merged)
    assert (after.touch_count, after.last_touch_at) == (7, T2)
    assert after.merged_customer_ids == [Y]
