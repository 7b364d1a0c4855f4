"""Use cases on an existing lead: contact log, loss, conversion and delivery.

Invitations and appointments are in ``usecases_invitation``.

Same conventions as ``usecases``: the caller's transaction, pure rules from ``domain``,
SQL in ``repository``, events through ``lc.publish``, refusals as 4xx problems.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from dealerflow.contracts.enums import (
    ContactChannel,
    ContactOutcome,
    LeadUpdateReason,
    LostReason,
)
from dealerflow.contracts.events.leads import (
    LeadContacted,
    LeadConverted,
    LeadGraded,
    LeadLost,
    LeadUpdated,
)
from dealerflow.leads import repository as repo
from dealerflow.leads.domain import (
    ContactLogEntry,
    Grade,
    InvalidGradeTransition,
    apply_contact_log_entry,
    cadence_from_policy,
    invitation_suppressed,
    validate_contact_log_entry,
    validate_grade_transition,
)
from dealerflow.leads.usecases import (
    STATUS_BY_GRADE,
    LeadsContext,
    load_lead,
    rejected,
    require_open,
    staff_for,
)
from dealerflow.leads.usecases_invitation import publish_declined
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.problems import Problem, conflict, problem_type

# Grades that only a contract (O) or a delivery (D) sets, never a contact log entry.
_SALES_GRADES = frozenset({Grade.O, Grade.D})
_CLOCK_SKEW = timedelta(minutes=5)


async def _regrade(
    conn: DbConnection,
    lc: LeadsContext,
    lead: repo.LeadRecord,
    grade: Grade,
    now: datetime,
    note: str | None = None,
) -> repo.LeadRecord:
    """Set the grade (status follows) and publish LeadGraded; the caller saves the lead."""
    previous = lead.grade
    closing = grade in (Grade.D, Grade.F)
    lead = replace(
        lead,
        grade=grade,
        status=STATUS_BY_GRADE[grade],
        graded_at=now,
        updated_at=now,
        closed_at=now if closing else None,
    )
    await lc.publish(
        conn,
        LeadGraded(
            dealer_id=lead.dealer_id,
            customer_id=lead.customer_id,
            occurred_at=now,
            lead_id=str(lead.lead_id),
            grade=grade,
            previous_grade=previous,
            consultant_id=lead.consultant_id,
            graded_at=now,
            note=note,
        ),
    )
    return lead


async def _publish_lost(
    conn: DbConnection,
    lc: LeadsContext,
    lead: repo.LeadRecord,
    reason: LostReason,
    note: str | None,
    now: datetime,
) -> None:
    await lc.publish(
        conn,
        LeadLost(
            dealer_id=lead.dealer_id,
            customer_id=lead.customer_id,
            occurred_at=now,
            lead_id=str(lead.lead_id),
            reason=reason,
            reason_note=note,
            consultant_id=lead.consultant_id,
            lost_at=now,
        ),
    )


# --- contact log ----------------------------------------------------------------------


@dataclass(frozen=True)
class ContactInput:
    """One contact log entry as staff report it."""

    channel: ContactChannel
    outcome: ContactOutcome
    consultant_id: str | None = None
    contacted_at: datetime | None = None  # default: now
    grade_after: Grade | None = None  # default: unchanged
    next_contact_at: datetime | None = None
    notes: str | None = None
    customer_initiated: bool = False
    invitation_declined: bool = False
    lost_reason: LostReason | None = None
    lost_note: str | None = None


async def log_contact(
    conn: DbConnection,
    lc: LeadsContext,
    dealer_id: str,
    lead_id: uuid.UUID,
    given: ContactInput,
) -> tuple[repo.LeadRecord, uuid.UUID]:
    """Record a contact: LeadContacted, plus LeadGraded when the grade changes, LeadLost
    for grade F, InvitationDeclined for a declined invitation, and LeadUpdated re_engaged
    when a customer-initiated contact lifts a declined invitation."""
    now = lc.clock.now()
    lead = await load_lead(conn, dealer_id, lead_id, for_update=True)
    require_open(lead)
    consultant = staff_for(lead, given.consultant_id)
    grade_after = given.grade_after or lead.grade
    if grade_after in _SALES_GRADES and grade_after != lead.grade:
        raise rejected(f"grade {grade_after} is set by the contract or the delivery")
    entry = ContactLogEntry(
        contacted_at=given.contacted_at or now,
        channel=given.channel,
        outcome=given.outcome,
        grade_after=grade_after,
        next_contact_at=given.next_contact_at,
        notes=given.notes or "",
        customer_initiated=given.customer_initiated,
        invitation_declined=given.invitation_declined,
        lost_reason=given.lost_reason,
        lost_note=given.lost_note,
    )
    policy = lc.settings.policy
    problems = validate_contact_log_entry(
        entry, lead.grade, now, cadence_from_policy(policy.leads), _CLOCK_SKEW
    )
    if problems:
        raise Problem(
            422,
            "Invalid contact log entry",
            "; ".join(problems),
            type=problem_type("invalid-contact-log-entry"),
            extensions={"problems": list(problems)},
        )
    was_suppressed = invitation_suppressed(lead.snapshot())
    after = apply_contact_log_entry(lead.snapshot(), entry)
    entry_id = uuid.uuid4()
    contacted_at = entry.contacted_at
    await repo.insert_contact_entry(
        conn,
        dealer_id,
        {
            "entry_id": entry_id,
            "lead_id": lead.lead_id,
            "consultant_id": consultant,
            "contacted_at": contacted_at,
            "channel": str(entry.channel),
            "outcome": str(entry.outcome),
            "grade_before": str(lead.grade),
            "grade_after": str(grade_after),
            "next_contact_at": entry.next_contact_at,
            "notes": given.notes,
            "customer_initiated": entry.customer_initiated,
            "invitation_declined": entry.invitation_declined,
            "recorded_at": now,
        },
    )
    local_next = (
        entry.next_contact_at.astimezone(policy.calendar.tz).date()
        if entry.next_contact_at
        else None
    )
    await lc.publish(
        conn,
        LeadContacted(
            dealer_id=dealer_id,
            customer_id=lead.customer_id,
            occurred_at=now,
            lead_id=str(lead.lead_id),
            consultant_id=consultant,
            contacted_at=contacted_at,
            channel=entry.channel,
            outcome=entry.outcome,
            grade_after=grade_after,
            next_contact_on=local_next,
            notes=given.notes,
        ),
    )
    last = lead.last_contacted_at
    lead = replace(
        lead,
        last_contacted_at=contacted_at if last is None or contacted_at > last else last,
        next_contact_at=entry.next_contact_at,
        invitation_declined_at=after.invitation_declined_at,
        reengaged_at=after.reengaged_at,
        updated_at=now,
    )
    if grade_after != lead.grade:
        lead = await _regrade(conn, lc, lead, grade_after, now, given.notes)
    if grade_after is Grade.F:
        assert entry.lost_reason is not None  # validated above
        lead = replace(lead, lost_reason=str(entry.lost_reason), lost_note=entry.lost_note)
        await _publish_lost(conn, lc, lead, entry.lost_reason, entry.lost_note, now)
    if entry.invitation_declined:
        await publish_declined(conn, lc, lead, consultant, contacted_at, given.notes, now)
    elif was_suppressed and not invitation_suppressed(after):
        await lc.publish(
            conn,
            LeadUpdated(
                dealer_id=dealer_id,
                customer_id=lead.customer_id,
                occurred_at=now,
                lead_id=str(lead.lead_id),
                reason=LeadUpdateReason.RE_ENGAGED,
                changed_fields=["reengaged_at"],
                updated_at=now,
            ),
        )
    await repo.save_lead(conn, lead)
    return lead, entry_id


# --- loss, conversion, delivery -------------------------------------------------------


async def mark_lost(
    conn: DbConnection,
    lc: LeadsContext,
    dealer_id: str,
    lead_id: uuid.UUID,
    *,
    reason: LostReason,
    note: str | None,
) -> repo.LeadRecord:
    """Close the lead as lost (grade F): LeadGraded + LeadLost, for manager review."""
    now = lc.clock.now()
    lead = await load_lead(conn, dealer_id, lead_id, for_update=True)
    require_open(lead)
    try:
        validate_grade_transition(lead.grade, Grade.F, reason, note)
    except InvalidGradeTransition as exc:
        raise rejected(str(exc)) from None
    lead = await _regrade(conn, lc, lead, Grade.F, now, note)
    lead = replace(lead, lost_reason=str(reason), lost_note=note)
    await _publish_lost(conn, lc, lead, reason, note, now)
    await repo.save_lead(conn, lead)
    return lead


async def convert_lead(
    conn: DbConnection,
    lc: LeadsContext,
    lead: repo.LeadRecord,
    *,
    contract_id: str,
    converted_at: datetime | None = None,
) -> tuple[repo.LeadRecord, bool]:
    """A contract was signed: grade O, LeadGraded + LeadConverted; returns (lead, changed).

    ``lead`` must be locked by the caller. Converting again with the same contract is a
    no-op; a closed lead or another contract on a converted lead is a conflict.
    """
    now = lc.clock.now()
    if lead.grade is Grade.O and lead.contract_id == contract_id:
        return lead, False
    require_open(lead)
    if lead.grade is Grade.O:
        raise conflict(f"lead already converted by contract {lead.contract_id}")
    validate_grade_transition(lead.grade, Grade.O)
    lead = await _regrade(conn, lc, lead, Grade.O, now)
    lead = replace(lead, contract_id=contract_id)
    await lc.publish(
        conn,
        LeadConverted(
            dealer_id=lead.dealer_id,
            customer_id=lead.customer_id,
            occurred_at=now,
            lead_id=str(lead.lead_id),
            contract_id=contract_id,
            consultant_id=lead.consultant_id,
            converted_at=converted_at or now,
        ),
    )
    await repo.save_lead(conn, lead)
    return lead, True


async def mark_delivered(
    conn: DbConnection, lc: LeadsContext, lead: repo.LeadRecord, *, contract_id: str
) -> repo.LeadRecord:
    """The vehicle was delivered: grade D closes the lead (converting it first if the
    contract was never seen). ``lead`` must be locked by the caller."""
    if lead.grade is Grade.D:
        return lead
    if lead.grade is not Grade.O:
        lead, _ = await convert_lead(conn, lc, lead, contract_id=contract_id)
    lead = await _regrade(conn, lc, lead, Grade.D, lc.clock.now())
    await repo.save_lead(conn, lead)
    return lead
