"""Assigning leads to on-duty consultants, and the first-contact SLA rules.

The first-contact SLA (DOMAIN.md 1): online leads within 15 minutes of business hours;
walk-ins and calls get a thank-you message within 2 hours and a first call within 24
hours. Warn the consultant at 80% of the SLA, escalate to the sales manager at a breach,
reassign after a second breach. Business-hours arithmetic belongs to the dealer's
business calendar (dealerflow.policy.BusinessCalendar); these rules only say which
clocks run and what a breach triggers.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from dealerflow.contracts.enums import LeadChannel
from dealerflow.leads.domain_grading import DEFAULT_LEAD_POLICY
from dealerflow.policy import LeadPolicy, SlaSpec


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


def least_open_load(
    consultants: Iterable[Consultant],
    loads: Mapping[str, int],
    exclude: Collection[str] = (),
) -> str | None:
    """The on-duty consultant with the fewest open leads (missing from `loads` = 0).

    Ties go to the lowest consultant id so the choice is deterministic. `exclude` keeps a
    lead from being reassigned to the consultant it is taken from.
    """
    candidates = _candidates(consultants, exclude)
    if not candidates:
        return None
    return min(candidates, key=lambda cid: (loads.get(cid, 0), cid))


class SlaTargetKind(StrEnum):
    FIRST_CONTACT = "first_contact"  # online: first contact; walk-in/phone: first call
    THANK_YOU_MESSAGE = "thank_you_message"  # walk-ins and calls only


@dataclass(frozen=True)
class SlaTarget:
    kind: SlaTargetKind
    spec: SlaSpec  # duration and clock mode (wall time or business hours)


def first_contact_sla_targets(
    channel: LeadChannel | str, lead_policy: LeadPolicy = DEFAULT_LEAD_POLICY
) -> tuple[SlaTarget, ...]:
    """Which first-contact clocks start for a new lead that came in on `channel`.

    From the dealer's LeadPolicy: online leads get one first-contact clock (15 minutes of
    business hours by default); walk-ins and calls a thank-you message clock (2 h) and a
    first-call clock (24 h). Unknown channels get the online SLA, the strictest.
    """
    sla = lead_policy.first_contact[lead_policy.class_of_channel(str(channel))]
    targets: list[SlaTarget] = []
    if sla.thank_you_message is not None:
        targets.append(SlaTarget(SlaTargetKind.THANK_YOU_MESSAGE, sla.thank_you_message))
    targets.append(SlaTarget(SlaTargetKind.FIRST_CONTACT, sla.first_contact))
    return tuple(targets)


def sla_warning_offset(within: timedelta, warn_ratio: float = 0.8) -> timedelta:
    """How far into an SLA the consultant is warned (LeadPolicy.warn_at_fraction, 0.8).

    Add it to the clock's start the same way as the SLA itself (in business time when
    the target counts business hours).
    """
    if not 0 < warn_ratio < 1:
        raise ValueError("warn_ratio must be between 0 and 1 (exclusive)")
    return within * warn_ratio


class SlaBreachAction(StrEnum):
    ESCALATE_TO_MANAGER = "escalate_to_manager"
    REASSIGN = "reassign"


def sla_breach_actions(
    breach_count: int, reassign_at_breach: int = 2
) -> frozenset[SlaBreachAction]:
    """What the `breach_count`-th first-contact SLA breach of a lead triggers.

    Every breach escalates to the sales manager; from the second breach on
    (LeadPolicy.reassign_after_breaches) the lead is also reassigned to another on-duty
    consultant.
    """
    if breach_count < 1:
        raise ValueError("breach_count starts at 1")
    if breach_count >= reassign_at_breach:
        return frozenset({SlaBreachAction.ESCALATE_TO_MANAGER, SlaBreachAction.REASSIGN})
    return frozenset({SlaBreachAction.ESCALATE_TO_MANAGER})
