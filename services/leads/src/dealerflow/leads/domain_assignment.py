"""Assigning leads to the dealer's available consultants: in turn, or by open load.

Who the consultants are, who is on duty and who is away is the dealer's configuration
(``DealerPeople``, owned by the dealers service); the one piece of state leads keeps is
the last consultant a lead went to, per dealer. Round robin continues after it, and open
load (the fewest open leads wins) breaks its ties the same way, so equal loads rotate.

The first-contact SLA that watches an assignment (warn at 80 %, escalate at a breach,
reassign after the second) is the notifier's rule; leads only reassigns when asked.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date
from typing import Literal

from dealerflow.policy import DealerPeople, StaffRole

#: ``policy.leads.assignment_strategy``.
AssignmentStrategy = Literal["round_robin", "open_load"]


def available_consultants(
    people: DealerPeople, on: date, exclude: Collection[str] = ()
) -> list[str]:
    """Ids of the dealer's consultants available on ``on`` (dealer-local: on duty and not
    away), without ``exclude``; sorted, so the rotation does not depend on listing order."""
    return sorted(
        {
            member.staff_id
            for member in people.with_role(StaffRole.CONSULTANT)
            if member.available(on) and member.staff_id not in exclude
        }
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


def choose_consultant(
    strategy: AssignmentStrategy,
    candidate_ids: Iterable[str],
    last_assigned_id: str | None,
    open_leads: Mapping[str, int] | None = None,
) -> str | None:
    """Who gets the next lead among ``candidate_ids`` (None when there is nobody).

    ``round_robin``: the one after ``last_assigned_id``. ``open_load``: the one with the
    fewest open leads (``open_leads``, missing = none), ties in round-robin order.
    """
    candidates = set(candidate_ids)
    if strategy == "open_load" and candidates:
        load = open_leads or {}
        fewest = min(load.get(c, 0) for c in candidates)
        candidates = {c for c in candidates if load.get(c, 0) == fewest}
    return next_round_robin(candidates, last_assigned_id)
