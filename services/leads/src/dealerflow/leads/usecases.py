"""Use cases of the leads service: (re)assignment, the consultants' view and the lead
queries, plus
what every use case shares (the domain exceptions, loading a lead, the closed check).

Each use case takes the :class:`~dealerflow.runtime.context.UseCaseContext` of its
transaction (HTTP request, consumed record or event) and a frozen command, applies the
pure rules from ``domain`` and writes through the repositories; events go to the outbox
with ``uc.publish`` in the same transaction. Refusals are domain exceptions: ``problems``
maps them to RFC 9457 answers, the inbound consumer dead-letters with their message.
Submissions are in ``usecases_submission``, the lead's life after creation in
``usecases_lifecycle`` and ``usecases_invitation``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from dealerflow.contracts.enums import AssignmentReason
from dealerflow.contracts.events.leads import LeadAssigned
from dealerflow.leads import repository as repo
from dealerflow.leads import repository_activity as activity
from dealerflow.leads.domain import (
    CLOSED_GRADES,
    AssignmentStrategy,
    Grade,
    LeadRejected,
    available_consultants,
    choose_consultant,
    is_sales_follow_up_allowed,
)
from dealerflow.leads.domain_grading import expected_order_by
from dealerflow.leads.records import AssignmentRecord, LeadHistory, LeadRecord
from dealerflow.leads.settings import LeadsSettings
from dealerflow.policy import StaffRole
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.pagination import page_of

#: The use-case context every leads use case takes (HTTP, consumed record or event).
Uc = UseCaseContext[LeadsSettings]

#: Lead status by grade (the list filter ``status``).
STATUS_BY_GRADE = {
    Grade.N: "open",
    Grade.H: "open",
    Grade.A: "open",
    Grade.B: "open",
    Grade.C: "open",
    Grade.O: "converted",
    Grade.D: "delivered",
    Grade.F: "lost",
}


# --- domain exceptions (answered through problems.PROBLEMS) ------------------------------


class LeadNotFound(LookupError):
    """No such lead at this dealer (another dealer's lead is not visible)."""

    def __init__(self, lead_id: uuid.UUID) -> None:
        super().__init__(f"No lead with id {lead_id}")


class LeadConflict(Exception):
    """The request contradicts the lead's current state."""


class LeadClosed(LeadConflict):
    """A delivered (D) or lost (F) lead takes no further sales actions."""

    def __init__(self, lead: LeadRecord) -> None:
        super().__init__(f"lead {lead.lead_id} is closed (grade {lead.grade})")


class NoConsultantOnDuty(LeadConflict):
    """The dealer has nobody (else) available: no consultant on duty and not away."""


# --- shared steps -----------------------------------------------------------------------


async def load_lead(uc: Uc, dealer_id: str, lead_id: uuid.UUID) -> LeadRecord:
    """The dealer's lead, locked for the rest of the transaction; LeadNotFound else."""
    lead = await repo.get_lead(uc.conn, dealer_id, lead_id, for_update=True)
    if lead is None:
        raise LeadNotFound(lead_id)
    return lead


async def load_open_lead(uc: Uc, dealer_id: str, lead_id: uuid.UUID) -> LeadRecord:
    """:func:`load_lead`, refused with LeadClosed for a delivered or lost lead."""
    lead = await load_lead(uc, dealer_id, lead_id)
    if lead.grade in CLOSED_GRADES:
        raise LeadClosed(lead)
    return lead


def staff_for(lead: LeadRecord, given: str | None) -> str:
    """The staff member acting: the one named, else the lead's consultant."""
    consultant = given or lead.consultant_id
    if consultant is None:
        raise LeadRejected("consultant_id is required: the lead has no consultant assigned")
    return consultant


async def dealer_today(uc: Uc, dealer_id: str) -> date:
    """Today's date at the dealer (its calendar's time zone)."""
    policy = await uc.policy(dealer_id)
    return uc.now.astimezone(policy.calendar.tz).date()


# --- assignment and the consultants -----------------------------------------------------


async def next_consultant(
    uc: Uc, dealer_id: str, exclude: Sequence[str] = (), *, move_pointer: bool = True
) -> str | None:
    """Who gets a lead now, per the dealer's assignment strategy, among its consultants
    available today (None: nobody); moves the dealer's round-robin pointer to them
    (``move_pointer=False``: the caller's next statement does, the pointer's row being
    locked until the transaction ends, see ``repository.insert_new_lead``)."""
    dealer = await uc.dealer(dealer_id)
    candidates = available_consultants(dealer.people, await dealer_today(uc, dealer_id), exclude)
    if not candidates:
        return None
    # The pointer's row lock serialises assignments per dealer, so the open-lead counts
    # read after it include every lead assigned before.
    last = await activity.lock_rotation(uc.conn, dealer_id, uc.now)
    strategy = dealer.policy.leads.assignment_strategy
    load = (
        await activity.open_leads_by_consultant(uc.conn, dealer_id, candidates)
        if strategy == "open_load"
        else {}
    )
    chosen = choose_consultant(strategy, candidates, last, load)
    if chosen is not None and move_pointer:
        await activity.save_rotation(uc.conn, dealer_id, chosen, uc.now)
    return chosen


@dataclass(frozen=True)
class ConsultantLoad:
    """One of the dealer's consultants (from its people) and the open leads they hold."""

    consultant_id: str
    name: str
    on_duty: bool
    away_from: date | None
    away_until: date | None
    replaced_by: str | None
    #: gets new leads today (on duty and not away)
    available: bool
    open_leads: int


@dataclass(frozen=True)
class ConsultantsView:
    """The dealer's consultants on ``on`` (dealer-local) as assignment sees them."""

    dealer_id: str
    on: date
    assignment_strategy: AssignmentStrategy
    last_assigned_id: str | None
    consultants: list[ConsultantLoad]


async def consultants_of(uc: Uc, dealer_id: str) -> ConsultantsView:
    """The dealer's consultants in id order with today's availability and open leads."""
    dealer = await uc.dealer(dealer_id)
    today = await dealer_today(uc, dealer_id)
    members = sorted(dealer.people.with_role(StaffRole.CONSULTANT), key=lambda m: m.staff_id)
    load = await activity.open_leads_by_consultant(
        uc.conn, dealer_id, [m.staff_id for m in members]
    )
    return ConsultantsView(
        dealer_id=dealer_id,
        on=today,
        assignment_strategy=dealer.policy.leads.assignment_strategy,
        last_assigned_id=await activity.last_assigned(uc.conn, dealer_id),
        consultants=[
            ConsultantLoad(
                consultant_id=m.staff_id,
                name=m.name,
                on_duty=m.on_duty,
                away_from=m.away_from,
                away_until=m.away_until,
                replaced_by=m.replaced_by,
                available=m.available(today),
                open_leads=load.get(m.staff_id, 0),
            )
            for m in members
        ],
    )


async def record_assignment(
    uc: Uc,
    lead: LeadRecord,
    previous: str | None,
    reason: AssignmentReason,
    assigned_by: str | None = None,
) -> None:
    """Log ``lead``'s (re)assignment to its consultant."""
    await activity.insert_assignment(
        uc.conn, assignment_of(uc, lead, previous, reason, assigned_by)
    )


def assignment_of(
    uc: Uc,
    lead: LeadRecord,
    previous: str | None,
    reason: AssignmentReason,
    assigned_by: str | None = None,
) -> AssignmentRecord:
    """The log row of ``lead``'s (re)assignment to its consultant, now."""
    assert lead.consultant_id is not None
    return AssignmentRecord(
        dealer_id=lead.dealer_id,
        lead_id=lead.lead_id,
        consultant_id=lead.consultant_id,
        previous_consultant_id=previous,
        reason=str(reason),
        assigned_by=assigned_by,
        assigned_at=uc.now,
    )


@dataclass(frozen=True)
class AssignLead:
    """(Re)assign a lead: to ``consultant_id``, else per the dealer's assignment strategy
    to another consultant available today."""

    dealer_id: str
    lead_id: uuid.UUID
    consultant_id: str | None = None
    #: who reassigns it (default: the acting staff id, ``uc.actor``)
    assigned_by: str | None = None
    reason: AssignmentReason = AssignmentReason.MANUAL


async def assign_lead(uc: Uc, cmd: AssignLead) -> LeadRecord:
    """Record the change and publish LeadAssigned; the current consultant changes nothing."""
    assigned_by = cmd.assigned_by or uc.actor
    lead = await load_open_lead(uc, cmd.dealer_id, cmd.lead_id)
    previous = lead.consultant_id
    chosen = cmd.consultant_id
    if chosen is None:
        others = [previous] if previous else []
        chosen = await next_consultant(uc, cmd.dealer_id, exclude=others)
        if chosen is None:
            raise NoConsultantOnDuty("no other consultant is available")
    if chosen == previous:
        return lead
    lead = replace(lead, consultant_id=chosen, updated_at=uc.now)
    await repo.save_lead(uc.conn, lead)
    await record_assignment(uc, lead, previous, cmd.reason, assigned_by)
    await uc.publish(
        LeadAssigned(
            dealer_id=lead.dealer_id,
            customer_id=lead.customer_id,
            occurred_at=uc.now,
            lead_id=str(lead.lead_id),
            consultant_id=chosen,
            previous_consultant_id=previous,
            reason=cmd.reason,
            assigned_by=assigned_by,
            assigned_at=uc.now,
        )
    )
    return lead


# --- queries ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ListLeads:
    """One page of the dealer's leads in working order, after the cursor's position."""

    dealer_id: str
    where: repo.LeadFilter
    limit: int
    after: repo.ListKey | None = None


@dataclass(frozen=True)
class LeadPage:
    items: list[LeadRecord]
    next_cursor: str | None


async def list_leads(uc: Uc, query: ListLeads) -> LeadPage:
    """Customer referrals first, then newest first (``next_cursor`` None at the end)."""
    rows = await repo.list_leads(
        uc.conn, query.dealer_id, query.where, limit=query.limit + 1, after=query.after
    )
    return LeadPage(*page_of(rows, query.limit, repo.list_key))


@dataclass(frozen=True)
class LeadDossier:
    """A lead with its history and whether a consultant may pitch to it now."""

    lead: LeadRecord
    history: LeadHistory
    sales_follow_up_allowed: bool
    #: when the lead said it would order (its grade's purchase horizon), if it has one
    expected_order_by: datetime | None = None


async def lead_dossier(uc: Uc, dealer_id: str, lead_id: uuid.UUID) -> LeadDossier:
    lead = await repo.get_lead(uc.conn, dealer_id, lead_id)
    if lead is None:
        raise LeadNotFound(lead_id)
    history = await activity.history(uc.conn, dealer_id, lead_id)
    horizons = (await uc.policy(dealer_id)).leads.purchase_horizon
    expected = expected_order_by(
        str(lead.grade), lead.graded_at, {str(g): h for g, h in horizons.items()}
    )
    return LeadDossier(lead, history, is_sales_follow_up_allowed(lead.snapshot()), expected)
