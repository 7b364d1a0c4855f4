"""Use cases of the steps on a booked appointment: moved to another time, cancelled,
attended, no-show, each publishing its event (the notifier re-plans or cancels the
customer's reminders, and sets a follow-up call after a no-show).

A customer who comes to the appointment is a showroom visit: a touch on the lead
(LeadUpdated new_touch, or re_engaged when it ends a declined invitation). Booking is in
``usecases_invitation``; the conventions are those of ``usecases``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from dealerflow.contracts.enums import (
    AppointmentPurpose,
    CancelledBy,
    LeadChannel,
    LeadSource,
    LeadUpdateReason,
)
from dealerflow.contracts.events.leads import (
    AppointmentAttended,
    AppointmentCancelled,
    AppointmentNoShow,
    AppointmentRescheduled,
    LeadUpdated,
)
from dealerflow.leads import repository as repo
from dealerflow.leads import repository_appointments as appointments
from dealerflow.leads.domain import invitation_suppressed
from dealerflow.leads.domain_appointments import (
    AppointmentState,
    AppointmentStatus,
    may_end,
    may_reschedule,
    visit_reengages,
)
from dealerflow.leads.records import AppointmentRecord, LeadRecord
from dealerflow.leads.usecases import Uc, load_lead, load_open_lead
from dealerflow.leads.usecases_invitation import DeclinedInvitationStands

_CLOCK_SKEW = timedelta(minutes=5)


class AppointmentNotFound(LookupError):
    """The lead has no appointment with that id at the dealer."""

    def __init__(self, appointment_id: str) -> None:
        super().__init__(f"No appointment with id {appointment_id} on this lead")


async def _load(uc: Uc, lead: LeadRecord, appointment_id: str) -> AppointmentRecord:
    """The lead's appointment, locked (after the lead: the order every step takes)."""
    found = await appointments.get_appointment(
        uc.conn, lead.dealer_id, lead.lead_id, appointment_id
    )
    if found is None:
        raise AppointmentNotFound(appointment_id)
    return found


def _state(appointment: AppointmentRecord) -> AppointmentState:
    return AppointmentState(
        appointment.appointment_id,
        AppointmentStatus(appointment.status),
        appointment.scheduled_for,
    )


def _about(uc: Uc, lead: LeadRecord, appointment: AppointmentRecord) -> dict[str, Any]:
    """The fields every appointment event of ``lead`` shares."""
    return {
        "dealer_id": lead.dealer_id,
        "customer_id": lead.customer_id,
        "occurred_at": uc.now,
        "appointment_id": appointment.appointment_id,
        "lead_id": str(lead.lead_id),
    }


async def _end(
    uc: Uc,
    lead: LeadRecord,
    appointment_id: str,
    ending: AppointmentStatus,
    at: datetime,
    consultant_id: str | None = None,
    cancellation: CancelAppointment | None = None,
) -> tuple[AppointmentRecord, bool]:
    """End the lead's appointment with ``ending`` at ``at`` (with the consultant, or the
    cancellation's side and reason, when given) and save it: the appointment and True, or
    as it was and False when it already ended that way. Raises what ``may_end`` raises."""
    appointment = await _load(uc, lead, appointment_id)
    if not may_end(_state(appointment), ending, at, uc.now, _CLOCK_SKEW):
        return appointment, False
    appointment = replace(
        appointment,
        status=str(ending),
        ended_at=at,
        updated_at=uc.now,
        consultant_id=consultant_id or appointment.consultant_id,
    )
    if cancellation is not None:
        cancelled_by = str(cancellation.cancelled_by)
        appointment = replace(appointment, cancelled_by=cancelled_by, reason=cancellation.reason)
    await appointments.save_appointment(uc.conn, appointment)
    return appointment, True


# --- moved to another time ------------------------------------------------------------


@dataclass(frozen=True)
class RescheduleAppointment:
    """Move an appointment to another time (and place)."""

    dealer_id: str
    lead_id: uuid.UUID
    appointment_id: str
    scheduled_for: datetime
    location: str | None = None  # default: unchanged
    reason: str | None = None


async def reschedule_appointment(uc: Uc, cmd: RescheduleAppointment) -> AppointmentRecord:
    """AppointmentRescheduled (with the previous time); the same time again changes
    nothing. Refused for an appointment that ended, a time in the past, a closed lead,
    and while a declined invitation stands (except for a delivery), as booking is."""
    lead = await load_open_lead(uc, cmd.dealer_id, cmd.lead_id)
    appointment = await _load(uc, lead, cmd.appointment_id)
    if not may_reschedule(_state(appointment), cmd.scheduled_for, uc.now, _CLOCK_SKEW):
        return appointment
    purpose = AppointmentPurpose(appointment.purpose)
    if invitation_suppressed(lead.snapshot()) and purpose is not AppointmentPurpose.DELIVERY:
        raise DeclinedInvitationStands(
            "the customer declined the invitation; record a customer-initiated contact first"
        )
    previous = appointment.scheduled_for
    appointment = replace(
        appointment,
        scheduled_for=cmd.scheduled_for,
        location=cmd.location or appointment.location,
        rescheduled_count=appointment.rescheduled_count + 1,
        reason=cmd.reason,
        updated_at=uc.now,
    )
    await appointments.save_appointment(uc.conn, appointment)
    await uc.publish(
        AppointmentRescheduled(
            **_about(uc, lead, appointment),
            previous_scheduled_for=previous,
            scheduled_for=appointment.scheduled_for,
            reason=cmd.reason,
            purpose=purpose,
            location=appointment.location,
        )
    )
    return appointment


# --- cancelled ------------------------------------------------------------------------


@dataclass(frozen=True)
class CancelAppointment:
    """Call an appointment off."""

    dealer_id: str
    lead_id: uuid.UUID
    appointment_id: str
    cancelled_by: CancelledBy
    reason: str | None = None


async def cancel_appointment(uc: Uc, cmd: CancelAppointment) -> AppointmentRecord:
    """AppointmentCancelled; cancelling again changes nothing. A closed lead's
    appointment may still be cancelled (nobody is coming)."""
    lead = await load_lead(uc, cmd.dealer_id, cmd.lead_id)
    appointment, ended = await _end(
        uc,
        lead,
        cmd.appointment_id,
        AppointmentStatus.CANCELLED,
        uc.now,
        cancellation=cmd,
    )
    if ended:
        await uc.publish(
            AppointmentCancelled(
                **_about(uc, lead, appointment),
                cancelled_by=cmd.cancelled_by,
                reason=cmd.reason,
                cancelled_at=uc.now,
            )
        )
    return appointment


# --- attended: a showroom visit -------------------------------------------------------


@dataclass(frozen=True)
class RecordAttendance:
    """The customer came to the appointment."""

    dealer_id: str
    lead_id: uuid.UUID
    appointment_id: str
    attended_at: datetime | None = None  # default: now
    consultant_id: str | None = None  # who received them; default: the appointment's


async def record_attendance(uc: Uc, cmd: RecordAttendance) -> AppointmentRecord:
    """AppointmentAttended, and the visit as a touch on the lead (LeadUpdated new_touch;
    re_engaged when it ends a declined invitation). Recording it again changes nothing."""
    lead = await load_open_lead(uc, cmd.dealer_id, cmd.lead_id)
    arrived = cmd.attended_at or uc.now
    appointment, ended = await _end(
        uc, lead, cmd.appointment_id, AppointmentStatus.ATTENDED, arrived, cmd.consultant_id
    )
    if ended:
        await uc.publish(
            AppointmentAttended(
                **_about(uc, lead, appointment),
                consultant_id=appointment.consultant_id,
                attended_at=arrived,
            )
        )
        await _visit_touch(uc, lead, arrived)
    return appointment


async def _visit_touch(uc: Uc, lead: LeadRecord, visited_at: datetime) -> None:
    """The showroom visit touches the lead, as a new submission does (LeadUpdated)."""
    reengaged = visit_reengages(lead.snapshot(), visited_at)
    changed = ["last_touch_at", "touch_count"]
    lead = replace(
        lead,
        last_touch_at=max(lead.last_touch_at, visited_at),
        touch_count=lead.touch_count + 1,
        updated_at=uc.now,
    )
    if reengaged:
        lead = replace(lead, reengaged_at=visited_at)
        changed.append("reengaged_at")
    await repo.save_lead(uc.conn, lead)
    await uc.publish(
        LeadUpdated(
            dealer_id=lead.dealer_id,
            customer_id=lead.customer_id,
            occurred_at=uc.now,
            lead_id=str(lead.lead_id),
            reason=LeadUpdateReason.RE_ENGAGED if reengaged else LeadUpdateReason.NEW_TOUCH,
            changed_fields=changed,
            touch_channel=LeadChannel.WALK_IN,
            touch_source=LeadSource.SHOWROOM,
            updated_at=uc.now,
        )
    )


# --- no-show --------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordNoShow:
    """The appointment's time passed without the customer."""

    dealer_id: str
    lead_id: uuid.UUID
    appointment_id: str
    consultant_id: str | None = None  # who waited; default: the appointment's


async def record_no_show(uc: Uc, cmd: RecordNoShow) -> AppointmentRecord:
    """AppointmentNoShow (the notifier sets the consultant a follow-up call); refused
    before the appointment's time; recording it again changes nothing."""
    lead = await load_open_lead(uc, cmd.dealer_id, cmd.lead_id)
    appointment, ended = await _end(
        uc, lead, cmd.appointment_id, AppointmentStatus.NO_SHOW, uc.now, cmd.consultant_id
    )
    if ended:
        await uc.publish(
            AppointmentNoShow(
                **_about(uc, lead, appointment),
                consultant_id=appointment.consultant_id,
                scheduled_for=appointment.scheduled_for,
                recorded_at=uc.now,
            )
        )
    return appointment
