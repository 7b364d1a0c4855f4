"""Request and response bodies of the notifier's HTTP API, and the record -> response
mapping (``XOut.of``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from dealerflow.notifier.records import NotificationRow, ReminderRow, TaskRow
from dealerflow.runtime.pagination import Page


class TaskStatusName(StrEnum):
    """Life cycle of a task: scheduled -> due (timer fired) -> done (outcome), or cancelled."""

    SCHEDULED = "scheduled"
    DUE = "due"
    DONE = "done"
    CANCELLED = "cancelled"


class RelatedOut(BaseModel):
    """The business record a task or message is about."""

    kind: str
    id: str


def _related(kind: str | None, record_id: str | None) -> RelatedOut | None:
    return RelatedOut(kind=kind, id=record_id) if kind and record_id else None


class TaskOut(BaseModel):
    """A staff task."""

    id: uuid.UUID
    dealer_id: str
    customer_id: uuid.UUID
    kind: str
    title: str
    assignee: str
    assignee_role: str
    due_at: datetime
    status: TaskStatusName
    outcome: str | None
    note: str | None
    script: str | None
    business_key: str = Field(description="Unique per dealer; the key of the task's timer.")
    related: RelatedOut | None
    completed_by: str | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime
    updated_at: datetime
    planned_due_at: datetime = Field(
        description="The due time the task was planned with: a snooze moves due_at, never "
        "this (the hard SLA a snooze may not pass is counted from it)."
    )
    snoozed_at: datetime | None = None
    snoozed_by: str | None = None
    snooze_reason: str | None = None
    unreachable_attempts: int = Field(
        default=0,
        description="Unreachable outcomes recorded on this task and its earlier attempts.",
    )

    @classmethod
    def of(cls, row: TaskRow) -> TaskOut:
        return cls(
            id=row.id,
            dealer_id=row.dealer_id,
            customer_id=row.customer_id,
            kind=row.kind,
            title=row.title,
            assignee=row.assignee,
            assignee_role=row.assignee_role,
            due_at=row.due_at,
            status=TaskStatusName(row.status),
            outcome=row.outcome,
            note=row.note,
            script=row.script,
            business_key=row.business_key,
            related=_related(row.related_kind, row.related_id),
            completed_by=row.completed_by,
            completed_at=row.completed_at,
            cancelled_at=row.cancelled_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            planned_due_at=row.hard_due_at,
            snoozed_at=row.snoozed_at,
            snoozed_by=row.snoozed_by,
            snooze_reason=row.snooze_reason,
            unreachable_attempts=row.unreachable_attempts,
        )


class TaskPage(Page[TaskOut]):
    """A page of tasks; pass next_cursor back as cursor for the next page (null: last)."""


class TaskCompletion(BaseModel):
    """The outcome a staff member records; a dissatisfied outcome needs a note."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["reached", "unreachable", "satisfied", "dissatisfied"]
    note: Annotated[str, StringConstraints(max_length=4000)] | None = None
    completed_by: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None
    ) = Field(
        default=None,
        description="Staff id; defaults to the caller (the token's subject).",
    )


class NotificationOut(BaseModel):
    """A message to a customer or a staff member, and what became of it."""

    id: uuid.UUID
    dealer_id: str
    customer_id: uuid.UUID
    audience: Literal["customer", "staff"]
    recipient: str | None
    business_key: str
    reminder_id: uuid.UUID | None
    kind: str
    purpose: str | None
    channel: str
    locale: str | None
    subject: str | None
    body: str | None
    status: Literal["queued", "sent", "failed", "suppressed"]
    policy: str | None = Field(description="Contact policy that suppressed it, if any.")
    error: str | None
    provider_message_id: str | None
    attempts: int
    related: RelatedOut | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None = Field(
        default=None, description="When the provider's delivery receipt said it arrived."
    )

    @classmethod
    def of(cls, row: NotificationRow) -> NotificationOut:
        data: dict[str, Any] = {
            name: getattr(row, name)
            for name in NotificationRow.__slots__
            if name not in ("related_kind", "related_id")
        }
        return cls(**data, related=_related(row.related_kind, row.related_id))


class NotificationPage(Page[NotificationOut]):
    """A page of notifications."""


class ReminderOut(BaseModel):
    """A customer message planned for later."""

    id: uuid.UUID
    dealer_id: str
    customer_id: uuid.UUID
    business_key: str
    kind: str
    purpose: str
    channel: str
    send_at: datetime
    status: Literal["scheduled", "sent", "suppressed", "failed", "cancelled"]
    params: dict[str, str]
    attempts: int
    related: RelatedOut | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: ReminderRow) -> ReminderOut:
        return cls(
            id=row.id,
            dealer_id=row.dealer_id,
            customer_id=row.customer_id,
            business_key=row.business_key,
            kind=row.kind,
            purpose=row.purpose,
            channel=row.channel,
            send_at=row.send_at,
            status=row.status,
            params=row.params,
            attempts=row.attempts,
            related=_related(row.related_kind, row.related_id),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class ReminderPage(Page[ReminderOut]):
    """A page of reminders."""
