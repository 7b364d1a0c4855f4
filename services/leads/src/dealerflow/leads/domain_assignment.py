"""Assigning leads to on-duty consultants: round robin, its state the last pick.

The first-contact SLA that watches an assignment (warn at 80 %, escalate at a breach,
reassign after the second) is the notifier's rule; leads only reassigns when asked.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Consultant:
    """A sales consultant of the dealer whose lead is being assigned."""

    consultant_id: str
    on_duty: bool = True


def _candidates(consultants: Iterable[Consultant], exclude: Collection[str]) -> list[str]:
    # Sorted and de-duplicated so round-robin order does not depend on the caller's order.
    return sorted(
        {c.consultant_id for c in consultants if c.on_duty and c.consultant_id not in exclude}
    )


def next_round_robin(candidate_ids: Iterable[str], last_assigned_id: str | None) -> str | None:
    """The consultant after `last_assigned_id` in id order, wrapping around.

    The only state round-robin needs is the last assigned id (store it per dealer), which
    keeps the rotation fair when consultants go on or off duty between assignments.
    """
    ordered = sorted(set(candidate_ids))
    if not ordered:
        return None
    if last_assigned_id is not None:
        for consultant_id in ordered:
            if consultant_id > last_assigned_id:
                return consultant_id
    return ordered[0]


class RoundRobinAssigner:
    """Round-robin over on-duty consultants; `last_assigned_id` is its persistent state."""

    def __init__(self, last_assigned_id: str | None = None) -> None:
        self.last_assigned_id = last_assigned_id

    def assign(
        self, consultants: Iterable[Consultant], exclude: Collection[str] = ()
    ) -> str | None:
        """Pick the next on-duty consultant not in `exclude`; None if nobody is on duty."""
        chosen = next_round_robin(_candidates(consultants, exclude), self.last_assigned_id)
        if chosen is not None:
            self.last_assigned_id = chosen
        return chosen
