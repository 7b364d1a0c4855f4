"""Annual vehicle inspection reminders (`domain_inspections`): the first planned at the
delivery (`usecases_deliveries`), each one falling due plans the next
(`usecases_messages.send_reminder`), the
one not sent yet withdrawn when the delivered contract is cancelled (an outside DMS
cancelling after the delivery; the insurance-renewal reminder with it,
`withdraw_yearly_reminders`) or the customer is erased (`usecases_erasure`, as every
pending reminder).

The driving-licence renewal reminder: planned when a test drive recorded the licence's
expiry (`on_licence_checked`)."""

from __future__ import annotations

from dealerflow.contracts.care_enums import RecordKind, ReminderKind
from dealerflow.notifier import repository as repo
from dealerflow.notifier import repository_messages as msgs
from dealerflow.notifier.domain_inspections import (
    LicenceFacts,
    licence_renewal_prefix,
    plan_licence_renewal,
)
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases import apply_plan
from dealerflow.notifier.usecases_appointments import cancel_reminders
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]


#: The owner's yearly reminders about the delivered contract (`domain_deliveries.
#: record_of_delivered_car`): a cancellation after the delivery withdraws them.
_YEARLY = (ReminderKind.INSURANCE_RENEWAL, ReminderKind.LICENCE_INSPECTION)


async def withdraw_yearly_reminders(uc: Uc, dealer_id: str, contract_id: str) -> None:
    """The cancelled contract's insurance-renewal and inspection reminders not sent yet
    go, with their timers (their chain ends: no next year's is planned)."""
    for kind in _YEARLY:
        pending = await msgs.scheduled_reminders_about(
            uc.conn, dealer_id, RecordKind.CONTRACT.value, contract_id, kind.value
        )
        await cancel_reminders(uc, dealer_id, pending)


async def on_licence_checked(uc: Uc, licence: LicenceFacts) -> None:
    """A test drive recorded the driver's licence expiry: the renewal reminder before it
    (sent with the newest contact snapshot known); a pending one for another expiry (the
    licence was renewed since) goes."""
    policy = await uc.policy(licence.dealer_id)
    planned = plan_licence_renewal(licence, policy, uc.now)
    keep = {reminder.key for reminder in planned}
    pending = await msgs.scheduled_reminders(
        uc.conn, licence.dealer_id, licence_renewal_prefix(licence.customer_id)
    )
    await cancel_reminders(
        uc, licence.dealer_id, [r for r in pending if r.business_key not in keep]
    )
    contact = await repo.get_contact(uc.conn, licence.dealer_id, licence.customer_id)
    await apply_plan(uc, planned, contact)
