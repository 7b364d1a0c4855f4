"""Use cases on an existing lead: contact log, loss, conversion and delivery.

Conversion and delivery come over HTTP or as ContractSigned / VehicleDelivered from any
producer (an outside DMS too). Invitations and appointments are in
``usecases_invitation``; the conventions are those of ``usecases``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

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
from dealerflow.leads import repository_activity as activity
from dealerflow.leads.domain import (
    CLOSED_GRADES,
    ContactLogEntry,
    Grade,
    LeadRejected,
    apply_contact_log_entry,
    invitation_suppressed,
    validate_contact_log_entry,
    validate_grade_transition,
)
from dealerflow.leads.records import ContactEntryRecord, LeadRecord
from dealerflow.leads.usecases import (
    STATUS_BY_GRADE,
    LeadClosed,
    LeadConflict,
    Uc,
    load_lead,
    load_open_lead,
    staff_for,
)
from dealerflow.leads.usecases_invitation import publish_declined

_LOG = logging.getLogger("dealerflow.leads.usecases")

# Grades that only a contract (O) or a delivery (D) sets, never a contact log entry.
_SALES_GRADES = frozenset({Grade.O, Grade.D})
_CLOCK_SKEW = timedelta(minutes=5)


class InvalidContactLogEntry(LeadRejected):
    """A contact log entry the rules refuse; ``problems`` lists every reason."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__("; ".join(problems))
        self.problem_extensions = {"problems": list(problems)}


async def regrade(uc: Uc, lead: LeadRecord, grade: Grade, note: str | None = None) -> LeadRecord:
    """Set the grade (status follows) and publish LeadGraded; the caller saves the lead."""
    previous = lead.grade
    lead = replace(
        lead,
        grade=grade,
        status=STATUS_BY_GRADE[grade],
        graded_at=uc.now,
        updated_at=uc.now,
        closed_at=uc.now if grade in CLOSED_GRADES else None,
    )
    await uc.publish(
        LeadGraded(
            dealer_id=lead.dealer_id,
            customer_id=lead.customer_id,
            occurred_at=uc.now,
            lead_id=str(lead.lead_id),
            grade=grade,
            previous_grade=previous,
            consultant_id=lead.consultant_id,
            graded_at=uc.now,
            note=note,
        )
    )
    return lead


async def _lose(uc: Uc, lead: LeadRecord, reason: LostReason, note: str | None) -> LeadRecord:
    """Record the loss on the (F-graded) lead and publish LeadLost, for manager review."""
    lead = replace(lead, lost_reason=str(reason), lost_note=note)
    await uc.publish(
        LeadLost(
            dealer_id=lead.dealer_id,
            customer_id=lead.customer_id,
            occurred_at=uc.now,
            lead_id=str(lead.lead_id),
            reason=reason,
            reason_note=note,
            consultant_id=lead.consultant_id,
            lost_at=uc.now,
        )
    )
    return lead


# --- contact log ----------------------------------------------------------------------


async def record_contact(
    uc: Uc, lead: LeadRecord, record: ContactEntryRecord, next_contact_on: date | None
) -> LeadRecord:
    """Add ``record`` to the contact log and publish LeadContacted; the lead with its
    last contact time moved on (the caller saves it)."""
    await activity.insert_contact_entry(uc.conn, record)
    await uc.publish(
        LeadContacted(
            dealer_id=record.dealer_id,
            customer_id=lead.customer_id,
            occurred_at=uc.now,
            lead_id=str(lead.lead_id),
            consultant_id=record.consultant_id,
            contacted_at=record.contacted_at,
            channel=ContactChannel(record.channel),
            outcome=ContactOutcome(record.outcome),
            grade_after=Grade(record.grade_after),
            next_contact_on=next_contact_on,
            notes=record.notes,
        )
    )
    last = lead.last_contacted_at
    at = record.contacted_at
    return replace(lead, last_contacted_at=at if last is None or at > last else last)


@dataclass(frozen=True)
class LogContact:
    """One contact log entry as staff report it."""

    dealer_id: str
    lead_id: uuid.UUID
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


@dataclass(frozen=True)
class ContactLogged:
    lead: LeadRecord
    entry_id: uuid.UUID


async def log_contact(uc: Uc, cmd: LogContact) -> ContactLogged:
    """Record a contact: LeadContacted, plus LeadGraded when the grade changes, LeadLost
    for grade F, InvitationDeclined for a declined invitation, and LeadUpdated re_engaged
    when a customer-initiated contact lifts a declined invitation."""
    now = uc.now
    lead = await load_open_lead(uc, cmd.dealer_id, cmd.lead_id)
    consultant = staff_for(lead, cmd.consultant_id)
    grade_after = cmd.grade_after or lead.grade
    if grade_after in _SALES_GRADES and grade_after != lead.grade:
        raise LeadRejected(f"grade {grade_after} is set by the contract or the delivery")
    entry = ContactLogEntry(
        contacted_at=cmd.contacted_at or now,
        channel=cmd.channel,
        outcome=cmd.outcome,
        grade_after=grade_after,
        next_contact_at=cmd.next_contact_at,
        notes=cmd.notes or "",
        customer_initiated=cmd.customer_initiated,
        invitation_declined=cmd.invitation_declined,
        lost_reason=cmd.lost_reason,
        lost_note=cmd.lost_note,
    )
    policy = await uc.policy(cmd.dealer_id)
    if problems := validate_contact_log_entry(entry, lead.grade, now, policy.leads, _CLOCK_SKEW):
        raise InvalidContactLogEntry(problems)
    was_suppressed = invitation_suppressed(lead.snapshot())
    after = apply_contact_log_entry(lead.snapshot(), entry)
    contacted_at = entry.contacted_at
    record = ContactEntryRecord(
        dealer_id=cmd.dealer_id,
        entry_id=uuid.uuid4(),
        lead_id=lead.lead_id,
        consultant_id=consultant,
        contacted_at=contacted_at,
        channel=str(entry.channel),
        outcome=str(entry.outcome),
        grade_before=str(lead.grade),
        grade_after=str(grade_after),
        next_contact_at=entry.next_contact_at,
        notes=cmd.notes,
        customer_initiated=entry.customer_initiated,
        invitation_declined=entry.invitation_declined,
        recorded_at=now,
    )
    next_at = entry.next_contact_at
    next_on = next_at.astimezone(policy.calendar.tz).date() if next_at else None
    lead = await record_contact(uc, lead, record, next_on)
    lead = replace(
        lead,
        next_contact_at=next_at,
        invitation_declined_at=after.invitation_declined_at,
        reengaged_at=after.reengaged_at,
        updated_at=now,
    )
    if grade_after != lead.grade:
        lead = await regrade(uc, lead, grade_after, cmd.notes)
    if grade_after is Grade.F:
        assert entry.lost_reason is not None  # validated above
        lead = await _lose(uc, lead, entry.lost_reason, entry.lost_note)
    if entry.invitation_declined:
        await publish_declined(uc, lead, consultant, contacted_at, cmd.notes)
    elif was_suppressed and not invitation_suppressed(after):
        await uc.publish(
            LeadUpdated(
                dealer_id=cmd.dealer_id,
                customer_id=lead.customer_id,
                occurred_at=now,
                lead_id=str(lead.lead_id),
                reason=LeadUpdateReason.RE_ENGAGED,
                changed_fields=["reengaged_at"],
                updated_at=now,
            )
        )
    await repo.save_lead(uc.conn, lead)
    return ContactLogged(lead, record.entry_id)


# --- loss -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkLost:
    """Close the lead as lost (grade F) with a reason (``other`` needs a note)."""

    dealer_id: str
    lead_id: uuid.UUID
    reason: LostReason
    note: str | None = None


async def mark_lost(uc: Uc, cmd: MarkLost) -> LeadRecord:
    """LeadGraded F + LeadLost, for manager review."""
    lead = await load_open_lead(uc, cmd.dealer_id, cmd.lead_id)
    validate_grade_transition(lead.grade, Grade.F, cmd.reason, cmd.note)
    lead = await regrade(uc, lead, Grade.F, cmd.note)
    lead = await _lose(uc, lead, cmd.reason, cmd.note)
    await repo.save_lead(uc.conn, lead)
    return lead


# --- conversion and delivery ----------------------------------------------------------


def _conversion_refused(lead: LeadRecord, contract_id: str) -> LeadConflict | None:
    """Why ``contract_id`` cannot convert ``lead`` (None: it can, or it already did)."""
    if lead.grade is Grade.O and lead.contract_id == contract_id:
        return None
    if lead.grade in CLOSED_GRADES:
        return LeadClosed(lead)
    if lead.grade is Grade.O:
        return LeadConflict(f"lead already converted by contract {lead.contract_id}")
    return None


async def _convert(
    uc: Uc, lead: LeadRecord, contract_id: str, converted_at: datetime | None
) -> LeadRecord:
    """Grade O, LeadGraded + LeadConverted; converting again with the same contract is a
    no-op. ``lead`` is locked and not refused (:func:`_conversion_refused`)."""
    if lead.grade is Grade.O and lead.contract_id == contract_id:
        return lead
    validate_grade_transition(lead.grade, Grade.O)
    lead = await regrade(uc, lead, Grade.O)
    lead = replace(lead, contract_id=contract_id)
    await uc.publish(
        LeadConverted(
            dealer_id=lead.dealer_id,
            customer_id=lead.customer_id,
            occurred_at=uc.now,
            lead_id=str(lead.lead_id),
            contract_id=contract_id,
            consultant_id=lead.consultant_id,
            converted_at=converted_at or uc.now,
        )
    )
    await repo.save_lead(uc.conn, lead)
    return lead


@dataclass(frozen=True)
class ConvertLead:
    """A contract was signed for this lead (staff report it over HTTP)."""

    dealer_id: str
    lead_id: uuid.UUID
    contract_id: str
    converted_at: datetime | None = None  # default: now


async def convert_lead(uc: Uc, cmd: ConvertLead) -> LeadRecord:
    """Grade O; a closed lead or another contract on a converted lead is a conflict."""
    lead = await load_lead(uc, cmd.dealer_id, cmd.lead_id)
    if (refused := _conversion_refused(lead, cmd.contract_id)) is not None:
        raise refused
    return await _convert(uc, lead, cmd.contract_id, cmd.converted_at)


@dataclass(frozen=True)
class RecordSale:
    """A contract signed (ContractSigned) or a vehicle delivered (VehicleDelivered) for a
    customer of the dealer, from any producer."""

    dealer_id: str
    customer_id: uuid.UUID
    contract_id: str
    #: our lead id when the producer named one of ours
    lead_id: uuid.UUID | None = None
    signed_at: datetime | None = None


def _left_as_is(uc: Uc, lead: LeadRecord, refused: LeadConflict) -> LeadRecord:
    _LOG.info("event %s leaves lead %s as is: %s", uc.source_event_id, lead.lead_id, refused)
    return lead


async def record_contract_signed(uc: Uc, cmd: RecordSale) -> LeadRecord | None:
    """The lead the sale refers to (by lead id, contract, else the customer's open lead)
    becomes grade O; no lead, a closed one or another contract's changes nothing."""
    lead = await repo.find_lead_for_sale(
        uc.conn, cmd.dealer_id, cmd.customer_id, lead_id=cmd.lead_id, contract_id=cmd.contract_id
    )
    if lead is None:
        return None
    if (refused := _conversion_refused(lead, cmd.contract_id)) is not None:
        return _left_as_is(uc, lead, refused)
    return await _convert(uc, lead, cmd.contract_id, cmd.signed_at)


async def record_delivery(uc: Uc, cmd: RecordSale) -> LeadRecord | None:
    """Grade D closes the lead (converted first if the contract was never seen)."""
    lead = await repo.find_lead_for_sale(
        uc.conn, cmd.dealer_id, cmd.customer_id, contract_id=cmd.contract_id
    )
    if lead is None or lead.grade is Grade.D:
        return lead
    if lead.grade is not Grade.O:
        if (refused := _conversion_refused(lead, cmd.contract_id)) is not None:
            return _left_as_is(uc, lead, refused)
        lead = await _convert(uc, lead, cmd.contract_id, None)
    lead = await regrade(uc, lead, Grade.D)
    await repo.save_lead(uc.conn, lead)
    return lead
