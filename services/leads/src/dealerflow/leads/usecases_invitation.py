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
from dealerflow.leads.domain import invitation_suppressed, record_invitation_declined
from dealerflow.leads.usecases import LeadsContext, load_lead, rejected, require_open, staff_for
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.problems import conflict

_CLOCK_SKEW = timedelta(minutes=5)


async def publish_declined(
    conn: DbConnection,
    lc: LeadsContext,
    lead: repo.LeadRecord,
    consultant: str,
    declined_at: datetime,
    reason: str | None,
    now: datetime,
) -> None:
    await lc.publish(
        conn,
        InvitationDeclined(
            dealer_id=lead.dealer_id,
            customer_id=lead.customer_id,
            occurred_at=now,
            lead_id=str(lead.lead_id),
            consultant_id=consultant,
            declined_at=declined_at,
            reason=reason,
        ),
    )


async def decline_invitation(
    conn: DbConnection,
    lc: LeadsContext,
    dealer_id: str,
    lead_id: uuid.UUID,
    *,
    consultant_id: str | None,
    reason: str | None,
) -> repo.LeadRecord:
    """The prospect declined the invitation: sales follow-ups stop until they re-engage."""
    now = lc.clock.now()
    lead = await load_lead(conn, dealer_id, lead_id, for_update=True)
    require_open(lead)
    consultant = staff_for(lead, consultant_id)
    declined = record_invitation_declined(lead.snapshot(), now)
    lead = replace(lead, invitation_declined_at=declined.invitation_declined_at, updated_at=now)
    await repo.save_lead(conn, lead)
    await publish_declined(conn, lc, lead, consultant, now, reason, now)
    return lead


@dataclass(frozen=True)
class AppointmentInput:
    purpose: AppointmentPurpose
    scheduled_for: datetime
    consultant_id: str | None = None
    location: str | None = None
    appointment_id: str | None = None  # client-supplied: a retry books nothing twice


async def schedule_appointment(
    conn: DbConnection,
    lc: LeadsContext,
    dealer_id: str,
    lead_id: uuid.UUID,
    given: AppointmentInput,
) -> tuple[str, bool]:
    """Book a visit or test drive (AppointmentScheduled); returns (id, newly booked).

    Refused while a declined invitation stands (handbook: no pitching until the
    customer re-engages), for a closed lead, and for a time in the past.
    """
    now = lc.clock.now()
    lead = await load_lead(conn, dealer_id, lead_id, for_update=True)
    require_open(lead)
    if invitation_suppressed(lead.snapshot()) and given.purpose is not AppointmentPurpose.DELIVERY:
        raise conflict(
            "the customer declined the invitation; record a customer-initiated contact first",
            slug="invitation-declined",
        )
    if given.scheduled_for < now - _CLOCK_SKEW:
        raise rejected("scheduled_for is in the past", slug="invalid-appointment")
    consultant = staff_for(lead, given.consultant_id)
    appointment_id = given.appointment_id or str(uuid.uuid4())
    inserted = await repo.insert_appointment(
        conn,
        dealer_id,
        {
            "appointment_id": appointment_id,
            "lead_id": lead.lead_id,
            "purpose": str(given.purpose),
            "scheduled_for": given.scheduled_for,
            "consultant_id": consultant,
            "location": given.location,
            "created_at": now,
        },
    )
    if not inserted:
        booked_for = await repo.appointment_lead(conn, dealer_id, appointment_id)
        if booked_for != lead.lead_id:
            raise conflict(f"appointment {appointment_id} belongs to another lead")
        return appointment_id, False
    await lc.publish(
        conn,
        AppointmentScheduled(
            dealer_id=dealer_id,
            customer_id=lead.customer_id,
            occurred_at=now,
            appointment_id=appointment_id,
            lead_id=str(lead.lead_id),
            purpose=given.purpose,
            scheduled_for=given.scheduled_for,
            consultant_id=consultant,
            location=given.location,
            contact=lead.contact,
        ),
    )
    return appointment_id, True
