"""Erasing a customer at one store (``CustomerErasureRequested``, run by the runtime's
erasure subscription, see `dealerflow.runtime.erasure`). The rules are in
`domain_erasure`; nothing is deleted.

- ``reminders`` of the customer not sent yet (``scheduled``, also one waiting for a
  retry) are **cancelled** (status ``cancelled``, their timers cancelled): they would
  message an erased person. Every reminder's contact snapshot becomes the erased contact
  and its template parameters keep only dates and numbers; kind, purpose, channel,
  send time, attempts, related record and dates stay.
- ``notifications`` about the customer not delivered yet (``queued``: staff alerts) are
  **cancelled**: their timers cancelled, status ``suppressed`` with policy
  ``customer_erased``. Every notification loses its subject and body ("(erased)"); one
  to the customer loses its address (``recipient`` NULL; a staff recipient is the staff
  member, kept); the customer's name or address in a delivery error is replaced. Ids,
  kind, purpose, channel, locale, status, policy, provider id, attempts and dates stay.
- ``tasks`` of the customer keep their status, outcome, assignee, due and completion
  dates: their note becomes "(erased)", and the customer's name, phone, e-mail or WeChat
  OpenID in a title or script is replaced by "(erased)".
- ``customer_contacts``: the customer's snapshot becomes the erased contact, as of no
  earlier than the request (written when there was none), so a message planned later
  from an older event finds no address when it falls due.
- ``inbound_sms`` from the customer (linked to them when it arrived, or sent from one
  of their known numbers) lose the number (NULL) and the text ("(erased)"); whether it
  was an opt-out, the customers linked and the dates stay, as does the consent history
  (ids, purposes, channels, sources, dates: the proof of an opt-out).
- ``surveys``: the customer's comment becomes "(erased)"; score, record surveyed and
  dates stay.

No event is published (the contracts have none for a cancelled reminder, and a
suppressed staff alert had no event either). Idempotent: a second run changes nothing
(counts 0).
"""

from __future__ import annotations

from dataclasses import replace

from dealerflow.notifier import repository as repo
from dealerflow.notifier import repository_erasure as erasing
from dealerflow.notifier.domain_alerts import alert_timer_key, timer_key
from dealerflow.notifier.domain_erasure import (
    ERASED_TEXT,
    ERASURE_POLICY,
    NOT_SENT,
    erased_contact_of,
    erased_params,
    erased_text,
    personal_strings,
    scrubbed,
)
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.erasure import Erasure

Uc = UseCaseContext[NotifierSettings]


async def erase_customer(uc: Uc, erasure: Erasure) -> dict[str, int]:
    """Anonymise what the notifier holds about the customer at the store and cancel the
    messages not sent yet; rows changed per table (``timers``: timers cancelled)."""
    dealer_id, customer_id, conn = erasure.dealer_id, erasure.customer_id, uc.conn
    contacts = await erasing.known_contacts(conn, dealer_id, customer_id)
    personal = personal_strings(
        contacts, await erasing.message_addresses(conn, dealer_id, customer_id)
    )

    # timers first: the poller locks a timer, then the reminder or notification it sends
    timers = 0
    for key in await erasing.pending_reminder_keys(conn, dealer_id, customer_id):
        timers += await uc.cancel_timer(timer_key(dealer_id, key))
    for notification_id in await erasing.queued_notification_ids(conn, dealer_id, customer_id):
        timers += await uc.cancel_timer(alert_timer_key(notification_id))

    reminders = 0
    for reminder in await erasing.reminders_of_customer(conn, dealer_id, customer_id):
        erased_reminder = replace(
            reminder,
            status="cancelled" if reminder.status == "scheduled" else reminder.status,
            params=erased_params(reminder.params),
            contact=erased_contact_of(reminder.contact) if reminder.contact is not None else None,
        )
        if erased_reminder != reminder:
            await erasing.save_reminder(conn, dealer_id, customer_id, erased_reminder, uc.now)
            reminders += 1

    notifications = 0
    for message in await erasing.notifications_of_customer(conn, dealer_id, customer_id):
        queued = message.status == "queued"
        erased_message = replace(
            message,
            status="suppressed" if queued else message.status,
            policy=ERASURE_POLICY if queued else message.policy,
            error=NOT_SENT if queued else scrubbed(message.error, personal),
            recipient=None if message.audience == "customer" else message.recipient,
            subject=erased_text(message.subject),
            body=erased_text(message.body),
        )
        if erased_message != message:
            await erasing.save_notification(conn, dealer_id, customer_id, erased_message)
            notifications += 1

    tasks = 0
    for task in await erasing.tasks_of_customer(conn, dealer_id, customer_id):
        erased_task = replace(
            task,
            title=scrubbed(task.title, personal),
            note=erased_text(task.note),
            script=scrubbed(task.script, personal),
        )
        if erased_task != task:
            await erasing.save_task_text(conn, dealer_id, customer_id, erased_task, uc.now)
            tasks += 1

    known = await repo.get_contact(conn, dealer_id, customer_id)
    directory = await erasing.erase_directory_contact(
        conn,
        dealer_id,
        customer_id,
        contact=erased_contact_of(known.model_dump(mode="json") if known else {}),
        as_of=erasure.requested_at,
    )

    phones = sorted({c.phone for c in contacts if c.phone is not None})
    inbound_sms = await erasing.erase_inbound_sms(conn, dealer_id, customer_id, phones, ERASED_TEXT)
    surveys = await erasing.erase_survey_comments(conn, dealer_id, customer_id, ERASED_TEXT)

    return {
        "reminders": reminders,
        "notifications": notifications,
        "tasks": tasks,
        "customer_contacts": int(directory),
        "timers": timers,
        "inbound_sms": inbound_sms,
        "surveys": surveys,
    }
