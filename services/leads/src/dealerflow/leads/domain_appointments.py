"""What may happen to a booked appointment (a store visit, test drive or delivery), as
pure rules.

An appointment is ``scheduled`` until it ends one of three ways: ``cancelled`` (by the
customer or the dealer), ``attended`` (the customer came) or ``no_show`` (its time passed
without them). Only a scheduled appointment moves to another time. Repeating the step
that ended it changes nothing (a retry); another ending is a conflict: a customer who
came cannot also have stayed away. A no-show after the appointment's time only; an
arrival not in the future.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from dealerflow.leads.domain_grading import LeadRejected
from dealerflow.leads.domain_identity import LeadSnapshot, invitation_suppressed


class AppointmentStatus(StrEnum):
    """Where an appointment stands (the ``appointments.status`` column)."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


#: The ways an appointment ends.
ENDINGS: frozenset[AppointmentStatus] = frozenset(
    {AppointmentStatus.CANCELLED, AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW}
)


class AppointmentRefused(LeadRejected):
    """A step on an appointment the rules refuse (a time in the past, a no-show before
    the appointment's time, an arrival in the future); the message says why."""


class AppointmentEnded(Exception):
    """The appointment already ended another way (or is moved after it ended)."""

    def __init__(self, appointment_id: str, status: AppointmentStatus) -> None:
        super().__init__(f"appointment {appointment_id} is {status.value}")
        self.status = status


@dataclass(frozen=True)
class AppointmentState:
    """What the rules need to know about an appointment."""

    appointment_id: str
    status: AppointmentStatus
    scheduled_for: datetime


def may_reschedule(
    appointment: AppointmentState, new_start: datetime, now: datetime, skew: timedelta
) -> bool:
    """Whether moving ``appointment`` to ``new_start`` changes it: True to move it, False
    when it is already at that time (a repeat). Raises AppointmentEnded for an appointment
    that is not scheduled any more, AppointmentRefused for a time in the past (``skew``
    allows for clocks a little apart)."""
    if appointment.status is not AppointmentStatus.SCHEDULED:
        raise AppointmentEnded(appointment.appointment_id, appointment.status)
    if new_start == appointment.scheduled_for:
        return False
    if new_start < now - skew:
        raise AppointmentRefused("the new time is in the past")
    return True


def may_end(
    appointment: AppointmentState,
    ending: AppointmentStatus,
    at: datetime,
    now: datetime,
    skew: timedelta,
) -> bool:
    """Whether ending ``appointment`` with ``ending`` at ``at`` changes it: True to end
    it, False when it already ended that way (a repeat).

    Raises AppointmentEnded when it ended another way; AppointmentRefused for a no-show
    recorded before the appointment's time, or an arrival (``at``) in the future.
    """
    if ending not in ENDINGS:
        raise ValueError(f"{ending} does not end an appointment")
    if appointment.status is ending:
        return False
    if appointment.status is not AppointmentStatus.SCHEDULED:
        raise AppointmentEnded(appointment.appointment_id, appointment.status)
    if ending is AppointmentStatus.NO_SHOW and now < appointment.scheduled_for:
        raise AppointmentRefused("the appointment's time has not come yet: no no-show before it")
    if ending is AppointmentStatus.ATTENDED and at > now + skew:
        raise AppointmentRefused("attended_at is in the future")
    return True


def visit_reengages(lead: LeadSnapshot, visited_at: datetime) -> bool:
    """A customer who comes to the store after declining the invitation re-engages: the
    handbook's suppression of sales follow-ups ends with the visit."""
    declined_at = lead.invitation_declined_at
    return invitation_suppressed(lead) and declined_at is not None and visited_at > declined_at
