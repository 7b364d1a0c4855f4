"""Merging duplicate leads of one person (e.g. a second phone number): which merges are
allowed, and what the surviving lead becomes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dealerflow.leads.domain import LeadRejected

#: A merged lead's phone becomes this prefix + its id (no E.164 number starts with it).
MERGED_PHONE_PREFIX = "merged:"


class MergeRefused(LeadRejected):
    """A merge the rules do not allow (the reason says which)."""


@dataclass(frozen=True)
class MergeSide:
    """What the rules need of a lead taking part in a merge."""

    lead_id: uuid.UUID
    customer_id: uuid.UUID
    status: str
    touch_count: int
    last_touch_at: datetime


def check_merge(survivor: MergeSide, merged: Sequence[MergeSide]) -> None:
    """Refuse a merge of nothing, of a lead into itself, of one lead twice, or of a lead
    already merged (into this survivor or another); the survivor must not be merged
    itself. Closed leads (lost, delivered) may be merged: their history joins."""
    if not merged:
        raise MergeRefused("merged_lead_ids names no lead")
    ids = [side.lead_id for side in merged]
    if survivor.lead_id in ids:
        raise MergeRefused("a lead cannot be merged into itself")
    if len(set(ids)) != len(ids):
        raise MergeRefused("merged_lead_ids names a lead twice")
    if survivor.status == "merged":
        raise MergeRefused(f"lead {survivor.lead_id} was merged into another lead")
    done = [str(side.lead_id) for side in merged if side.status == "merged"]
    if done:
        raise MergeRefused(f"already merged: {', '.join(done)}")


@dataclass(frozen=True)
class Survivor:
    """The surviving lead's counters after the merge, and the customer ids it absorbs."""

    touch_count: int
    last_touch_at: datetime
    merged_customer_ids: list[uuid.UUID]


def survivor_after(survivor: MergeSide, merged: Sequence[MergeSide]) -> Survivor:
    """Touches add up, the latest touch wins, and every other customer id of the merged
    leads now denotes the survivor's customer (in the order given, once each)."""
    others: list[uuid.UUID] = []
    for side in merged:
        if side.customer_id != survivor.customer_id and side.customer_id not in others:
            others.append(side.customer_id)
    return Survivor(
        touch_count=survivor.touch_count + sum(side.touch_count for side in merged),
        last_touch_at=max([survivor.last_touch_at, *(side.last_touch_at for side in merged)]),
        merged_customer_ids=others,
    )
