"""Reactions to a booked service appointment: the customer's reminder before the slot
(ServiceAppointmentBooked; a reschedule is a new ServiceAppointmentBooked for the same
appointment, and its pending reminder of the old time is replaced), withdrawn when the
appointment is cancelled (ServiceAppointmentCancelled). Same conventions as
`usecases_deliveries` (pure planner in `domain_service_appointments`)."""

from __future__ import annotations

from datetime import datetime

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.notifier.domain_service_appointments import (
    plan_service_appointment_reminder,
    record_of_service_appointment,
)
from dealerflow.notifier.domain_types import AppointmentFacts
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases import remember_contact
from dealerflow.notifier.usecases_appointments import replace_reminders, withdraw_reminders
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]


async def on_service_appointment_booked(
    uc: Uc, appointment: AppointmentFacts, contact: ContactSnapshot, booked_at: datetime
) -> None:
    """Plan the reminder of the booked time; a pending one of another time goes."""
    await remember_contact(uc, appointment.dealer_id, appointment.customer_id, contact, booked_at)
    policy = await uc.policy(appointment.dealer_id)
    planned = plan_service_appointment_reminder(appointment, policy, uc.now)
    await replace_reminders(uc, appointment.dealer_id, appointment.record, planned, contact)


async def on_service_appointment_cancelled(
    uc: Uc, dealer_id: str, service_appointment_id: str
) -> None:
    """The appointment's reminder not sent yet goes, with its timer."""
    await withdraw_reminders(uc, dealer_id, record_of_service_appointment(service_appointment_id))
