"""Use cases of the invitation: a declined invitation, and booked appointments.

Handbook rule: never pitch to a customer who declined the invitation until they
re-engage; an appointment (a store visit or test drive) is such a pitch.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from dealerflow.contracts.enums import AppointmentPurpose
from dealerflow.contracts.events.leads import AppointmentScheduled, InvitationDeclined
from dealerflow.leads import repository as repo
from dealerflow.leads import repository_activity as activity
from dealerflow.leads.domain import LeadRejected, invitation_suppressed, record_invitation_declined
from dealerflow.leads.records import AppointmentRecord, LeadRecord
from dealerflow.leads.usecases import LeadConflict, Uc, load_open_lead, staff_for

_CLOCK_SKEW = timedelta(minutes=5)


class InvalidAppointment(LeadRejected):
    """An appointment the rules refuse (e.g. in the past)."""


class DeclinedInvitationStands(LeadConflict):
    """The customer declined the invitation and has not re-engaged since."""


async def publish_declined(
    uc: Uc, lead: LeadRecord, consultant: str, declined_at: datetime, reason: str | None
) -> None:
    await uc.publish(
        InvitationDeclined(
            dealer_id=lead.dealer_id,
            customer_id=lead.customer_id,
            occurred_at=uc.now,
            lead_id=str(lead.lead_id),
            consultant_id=consultant,
            declined_at=declined_at,
            reason=reason,
        )
    )


@dataclass(frozen=True)
class DeclineInvitation:
    """The prospect declined the invitation (to visit or test drive)."""

    dealer_id: str
    lead_id: uuid.UUID
    consultant_id: str | None = None  # default: the lead's
    reason: str | None = None


async def decline_invitation(uc: Uc, cmd: DeclineInvitation) -> LeadRecord:
    """Sales follow-ups stop until the customer re-engages (InvitationDeclined)."""
    lead = await load_open_lead(uc, cmd.dealer_id, cmd.lead_id)
    consultant = staff_for(lead, cmd.consultant_id)
    declined = record_invitation_declined(lead.snapshot(), uc.now)
    lead = replace(lead, invitation_declined_at=declined.invitation_declined_at, updated_at=uc.now)
    await repo.save_lead(uc.conn, lead)
    await publish_declined(uc, lead, consultant, uc.now, cmd.reason)
    return lead


@dataclass(frozen=True)
class ScheduleAppointment:
    """Book a store visit, test drive or delivery appointment for a lead."""

    dealer_id: str
    lead_id: uuid.UUID
    purpose: AppointmentPurpose
    scheduled_for: datetime
    consultant_id: str | None = None  # default: the lead's
    location: str | None = None
    appointment_id: str | None = None  # client-supplied: a retry books nothing twice


@dataclass(frozen=True)
class AppointmentBooked:
    appointment_id: str
    lead_id: uuid.UUID
    #: False when the client's appointment id was booked before (nothing changed)
    created: bool


async def schedule_appointment(uc: Uc, cmd: ScheduleAppointment) -> AppointmentBooked:
    """AppointmentScheduled; refused while a declined invitation stands (except for a
    delivery), for a closed lead, and for a time in the past."""
    now = uc.now
    lead = await load_open_lead(uc, cmd.dealer_id, cmd.lead_id)
    if invitation_suppressed(lead.snapshot()) and cmd.purpose is not AppointmentPurpose.DELIVERY:
        raise DeclinedInvitationStands(
            "the customer declined the invitation; record a customer-initiated contact first"
        )
    if cmd.scheduled_for < now - _CLOCK_SKEW:
        raise InvalidAppointment("scheduled_for is in the past")
    appointment = AppointmentRecord(
        dealer_id=cmd.dealer_id,
        appointment_id=cmd.appointment_id or str(uuid.uuid4()),
        lead_id=lead.lead_id,
        purpose=str(cmd.purpose),
        scheduled_for=cmd.scheduled_for,
        consultant_id=staff_for(lead, cmd.consultant_id),
        location=cmd.location,
        created_at=now,
    )
    if not await activity.insert_appointment(uc.conn, appointment):
        booked_for = await activity.appointment_lead(
            uc.conn, cmd.dealer_id, appointment.appointment_id
        )
        if booked_for != lead.lead_id:
            raise LeadConflict(f"appointment {appointment.appointment_id} belongs to another lead")
        return AppointmentBooked(appointment.appointment_id, lead.lead_id, created=False)
    await uc.publish(
        AppointmentScheduled(
            dealer_id=cmd.dealer_id,
            customer_id=lead.customer_id,
            occurred_at=now,
            appointment_id=appointment.appointment_id,
            lead_id=str(lead.lead_id),
            purpose=cmd.purpose,
            scheduled_for=cmd.scheduled_for,
            consultant_id=appointment.consultant_id,
            location=cmd.location,
            contact=lead.contact,
        )
    )
    return AppointmentBooked(appointment.appointment_id, lead.lead_id, created=True)
