"""Use cases of customer reminders and staff alerts.

Planning writes a row and a durable timer in the caller's transaction; all delivery
happens when the timer fires (in the timer poller), never in a Kafka consumer, because
consumer handlers may be re-run and must only have database effects. The contact policy
(`decide_send`) is applied at send time with the consent store (`usecases_consent`: the
newest recorded change wins) and the newest contact snapshot, so an opt-out recorded after
planning stops the message on that channel: the message goes on the next channel of the
dealer's ``contact.channel_order`` the customer can get it on (channel fallback), and is
suppressed only when no channel is left.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from dealerflow.contracts.care_enums import RecordKind, ReminderKind, SuppressionPolicy
from dealerflow.contracts.contact import ContactSnapshot, RelatedRecord
from dealerflow.contracts.enums import ConsentPurpose, Locale, MessageChannel
from dealerflow.contracts.events.notifier import (
    NotificationFailed,
    NotificationSent,
    NotificationSuppressed,
    ReminderScheduled,
)
from dealerflow.notifier import repository as repo
from dealerflow.notifier import repository_leads as leads_repo
from dealerflow.notifier import repository_messages as msgs
from dealerflow.notifier import usecases_consent as consents
from dealerflow.notifier.channels import (
    ChannelRegistry,
    OutboundMessage,
    SendResult,
    no_driver_error,
    send_safely,
)
from dealerflow.notifier.domain import (
    MissingTemplateParams,
    PlannedReminder,
    SendVerdict,
    decide_send,
    next_insurance_renewal,
    render_message,
)
from dealerflow.notifier.domain_alerts import (
    REMINDER_SEND,
    address_for,
    channel_candidates,
    choose_channel,
    timer_key,
)
from dealerflow.notifier.domain_calendar import disabled_rule
from dealerflow.notifier.domain_consent import UnsubscribeTarget, with_unsubscribe_link
from dealerflow.notifier.domain_contact import (
    SendDecision,
    channels_for_purpose,
    first_open_channel,
)
from dealerflow.notifier.domain_inspections import next_inspection
from dealerflow.notifier.domain_types import RecordRef
from dealerflow.notifier.records import NewReminder, NotificationRow, ReminderRow
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.policy import DealerPolicy
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.timers import NewTimer

Uc = UseCaseContext[NotifierSettings]
log = logging.getLogger("dealerflow.notifier")


def _related(kind: str | None, record_id: str | None) -> RelatedRecord | None:
    if kind is None or record_id is None:
        return None
    return RelatedRecord.model_validate({"kind": kind, "id": record_id})


@dataclass(frozen=True, slots=True)
class ReminderToCreate:
    """A planned customer message to create in the context ``uc`` of the event it reacts
    to, with the newest contact snapshot known (None: none known yet)."""

    uc: Uc
    planned: PlannedReminder
    contact: ContactSnapshot | None


async def schedule_reminder(
    uc: Uc, planned: PlannedReminder, contact: ContactSnapshot | None
) -> ReminderRow | None:
    """Plan a customer message (once per business key) and publish ReminderScheduled;
    None when planned before or its rule is off (`schedule_reminders` of one)."""
    return (await schedule_reminders([ReminderToCreate(uc, planned, contact)]))[0]


async def schedule_reminders(todo: Sequence[ReminderToCreate]) -> list[ReminderRow | None]:
    """Plan customer messages (once per business key) with their send timers and publish
    a ReminderScheduled each (caused by its own context's event): one statement for the
    reminders and one for their timers (all contexts share one connection). Per entry of
    ``todo`` the reminder created, or None when planned before (or earlier in ``todo``),
    or when the dealer turned the message's care-calendar rule off (``care.disabled``,
    see `domain_calendar`)."""
    if not todo:
        return []
    new = [await _new_reminder(item) for item in todo]
    rows = await msgs.insert_reminders(todo[0].uc.conn, [r for r in new if r is not None])
    by_id = {row.id: row for row in rows}
    # None: planned before (a redelivered or repeated event)
    created = [by_id.get(r.id) if r is not None else None for r in new]
    made = [(item, row) for item, row in zip(todo, created, strict=True) if row is not None]
    await todo[0].uc.schedule_timers(
        [
            NewTimer(
                key=timer_key(row.dealer_id, row.business_key),
                kind=REMINDER_SEND,
                dealer_id=row.dealer_id,
                due_at=row.send_at,
                payload={"reminder_id": str(row.id)},
            )
            for _, row in made
        ]
    )
    for item, row in made:
        await item.uc.publish(
            ReminderScheduled(
                dealer_id=row.dealer_id,
                customer_id=row.customer_id,
                occurred_at=row.created_at,
                reminder_id=str(row.id),
                kind=item.planned.kind,
                purpose=item.planned.purpose,
                channel=MessageChannel(row.channel),
                template=item.planned.kind.value,
                send_at=row.send_at,
                related=_related(row.related_kind, row.related_id),
            )
        )
    return created


async def _new_reminder(item: ReminderToCreate) -> NewReminder | None:
    """The row of a planned message (its channel); None when its rule is off."""
    uc, planned, contact = item.uc, item.planned, item.contact
    policy = await uc.policy(planned.dealer_id)
    if (off := disabled_rule(planned, policy)) is not None:
        log.info(off.not_planned(planned))
        return None
    # a marketing message only on the dealer's marketing channels; with none, the channel
    # it would have had (it is suppressed when due, NO_MARKETING_CHANNEL)
    enabled = channels_for_purpose(policy, planned.purpose) or policy.contact.channels
    channel = (
        choose_channel(contact, enabled, policy.contact.channel_order)
        if contact is not None
        else MessageChannel(enabled[0])
    )
    return NewReminder(
        id=uuid.uuid4(),
        dealer_id=planned.dealer_id,
        customer_id=planned.customer_id,
        business_key=planned.key,
        kind=planned.kind.value,
        purpose=planned.purpose.value,
        channel=channel.value,
        send_at=planned.send_at,
        params=dict(planned.params),
        contact=contact,
        related_kind=planned.related.kind.value,
        related_id=planned.related.id,
        source_event_id=uc.source_event_id,
        created_at=uc.now,
    )


async def send_reminder(
    uc: Uc, channels: ChannelRegistry, dealer_id: str, payload: Mapping[str, Any]
) -> None:
    """A reminder fell due: apply the contact policy, then send, defer or suppress it."""
    reminder = await msgs.get_reminder(
        uc.conn, dealer_id, uuid.UUID(str(payload["reminder_id"])), for_update=True
    )
    if reminder is None or reminder.status != "scheduled":
        return
    now = uc.now
    attempt = reminder.attempts + 1
    # stable per attempt: a re-run of this handler hands the provider the same id
    notification_id = uuid.uuid5(reminder.id, f"attempt-{attempt}")
    contact = await repo.get_contact(uc.conn, dealer_id, reminder.customer_id) or reminder.contact
    kind = ReminderKind(reminder.kind)
    purpose = ConsentPurpose(reminder.purpose)
    following = _FOLLOWING.get(kind)
    if following is not None:
        await _plan_following(uc, reminder, contact, following)
    if contact is None:
        await _suppress(
            uc,
            reminder,
            notification_id,
            MessageChannel(reminder.channel),
            SuppressionPolicy.NO_CONTACT_ADDRESS,
            "no contact snapshot known",
        )
        return
    dealer = await uc.dealer(dealer_id)
    policy = dealer.policy
    enabled = channels_for_purpose(policy, purpose)
    if not enabled:
        await _suppress(
            uc,
            reminder,
            notification_id,
            MessageChannel(reminder.channel),
            SuppressionPolicy.NO_MARKETING_CHANNEL,
            "none of the dealer's channels may carry marketing (contact.marketing_channels)",
        )
        return
    # the same on every channel: asked once
    marketing_sent = await msgs.marketing_sent_since(
        uc.conn, dealer_id, reminder.customer_id, now - policy.contact.marketing_cap_window
    )
    sent_keys = await msgs.sent_keys(
        uc.conn, dealer_id, reminder.customer_id, reminder.business_key
    )
    marketing = purpose is ConsentPurpose.MARKETING
    declined = marketing and await leads_repo.invitation_declined(
        uc.conn, dealer_id, reminder.customer_id
    )
    complaint = marketing and await consents.has_open_complaint(uc, dealer_id, reminder.customer_id)
    candidates = channel_candidates(contact, enabled, policy.contact.channel_order)
    recorded = {
        candidate: await consents.consent_for(
            uc, dealer_id, reminder.customer_id, purpose, candidate
        )
        for candidate in candidates
    }

    def decide(candidate: MessageChannel) -> SendDecision:
        return decide_send(
            key=reminder.business_key,
            purpose=purpose,
            channel=candidate,
            consent=contact.consent,
            marketing_sent_in_window=marketing_sent,
            already_sent_keys=sent_keys,
            now=now,
            policy=policy,
            has_address=address_for(contact, candidate) is not None,
            invitation_declined=declined,
            open_complaint=complaint,
            recorded_consent=recorded[candidate],
        )

    # channel fallback: the customer's channel, else the next of the dealer's channel_order
    channel, decision = first_open_channel(candidates, decide)
    address = address_for(contact, channel)
    if decision.verdict is SendVerdict.DEFER:
        assert decision.deferred_until is not None
        await _reschedule(uc, reminder, decision.deferred_until, attempts=None)
        return
    if decision.verdict is SendVerdict.SUPPRESS:
        assert decision.suppressed_by is not None
        await _suppress(uc, reminder, notification_id, channel, decision.suppressed_by, None)
        return
    assert address is not None
    params = {
        **reminder.params,
        "customer_name": contact.name,
        "dealer_name": dealer.display_name(dealer_id),
    }
    try:
        rendered = render_message(
            kind,
            contact.locale,
            params,
            fallback_locale=Locale(policy.contact.default_locale),
            dealer_templates=policy.contact.templates,
        )
    except (MissingTemplateParams, KeyError) as exc:
        await _failed(uc, reminder, notification_id, channel, attempt, f"template: {exc}", False)
        return
    if rendered.dealer_template_refused is not None:
        log.warning(
            "dealer %s template %s/%s not used (%s): sent the built-in one",
            dealer_id,
            kind.value,
            rendered.locale.value,
            rendered.dealer_template_refused,
        )
    body = rendered.body
    metadata = {"reminder_id": str(reminder.id), "business_key": reminder.business_key}
    if reminder.params.get("survey_url"):
        # the message's link for channels that carry one apart (a WeChat template's url)
        metadata["survey_url"] = str(reminder.params["survey_url"])
    if purpose is ConsentPurpose.MARKETING:
        # every marketing message carries its way out (an e-mail driver also sends it as
        # List-Unsubscribe with List-Unsubscribe-Post, RFC 8058)
        target = UnsubscribeTarget(dealer_id, reminder.customer_id, channel)
        link = consents.unsubscribe_link(uc.settings, target)
        if link is None:
            error = "no unsubscribe link: DEALERFLOW_NOTIFIER_UNSUBSCRIBE_SECRET is not set"
            await _failed(uc, reminder, notification_id, channel, attempt, error, False)
            return
        body = with_unsubscribe_link(body, link, rendered.locale)
        metadata["unsubscribe_url"] = link
    message = OutboundMessage(
        id=notification_id,
        dealer_id=dealer_id,
        customer_id=reminder.customer_id,
        audience="customer",
        channel=channel.value,
        recipient=address,
        kind=kind.value,
        subject=rendered.subject,
        body=body,
        locale=rendered.locale.value,
        metadata=metadata,
    )
    driver = channels.for_customer(channel.value)
    if driver is None:
        result = SendResult(ok=False, error=no_driver_error(channel.value))
    else:
        result = await send_safely(driver, message)
    if not result.ok:
        retry = result.retryable and attempt < uc.settings.message_max_attempts
        await _failed(
            uc, reminder, notification_id, channel, attempt, result.error or "", retry, message
        )
        return
    await msgs.insert_notification(
        uc.conn,
        _notification(
            reminder,
            notification_id,
            message,
            "sent",
            now,
            attempt,
            provider_message_id=result.provider_message_id,
        ),
    )
    await msgs.update_reminder(
        uc.conn, dealer_id, reminder.id, status="sent", now=now, attempts=attempt
    )
    await uc.publish(
        NotificationSent(
            dealer_id=dealer_id,
            customer_id=reminder.customer_id,
            occurred_at=now,
            notification_id=str(notification_id),
            reminder_id=str(reminder.id),
            kind=kind,
            purpose=purpose,
            channel=channel,
            template=kind.value,
            locale=rendered.locale,
            provider_message_id=result.provider_message_id,
            sent_at=now,
        )
    )


FollowingPlanner = Callable[[PlannedReminder, DealerPolicy], PlannedReminder | None]

#: Reminders that plan their successor when they fall due: the next year's insurance
#: renewal, the next annual inspection (`domain_inspections`).
_FOLLOWING: dict[ReminderKind, FollowingPlanner] = {
    ReminderKind.INSURANCE_RENEWAL: next_insurance_renewal,
    ReminderKind.LICENCE_INSPECTION: next_inspection,
}


async def _plan_following(
    uc: Uc,
    reminder: ReminderRow,
    contact: ContactSnapshot | None,
    planner: FollowingPlanner,
) -> None:
    """This reminder fell due (sent, deferred or suppressed alike): plan its successor
    (next year's insurance renewal, the next inspection; once, by its key)."""
    current = PlannedReminder(
        key=reminder.business_key,
        kind=ReminderKind(reminder.kind),
        dealer_id=reminder.dealer_id,
        customer_id=reminder.customer_id,
        send_at=reminder.send_at,
        purpose=ConsentPurpose(reminder.purpose),
        related=RecordRef(
            RecordKind(reminder.related_kind or RecordKind.CUSTOMER.value),
            reminder.related_id or str(reminder.customer_id),
        ),
        params=reminder.params,
    )
    following = planner(current, await uc.policy(reminder.dealer_id))
    if following is not None:
        await schedule_reminder(uc, following, contact)


def _notification(
    reminder: ReminderRow,
    notification_id: uuid.UUID,
    message: OutboundMessage | None,
    status: str,
    now: Any,
    attempts: int,
    *,
    channel: str | None = None,
    policy: str | None = None,
    error: str | None = None,
    provider_message_id: str | None = None,
) -> NotificationRow:
    return NotificationRow(
        id=notification_id,
        dealer_id=reminder.dealer_id,
        customer_id=reminder.customer_id,
        audience="customer",
        recipient=message.recipient if message else None,
        business_key=reminder.business_key,
        reminder_id=reminder.id,
        kind=reminder.kind,
        purpose=reminder.purpose,
        channel=message.channel if message else (channel or reminder.channel),
        locale=message.locale if message else None,
        subject=message.subject if message else None,
        body=message.body if message else None,
        status=status,
        policy=policy,
        error=error,
        provider_message_id=provider_message_id,
        attempts=attempts,
        related_kind=reminder.related_kind,
        related_id=reminder.related_id,
        created_at=now,
        sent_at=now if status == "sent" else None,
    )


async def _reschedule(uc: Uc, reminder: ReminderRow, at: Any, *, attempts: int | None) -> None:
    await msgs.update_reminder(
        uc.conn,
        reminder.dealer_id,
        reminder.id,
        status="scheduled",
        now=uc.now,
        send_at=at,
        attempts=attempts,
    )
    # Fired by the poller, the timer is already marked fired; called any other way, a
    # pending one with this key would swallow the new due time, so replace it.
    key = timer_key(reminder.dealer_id, reminder.business_key)
    await uc.cancel_timer(key)
    await uc.schedule_timer(
        key=key,
        kind=REMINDER_SEND,
        dealer_id=reminder.dealer_id,
        due_at=at,
        payload={"reminder_id": str(reminder.id)},
    )


async def _suppress(
    uc: Uc,
    reminder: ReminderRow,
    notification_id: uuid.UUID,
    channel: MessageChannel,
    policy: SuppressionPolicy,
    detail: str | None,
) -> None:
    now = uc.now
    await msgs.insert_notification(
        uc.conn,
        _notification(
            reminder,
            notification_id,
            None,
            "suppressed",
            now,
            0,
            channel=channel.value,
            policy=policy.value,
            error=detail,
        ),
    )
    await msgs.update_reminder(
        uc.conn, reminder.dealer_id, reminder.id, status="suppressed", now=now
    )
    await uc.publish(
        NotificationSuppressed(
            dealer_id=reminder.dealer_id,
            customer_id=reminder.customer_id,
            occurred_at=now,
            notification_id=str(notification_id),
            reminder_id=str(reminder.id),
            kind=ReminderKind(reminder.kind),
            channel=channel,
            policy=policy,
            detail=detail,
            suppressed_at=now,
        )
    )


async def _failed(
    uc: Uc,
    reminder: ReminderRow,
    notification_id: uuid.UUID,
    channel: MessageChannel,
    attempt: int,
    error: str,
    retry: bool,
    message: OutboundMessage | None = None,
) -> None:
    now = uc.now
    await msgs.insert_notification(
        uc.conn,
        _notification(
            reminder,
            notification_id,
            message,
            "failed",
            now,
            attempt,
            channel=channel.value,
            error=error[:4000],
        ),
    )
    if retry:
        backoff = timedelta(seconds=uc.settings.message_retry_backoff_s * 2 ** (attempt - 1))
        await _reschedule(uc, reminder, now + backoff, attempts=attempt)
    else:
        await msgs.update_reminder(
            uc.conn, reminder.dealer_id, reminder.id, status="failed", now=now, attempts=attempt
        )
    await uc.publish(
        NotificationFailed(
            dealer_id=reminder.dealer_id,
            customer_id=reminder.customer_id,
            occurred_at=now,
            notification_id=str(notification_id),
            reminder_id=str(reminder.id),
            channel=channel,
            error=error[:4000] or "unknown error",
            retryable=retry,
            attempts=attempt,
            failed_at=now,
        )
    )
