"""The sales manager's review of lost leads, and taking a lead back to a live grade
(a reopened lost lead, or a converted one whose contract was cancelled).

A lead lost (grade F) waits in the dealer's review queue, the longest waiting first,
until a sales manager or gm approves the loss (the lead stays F) or reopens the lead: it
goes back to a live grade (LeadGraded; the notifier plans that grade's follow-up) and the
note says why. A ContractCancelled (sales topic, from any producer) takes the lead the
contract converted (grade O) back to its last live grade the same way. Reopenings are
recorded in ``lead_reopenings``, which with the contact log is the grade history a
reopened lead's grade is read from. Conventions as ``usecases``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from dealerflow.contracts.events.leads import LeadLostReviewed
from dealerflow.leads import repository as repo
from dealerflow.leads import repository_review as reviews
from dealerflow.leads.domain import Grade
from dealerflow.leads.domain_review import (
    ReopeningCause,
    ReviewDecision,
    cancellation_note,
    check_review,
    reopen_grade,
)
from dealerflow.leads.records import LeadRecord, ReopeningRecord, ReviewRecord
from dealerflow.leads.usecases import LeadConflict, LeadPage, Uc, load_lead
from dealerflow.leads.usecases_lifecycle import regrade
from dealerflow.runtime.pagination import page_of

_LOG = logging.getLogger("dealerflow.leads.usecases")


class ReviewNotDue(LeadConflict):
    """The lead is not awaiting review: not lost, or its loss is reviewed already."""

    def __init__(self, lead: LeadRecord) -> None:
        super().__init__(
            f"lead {lead.lead_id} is not awaiting review (grade {lead.grade}"
            + (", its loss is reviewed already)" if lead.grade is Grade.F else ")")
        )


class CustomerHasOpenLead(LeadConflict):
    """A lost lead cannot reopen while the person has a newer open lead at the dealer."""

    def __init__(self, lead: LeadRecord, open_lead: LeadRecord) -> None:
        super().__init__(
            f"lead {lead.lead_id} cannot reopen: the customer's open lead is "
            f"{open_lead.lead_id}; work that one"
        )


# --- the queue ------------------------------------------------------------------------


@dataclass(frozen=True)
class ListLostLeads:
    """One page of the dealer's lost leads awaiting review, after the cursor's position."""

    dealer_id: str
    limit: int
    after: tuple[datetime, uuid.UUID] | None = None


async def lost_leads_to_review(uc: Uc, query: ListLostLeads) -> LeadPage:
    """Leads at F without a review of their latest loss, the longest waiting first."""
    rows = await reviews.awaiting_review(
        uc.conn, query.dealer_id, limit=query.limit + 1, after=query.after
    )
    return LeadPage(*page_of(rows, query.limit, reviews.queue_key))


# --- reopening ------------------------------------------------------------------------


async def reopen(
    uc: Uc,
    lead: LeadRecord,
    grade: Grade,
    cause: ReopeningCause,
    note: str | None,
    contract_id: str | None,
) -> LeadRecord:
    """Take the locked ``lead`` back to the live ``grade`` (LeadGraded with ``note``): it
    is open again, without the loss or the contract it had; saved and recorded."""
    before = lead.grade
    lead = await regrade(uc, lead, grade, note)
    lead = replace(lead, lost_reason=None, lost_note=None, contract_id=None)
    await repo.save_lead(uc.conn, lead)
    await reviews.insert_reopening(
        uc.conn,
        ReopeningRecord(
            dealer_id=lead.dealer_id,
            reopening_id=uuid.uuid4(),
            lead_id=lead.lead_id,
            cause=cause,
            contract_id=contract_id,
            grade_before=str(before),
            grade_after=str(grade),
            reopened_at=uc.now,
        ),
    )
    return lead


# --- the review -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewLostLead:
    """A sales manager's decision on a lost lead: approve the loss, or reopen the lead
    (with a note; at ``grade``, else the live grade it had before, else A)."""

    dealer_id: str
    lead_id: uuid.UUID
    decision: ReviewDecision
    note: str | None = None
    grade: Grade | None = None
    #: who reviews it (default: the acting staff id, ``uc.actor``)
    reviewed_by: str | None = None


@dataclass(frozen=True)
class LeadReviewed:
    lead: LeadRecord
    review: ReviewRecord


async def review_lost_lead(uc: Uc, cmd: ReviewLostLead) -> LeadReviewed:
    """Record the review of the lead's latest loss and publish LeadLostReviewed; reopening
    publishes LeadGraded too.
    ReviewNotDue when the lead is not awaiting review (a second review of one loss too)."""
    check_review(cmd.decision, cmd.note, cmd.grade)
    lead = await load_lead(uc, cmd.dealer_id, cmd.lead_id)
    lost_at = lead.closed_at
    if (
        lead.grade is not Grade.F
        or lost_at is None
        or await reviews.loss_reviewed(uc.conn, lead.dealer_id, lead.lead_id, lost_at)
    ):
        raise ReviewNotDue(lead)
    grade_after = None
    if cmd.decision == "reopen":
        other = await repo.find_open_lead_by_phone(uc.conn, lead.dealer_id, lead.phone_e164)
        if other is not None:
            raise CustomerHasOpenLead(lead, other)
        history = await reviews.grade_history(uc.conn, lead.dealer_id, lead.lead_id)
        grade_after = reopen_grade(cmd.grade, history)
        lead = await reopen(uc, lead, grade_after, "review", cmd.note, None)
    review = ReviewRecord(
        dealer_id=lead.dealer_id,
        review_id=uuid.uuid4(),
        lead_id=lead.lead_id,
        lost_at=lost_at,
        decision=cmd.decision,
        grade_after=str(grade_after) if grade_after is not None else None,
        note=cmd.note,
        reviewed_by=cmd.reviewed_by or uc.actor,
        reviewed_at=uc.now,
    )
    await reviews.insert_review(uc.conn, review)
    await uc.publish(
        LeadLostReviewed(
            dealer_id=lead.dealer_id,
            customer_id=lead.customer_id,
            occurred_at=uc.now,
            lead_id=str(lead.lead_id),
            decision=cmd.decision,
            grade_after=review.grade_after,
            lost_at=lost_at,
            reviewed_by=review.reviewed_by or "unknown",
            reviewed_at=uc.now,
        )
    )
    return LeadReviewed(lead, review)


# --- a cancelled contract -------------------------------------------------------------


@dataclass(frozen=True)
class RecordCancellation:
    """A contract was cancelled after signing (ContractCancelled, from any producer)."""

    dealer_id: str
    contract_id: str
    reason: str


async def record_contract_cancelled(uc: Uc, cmd: RecordCancellation) -> LeadRecord | None:
    """The lead the contract converted goes back from O to its last live grade (else A),
    open again without the contract (LeadGraded). A contract no lead holds (never seen,
    or its lead reopened already: a redelivery) or a lead no longer at O (delivered)
    changes nothing."""
    lead = await reviews.lead_of_contract(uc.conn, cmd.dealer_id, cmd.contract_id)
    if lead is None or lead.grade is not Grade.O:
        _LOG.info(
            "event %s: no converted lead holds contract %s; nothing reopened",
            uc.source_event_id,
            cmd.contract_id,
        )
        return None
    history = await reviews.grade_history(uc.conn, lead.dealer_id, lead.lead_id)
    note = cancellation_note(cmd.contract_id, cmd.reason)
    grade = reopen_grade(None, history)
    return await reopen(uc, lead, grade, "contract_cancelled", note, cmd.contract_id)
