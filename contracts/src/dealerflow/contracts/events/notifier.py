"""Events of the notifier context (topic dealerflow.notifier): staff tasks, customer
messages, surveys and consent."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints

from dealerflow.contracts.care_enums import (
    ConsentSource,
    ReminderKind,
    SuppressionPolicy,
    SurveyKind,
    TaskCancelReason,
    TaskKind,
    TaskOutcome,
)
from dealerflow.contracts.contact import RelatedRecord
from dealerflow.contracts.enums import ConsentPurpose, CustomerTier, Locale, MessageChannel
from dealerflow.contracts.events.base import DomainEvent, EventDoc
from dealerflow.contracts.types import EntityId, Money, StaffId, Trimmed, UtcDatetime

Text = Annotated[str, StringConstraints(max_length=4000)]
Title = Annotated[str, Trimmed(max_length=200)]
TemplateName = Annotated[str, Trimmed(max_length=100)]


class _NotifierBase(DomainEvent):
    context: ClassVar[str] = "notifier"


class TaskScheduled(_NotifierBase):
    """A staff task (callback, follow-up, review, alert, a manual task) was created, or an
    open one was claimed, reassigned or snoozed: then it is published again with the same
    ``task_id`` and the new assignee or due time (``previous_assignee_id`` set on a claim
    or a reassignment)."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The notifier reacts to an event with a task for staff, or staff create one "
        "(POST /v1/tasks); again with the same task_id when a task is claimed, reassigned "
        "or snoozed.",
        emitted_by=("notifier",),
        reacted_by=("none in dealerflow (staff front ends, analytics)",),
    )
    type: Literal["TaskScheduled"] = Field(default="TaskScheduled", description="Event name.")
    task_id: EntityId = Field(description="Identifier of the task.")
    kind: TaskKind = Field(description="What the task is for.")
    assignee_id: StaffId = Field(description="Staff member who must do it.")
    due_at: UtcDatetime = Field(description="When it is due, UTC.")
    title: Title = Field(description="Short title shown in the task list.")
    script: Text | None = Field(default=None, description="What to say to the customer.")
    related: RelatedRecord | None = Field(
        default=None, description="Record the task is about (lead, RO, complaint...)."
    )
    previous_assignee_id: StaffId | None = Field(
        default=None,
        description="Who had the task before it was claimed or reassigned (absent when the "
        "task was created or snoozed).",
    )


class TaskDue(_NotifierBase):
    """A task reached its due time without an outcome, or a first-contact task is still
    open at the dealer's reassign watch (``breaches`` then counts the SLA periods missed)."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The notifier's timer fires at a task's due time (breaches 1); a first-contact "
        "task still open when its reassign watch fires is due again, with breaches the "
        "dealer's reassign_after_breaches.",
        emitted_by=("notifier",),
        reacted_by=(
            "leads: reassigns the lead of a first-contact task to the next on-duty consultant "
            "once breaches reaches the dealer's reassign_after_breaches (LeadAssigned "
            "sla_breach)",
        ),
    )
    type: Literal["TaskDue"] = Field(default="TaskDue", description="Event name.")
    task_id: EntityId = Field(description="Identifier of the task.")
    kind: TaskKind = Field(description="What the task is for.")
    assignee_id: StaffId = Field(description="Staff member who must do it.")
    due_at: UtcDatetime = Field(description="The due time, UTC.")
    related: RelatedRecord | None = Field(default=None, description="Record the task is about.")
    breaches: int = Field(
        default=1,
        ge=1,
        description="How many SLA periods the task has been open past (1 at the due time).",
    )


class TaskCompleted(_NotifierBase):
    """A staff member recorded the task's outcome (only then is a task done)."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="POST /v1/tasks/{id}/complete records an outcome.",
        emitted_by=("notifier",),
        reacted_by=(
            "complaints: opens a complaint when the outcome is dissatisfied",
            "leads: logs a lead's first-contact, follow-up or re-grade task as a phone "
            "contact (LeadContacted), once per task",
            "notifier: a satisfaction callback completed satisfied plans the delivery's "
            "referral invitation (marketing, once per delivery)",
        ),
    )
    type: Literal["TaskCompleted"] = Field(default="TaskCompleted", description="Event name.")
    task_id: EntityId = Field(description="Identifier of the task.")
    kind: TaskKind = Field(description="What the task was for.")
    assignee_id: StaffId = Field(description="Staff member who completed it.")
    outcome: TaskOutcome = Field(description="Reached, unreachable, satisfied, dissatisfied.")
    note: Text | None = Field(default=None, description="Staff note, e.g. what displeased.")
    related: RelatedRecord | None = Field(default=None, description="Record the task is about.")
    completed_at: UtcDatetime = Field(description="When the outcome was recorded, UTC.")


class TaskCancelled(_NotifierBase):
    """A pending task is no longer needed."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="A later event makes the task moot (lead lost, complaint resolved...).",
        emitted_by=("notifier",),
        reacted_by=("none in dealerflow (staff front ends)",),
    )
    type: Literal["TaskCancelled"] = Field(default="TaskCancelled", description="Event name.")
    task_id: EntityId = Field(description="Identifier of the task.")
    kind: TaskKind = Field(description="What the task was for.")
    reason: TaskCancelReason = Field(description="Why it was cancelled.")
    cancelled_at: UtcDatetime = Field(description="When, UTC.")


class ReminderScheduled(_NotifierBase):
    """A customer message was planned for a future time."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The notifier plans a reminder, greeting or survey invitation.",
        emitted_by=("notifier",),
        reacted_by=("none in dealerflow",),
    )
    type: Literal["ReminderScheduled"] = Field(
        default="ReminderScheduled", description="Event name."
    )
    reminder_id: EntityId = Field(description="Identifier of the reminder.")
    kind: ReminderKind = Field(description="Kind of message.")
    purpose: ConsentPurpose = Field(description="Consent purpose the message falls under.")
    channel: MessageChannel = Field(description="Planned channel.")
    template: TemplateName = Field(description="Message template name.")
    send_at: UtcDatetime = Field(description="Planned send time, UTC.")
    related: RelatedRecord | None = Field(default=None, description="Record it is about.")


class NotificationSent(_NotifierBase):
    """A customer message was handed to the channel provider. Its delivery receipt, when the
    provider sends one, publishes nothing more when it was delivered (the notifier records
    when on the notification) and NotificationFailed when it was not."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The provider accepted the message (before any delivery receipt).",
        emitted_by=("notifier",),
        reacted_by=("none in dealerflow",),
    )
    type: Literal["NotificationSent"] = Field(default="NotificationSent", description="Event name.")
    notification_id: EntityId = Field(description="Identifier of the message.")
    reminder_id: EntityId | None = Field(default=None, description="Reminder it fulfils.")
    kind: ReminderKind = Field(description="Kind of message.")
    purpose: ConsentPurpose = Field(description="Consent purpose.")
    channel: MessageChannel = Field(description="Channel used.")
    template: TemplateName = Field(description="Template used.")
    locale: Locale = Field(description="Language used.")
    provider_message_id: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Id the provider returned."
    )
    sent_at: UtcDatetime = Field(description="When, UTC.")


class NotificationFailed(_NotifierBase):
    """Sending a customer message failed, or the provider's delivery receipt said a message
    it had accepted (NotificationSent of the same notification_id) did not arrive."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The provider rejected the message or could not be reached; or its delivery "
        "receipt reported an accepted message undelivered (final, the provider's code in "
        "error).",
        emitted_by=("notifier",),
        reacted_by=("none in dealerflow (operators)",),
    )
    type: Literal["NotificationFailed"] = Field(
        default="NotificationFailed", description="Event name."
    )
    notification_id: EntityId = Field(description="Identifier of the message.")
    reminder_id: EntityId | None = Field(default=None, description="Reminder it was for.")
    channel: MessageChannel = Field(description="Channel tried.")
    error: Text = Field(description="Provider or transport error.")
    retryable: bool = Field(description="Another attempt will be made.")
    attempts: int = Field(ge=1, description="Attempts made so far.")
    failed_at: UtcDatetime = Field(description="When, UTC.")


class NotificationSuppressed(_NotifierBase):
    """A customer message was not sent because a contact policy stopped it."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="Consent, opt-out, quiet hours, marketing cap, duplicate or invitation-declined "
        "policy stops a message.",
        emitted_by=("notifier",),
        reacted_by=("none in dealerflow (audit)",),
    )
    type: Literal["NotificationSuppressed"] = Field(
        default="NotificationSuppressed", description="Event name."
    )
    notification_id: EntityId = Field(description="Identifier of the message.")
    reminder_id: EntityId | None = Field(default=None, description="Reminder it was for.")
    kind: ReminderKind = Field(description="Kind of message.")
    channel: MessageChannel = Field(description="Channel it would have used.")
    policy: SuppressionPolicy = Field(description="The policy that stopped it.")
    detail: Text | None = Field(default=None, description="Details, e.g. the cap reached.")
    suppressed_at: UtcDatetime = Field(description="When, UTC.")


class SurveyResponded(_NotifierBase):
    """A customer answered a satisfaction survey (score 0-10)."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="A survey answer arrives (link, WeChat, callback).",
        emitted_by=("notifier", "outside survey tools"),
        reacted_by=(
            "complaints: opens a complaint for a score of 6 or less",
            "notifier: a delivery survey scored 9 or more plans the delivery's referral "
            "invitation (marketing, once per delivery)",
        ),
    )
    type: Literal["SurveyResponded"] = Field(default="SurveyResponded", description="Event name.")
    survey_id: EntityId = Field(description="Identifier of the survey response.")
    kind: SurveyKind = Field(description="Which survey.")
    score: int = Field(ge=0, le=10, description="Score from 0 (worst) to 10 (best).")
    comment: Text | None = Field(default=None, description="Customer's comment.")
    related: RelatedRecord | None = Field(
        default=None, description="Record surveyed (delivery, RO, complaint)."
    )
    responded_at: UtcDatetime = Field(description="When, UTC.")


class ConsentChanged(_NotifierBase):
    """The customer granted or withdrew consent for a purpose (optionally one channel)."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="Opt-in/opt-out via link, reply keyword, form or staff; opt-out is immediate.",
        emitted_by=("notifier", "any service capturing consent"),
        reacted_by=(
            "notifier: keeps it in its consent store, which every pending message consults "
            "when it falls due (applies immediately)",
            "complaints: refreshes its contact snapshots",
            "leads, service-center: refresh the consent in the contact snapshots they keep for "
            "the customer (leads; repair orders, service appointments, owned vehicles)",
        ),
    )
    type: Literal["ConsentChanged"] = Field(default="ConsentChanged", description="Event name.")
    consent_id: EntityId = Field(description="Identifier of this consent record.")
    purpose: ConsentPurpose = Field(description="Purpose concerned.")
    channel: MessageChannel | None = Field(
        default=None, description="Channel concerned; absent = every channel."
    )
    granted: bool = Field(description="True = consent given, False = withdrawn.")
    source: ConsentSource = Field(description="Where the change came from.")
    changed_at: UtcDatetime = Field(description="When, UTC.")


class CustomerTierChanged(_NotifierBase):
    """A customer's tier (VIP / key / regular) changed under the dealer's tier rules."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The notifier's tier rules put a customer in another tier after a purchase, "
        "a paid service visit or a referral that converted, or when service spend leaves "
        "the rules' window (the first tier above regular included).",
        emitted_by=("notifier", "any CRM that keeps customer tiers"),
        reacted_by=(
            "complaints: keeps the customer's tier; complaints opened afterwards take it and "
            "get shorter acknowledge, first-update and resolve clocks "
            "(complaints.tier_sla_factors; the legal inform clock unchanged)",
        ),
    )
    type: Literal["CustomerTierChanged"] = Field(
        default="CustomerTierChanged", description="Event name."
    )
    tier: CustomerTier = Field(description="The customer's tier from now on.")
    previous_tier: CustomerTier | None = Field(
        default=None, description="The tier before; absent for a customer not tiered before."
    )
    purchases: int | None = Field(
        default=None, ge=0, description="Vehicles bought at this dealer, the rules' basis."
    )
    service_spend: Money | None = Field(
        default=None, description="Service spend over the rules' window, the rules' basis."
    )
    referrals: int | None = Field(
        default=None, ge=0, description="Customers referred who bought, the rules' basis."
    )
    changed_at: UtcDatetime = Field(description="When, UTC.")


NOTIFIER_EVENTS: tuple[type[DomainEvent], ...] = (
    TaskScheduled,
    TaskDue,
    TaskCompleted,
    TaskCancelled,
    ReminderScheduled,
    NotificationSent,
    NotificationFailed,
    NotificationSuppressed,
    SurveyResponded,
    ConsentChanged,
    CustomerTierChanged,
)
