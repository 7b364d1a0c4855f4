"""Rows of the notifier's tables as typed, frozen records: what the repositories return
(and the ``New*`` records they insert)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from dealerflow.contracts.contact import ContactSnapshot

#: Statuses of a task that still waits for an outcome.
OPEN_STATUSES = ("scheduled", "due")


@dataclass(frozen=True, slots=True)
class TaskRow:
    """A row of ``tasks``."""

    id: uuid.UUID
    dealer_id: str
    customer_id: uuid.UUID
    business_key: str
    kind: str
    title: str
    assignee: str
    assignee_role: str
    due_at: datetime
    status: str
    outcome: str | None
    note: str | None
    script: str | None
    related_kind: str | None
    related_id: str | None
    source_event_id: str | None
    completed_by: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    cancelled_at: datetime | None
    # migration 0008 (usecases_task_actions)
    planned_due_at: datetime | None
    snoozed_at: datetime | None
    snoozed_by: str | None
    snooze_reason: str | None
    unreachable_attempts: int

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def hard_due_at(self) -> datetime:
        """The due time the task was planned with (before any snooze)."""
        return self.planned_due_at or self.due_at


@dataclass(frozen=True, slots=True)
class NewTask:
    """What ``repository.insert_task`` needs."""

    id: uuid.UUID
    dealer_id: str
    customer_id: uuid.UUID
    business_key: str
    kind: str
    title: str
    assignee: str
    assignee_role: str
    due_at: datetime
    script: str | None
    related_kind: str | None
    related_id: str | None
    source_event_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReminderRow:
    """A row of ``reminders``; ``contact`` is the snapshot known when it was planned."""

    id: uuid.UUID
    dealer_id: str
    customer_id: uuid.UUID
    business_key: str
    kind: str
    purpose: str
    channel: str
    send_at: datetime
    status: str
    params: dict[str, str]
    contact: ContactSnapshot | None
    attempts: int
    related_kind: str | None
    related_id: str | None
    source_event_id: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewReminder:
    """What ``repository_messages.insert_reminder`` needs."""

    id: uuid.UUID
    dealer_id: str
    customer_id: uuid.UUID
    business_key: str
    kind: str
    purpose: str
    channel: str
    send_at: datetime
    params: Mapping[str, str]
    contact: ContactSnapshot | None
    related_kind: str | None
    related_id: str | None
    source_event_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NotificationRow:
    """A row of ``notifications`` (a message to a customer or a staff member)."""

    id: uuid.UUID
    dealer_id: str
    customer_id: uuid.UUID
    audience: str
    recipient: str | None
    business_key: str
    reminder_id: uuid.UUID | None
    kind: str
    purpose: str | None
    channel: str
    locale: str | None
    subject: str | None
    body: str | None
    status: str
    policy: str | None
    error: str | None
    provider_message_id: str | None
    attempts: int
    related_kind: str | None
    related_id: str | None
    created_at: datetime
    sent_at: datetime | None
    #: When the provider's receipt said the message reached the recipient
    #: (`domain_receipts`).
    delivered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TaskText:
    """The texts of a task (what erasure rewrites; the rest of the row stays)."""

    id: uuid.UUID
    title: str
    note: str | None
    script: str | None


@dataclass(frozen=True, slots=True)
class ReminderPersonalData:
    """What of a reminder erasure rewrites: its status (one not sent yet is cancelled), its
    template parameters and its contact snapshot (JSON)."""

    id: uuid.UUID
    status: str
    params: dict[str, str]
    contact: dict[str, object] | None


@dataclass(frozen=True, slots=True)
class NotificationPersonalData:
    """What of a notification erasure rewrites: the address, the text, and the status of
    one not sent yet."""

    id: uuid.UUID
    audience: str
    status: str
    recipient: str | None
    subject: str | None
    body: str | None
    policy: str | None
    error: str | None
