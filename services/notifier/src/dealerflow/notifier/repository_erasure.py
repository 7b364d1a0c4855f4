"""SQL of a customer's erasure (`usecases_erasure`): the customer's tasks, reminders,
notifications and contact snapshot at one dealer. Every statement is scoped by
``dealer_id`` and ``customer_id``; the rows rewritten are locked for the erasure's
transaction (after the timers it cancels: the timer poller locks a timer, then its row)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.notifier.records import NotificationPersonalData, ReminderPersonalData, TaskText
from dealerflow.notifier.repository import contact_of, to_json
from dealerflow.runtime.db import DbConnection

# -- what identifies the person ---------------------------------------------------------------


async def known_contacts(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> list[ContactSnapshot]:
    """Every contact snapshot of the customer the dealer holds: the latest one and those
    its reminders were planned with."""
    rows = await conn.fetch(
        """
        SELECT contact::text AS contact FROM customer_contacts
        WHERE dealer_id = $1 AND customer_id = $2
        UNION
        SELECT contact::text FROM reminders
        WHERE dealer_id = $1 AND customer_id = $2 AND contact IS NOT NULL
        """,
        dealer_id,
        customer_id,
    )
    return [c for c in (contact_of(r["contact"]) for r in rows) if c is not None]


async def message_addresses(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> list[str]:
    """The addresses messages to the customer went to."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT recipient FROM notifications
        WHERE dealer_id = $1 AND customer_id = $2 AND audience = 'customer'
          AND recipient IS NOT NULL
        """,
        dealer_id,
        customer_id,
    )
    return [r["recipient"] for r in rows]


async def pending_reminder_keys(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> list[str]:
    """Business keys of the customer's reminders not sent yet (not locked)."""
    rows = await conn.fetch(
        "SELECT business_key FROM reminders "
        "WHERE dealer_id = $1 AND customer_id = $2 AND status = 'scheduled' ORDER BY business_key",
        dealer_id,
        customer_id,
    )
    return [r["business_key"] for r in rows]


async def queued_notification_ids(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> list[uuid.UUID]:
    """Ids of the notifications about the customer not delivered yet (not locked)."""
    rows = await conn.fetch(
        "SELECT id FROM notifications "
        "WHERE dealer_id = $1 AND customer_id = $2 AND status = 'queued' ORDER BY id",
        dealer_id,
        customer_id,
    )
    return [r["id"] for r in rows]


# -- tasks --------------------------------------------------------------------------------------


async def tasks_of_customer(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> list[TaskText]:
    """The texts of the customer's tasks, locked."""
    rows = await conn.fetch(
        "SELECT id, title, note, script FROM tasks "
        "WHERE dealer_id = $1 AND customer_id = $2 ORDER BY id FOR UPDATE",
        dealer_id,
        customer_id,
    )
    return [TaskText(r["id"], r["title"], r["note"], r["script"]) for r in rows]


async def save_task_text(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID, task: TaskText, now: datetime
) -> None:
    """Write back a task's texts."""
    await conn.execute(
        """
        UPDATE tasks SET title = $4, note = $5, script = $6, updated_at = $7
        WHERE dealer_id = $1 AND customer_id = $2 AND id = $3
        """,
        dealer_id,
        customer_id,
        task.id,
        task.title,
        task.note,
        task.script,
        now,
    )


# -- reminders ----------------------------------------------------------------------------------


async def reminders_of_customer(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> list[ReminderPersonalData]:
    """The status, parameters and contact of the customer's reminders, locked."""
    rows = await conn.fetch(
        """
        SELECT id, status, params::text AS params, contact::text AS contact FROM reminders
        WHERE dealer_id = $1 AND customer_id = $2 ORDER BY id FOR UPDATE
        """,
        dealer_id,
        customer_id,
    )
    return [
        ReminderPersonalData(
            id=r["id"],
            status=r["status"],
            params=json.loads(r["params"]),
            contact=json.loads(r["contact"]) if r["contact"] is not None else None,
        )
        for r in rows
    ]


async def save_reminder(
    conn: DbConnection,
    dealer_id: str,
    customer_id: uuid.UUID,
    reminder: ReminderPersonalData,
    now: datetime,
) -> None:
    """Write back a reminder's status, parameters and contact."""
    await conn.execute(
        """
        UPDATE reminders SET status = $4, params = $5::jsonb, contact = $6::jsonb,
            updated_at = $7
        WHERE dealer_id = $1 AND customer_id = $2 AND id = $3
        """,
        dealer_id,
        customer_id,
        reminder.id,
        reminder.status,
        to_json(reminder.params),
        to_json(reminder.contact),
        now,
    )


# -- notifications ------------------------------------------------------------------------------


async def notifications_of_customer(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> list[NotificationPersonalData]:
    """The address, text and status of every notification about the customer, locked."""
    rows = await conn.fetch(
        """
        SELECT id, audience, status, recipient, subject, body, policy, error FROM notifications
        WHERE dealer_id = $1 AND customer_id = $2 ORDER BY id FOR UPDATE
        """,
        dealer_id,
        customer_id,
    )
    return [NotificationPersonalData(**dict(r)) for r in rows]


async def save_notification(
    conn: DbConnection,
    dealer_id: str,
    customer_id: uuid.UUID,
    notification: NotificationPersonalData,
) -> None:
    """Write back a notification's address, text and status."""
    await conn.execute(
        """
        UPDATE notifications SET status = $4, recipient = $5, subject = $6, body = $7,
            policy = $8, error = $9
        WHERE dealer_id = $1 AND customer_id = $2 AND id = $3
        """,
        dealer_id,
        customer_id,
        notification.id,
        notification.status,
        notification.recipient,
        notification.subject,
        notification.body,
        notification.policy,
        notification.error,
    )


# -- the contact snapshot -----------------------------------------------------------------------


async def erase_directory_contact(
    conn: DbConnection,
    dealer_id: str,
    customer_id: uuid.UUID,
    *,
    contact: dict[str, object],
    as_of: datetime,
) -> bool:
    """Make the customer's latest snapshot ``contact`` (the erased one), as of no earlier
    than ``as_of``, written even when none was stored: the snapshot of an event older than
    the erasure, consumed late, then loses to it (an older event never wins), and a
    message planned from such an event finds no address at send time (the latest snapshot
    wins there). False when it was so already."""
    written = await conn.fetchval(
        """
        INSERT INTO customer_contacts (dealer_id, customer_id, contact, as_of)
        VALUES ($1, $2, $3::jsonb, $4)
        ON CONFLICT (dealer_id, customer_id) DO UPDATE
            SET contact = excluded.contact,
                as_of = greatest(customer_contacts.as_of, excluded.as_of)
            WHERE customer_contacts.contact IS DISTINCT FROM excluded.contact
                OR customer_contacts.as_of < excluded.as_of
        RETURNING true
        """,
        dealer_id,
        customer_id,
        to_json(contact),
        as_of,
    )
    return bool(written)


# -- inbound SMS replies --------------------------------------------------------------------


async def erase_inbound_sms(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID, phones: list[str], text: str
) -> int:
    """Clear the sender's number and the text of the SMS from the customer (linked when
    it arrived, or from one of the customer's ``phones``); how many were changed."""
    status = await conn.execute(
        """
        UPDATE inbound_sms SET phone = NULL, text = $4
        WHERE dealer_id = $1 AND ($2 = ANY(customer_ids) OR phone = ANY($3::text[]))
          AND (phone IS NOT NULL OR text <> $4)
        """,
        dealer_id,
        customer_id,
        phones,
        text,
    )
    return int(status.rsplit(" ", 1)[-1])


# -- surveys ------------------------------------------------------------------------------------


async def erase_survey_comments(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID, erased: str
) -> int:
    """The customer's survey comments become ``erased`` (score and dates stay); how many
    changed."""
    result = await conn.execute(
        """
        UPDATE surveys SET comment = $3
        WHERE dealer_id = $1 AND customer_id = $2 AND comment IS NOT NULL AND comment <> $3
        """,
        dealer_id,
        customer_id,
        erased,
    )
    return int(result.split()[-1])
