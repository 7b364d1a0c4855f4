"""Messages to staff (first-contact warnings, escalation alerts, a lead reassigned after
a missed first contact): recorded as queued notifications and delivered by a timer that
is due at once, because delivery is I/O and consumer handlers must only have database
effects. Also the TaskDue a reassign watch publishes again (``report_breach``), on which
leads reassigns the lead.

The notification row is the outbox record: written in the transaction that decided the
alert (so once per alert), then sent by the ``notifier.staff_alert`` timer, retried with
exponential backoff (``message_retry_backoff_s`` doubling) on retryable failures and
marked ``failed`` after ``message_max_attempts`` (or at once on a final failure); other
timers of the batch go on either way. Channel ``staff`` goes through the staff channel
driver; ``oem_webhook`` POSTs the row's body (a JSON document) to the dealer's
``people.oem_region.webhook_url`` as read at each attempt (a URL the dealer corrects
between retries is used), signed like the webhook driver, with the notification id as
``Idempotency-Key``: a POST repeated because the poller's transaction failed after it
carries the same key, so the OEM side can drop the copy.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, timedelta
from typing import Any

from dealerflow.contracts.care_enums import RecordKind
from dealerflow.notifier import repository_messages as msgs
from dealerflow.notifier.channels import (
    STAFF_CHANNEL,
    ChannelRegistry,
    OutboundMessage,
    SendResult,
    post_safely,
    send_safely,
)
from dealerflow.notifier.domain import AlertKind, RecordRef
from dealerflow.notifier.domain_alerts import (
    OEM_WEBHOOK_CHANNEL,
    STAFF_ALERT,
    BreachReassignment,
    StaffAlert,
    alert_timer_key,
    breach_reassignment_alerts,
    breaches_at_watch,
)
from dealerflow.notifier.domain_task_texts import AlertText, render_alert
from dealerflow.notifier.records import NotificationRow, TaskRow
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases_tasks import publish_task_due
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]
log = logging.getLogger("dealerflow.notifier.alerts")

# -- staff alerts ---------------------------------------------------------------------------


async def queue_staff_alert(
    uc: Uc,
    *,
    dealer_id: str,
    customer_id: uuid.UUID,
    recipient: str,
    business_key: str,
    kind: str,
    alert: StaffAlert | AlertText,
    related: RecordRef | None,
    channel: str = STAFF_CHANNEL,
) -> uuid.UUID:
    """Record a message to a staff member and deliver it through ``channel`` (the staff
    channel, or ``oem_webhook`` with ``alert.body`` the JSON document) as soon as the timer
    poller runs (delivery is I/O: never inside a consumer's handler). A catalogue alert
    (`domain_task_texts.AlertText`) is written in the dealer's staff language
    (``profile.staff_locale``), in the dealer's wording where usable."""
    notification_id = uuid.uuid4()
    now = uc.now
    locale: str | None = None
    if isinstance(alert, AlertText):
        dealer = await uc.dealer(dealer_id)
        rendered = render_alert(
            alert, dealer.profile.staff_locale, dealer.policy.contact.task_texts
        )
        if rendered.dealer_text_refused is not None:
            log.warning(
                "dealer %s alert text %s/%s not used (%s): wrote the built-in one",
                dealer_id,
                alert.key,
                rendered.locale.value,
                rendered.dealer_text_refused,
            )
        locale = rendered.locale.value
        alert = StaffAlert(subject=rendered.title, body=rendered.script)
    await msgs.insert_notification(
        uc.conn,
        NotificationRow(
            id=notification_id,
            dealer_id=dealer_id,
            customer_id=customer_id,
            audience="staff",
            recipient=recipient,
            business_key=business_key,
            reminder_id=None,
            kind=kind,
            purpose=None,
            channel=channel,
            locale=locale,
            subject=alert.subject,
            body=alert.body,
            status="queued",
            policy=None,
            error=None,
            provider_message_id=None,
            attempts=0,
            related_kind=related.kind.value if related else None,
            related_id=related.id if related else None,
            created_at=now,
            sent_at=None,
        ),
    )
    await uc.schedule_timer(
        key=alert_timer_key(notification_id),
        kind=STAFF_ALERT,
        dealer_id=dealer_id,
        due_at=now,
        payload={"notification_id": str(notification_id)},
    )
    return notification_id


async def report_breach(uc: Uc, watched: TaskRow, alert_kind: AlertKind) -> None:
    """A watch acted on the still open ``watched`` task: a reassign watch publishes its
    TaskDue again with the breaches counted so far (see ``domain_alerts``)."""
    policy = await uc.policy(watched.dealer_id)
    breaches = breaches_at_watch(alert_kind, policy.leads.reassign_after_breaches)
    if breaches is not None:
        await publish_task_due(uc, watched, breaches)


async def tell_consultants_of_breach_reassignment(uc: Uc, moved: BreachReassignment) -> None:
    """A lead taken from its consultant after a missed first contact: a staff message to
    the previous and to the new consultant (nothing for other reassignments)."""
    stamp = moved.assigned_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    lead = RecordRef(RecordKind.LEAD, moved.lead_id)
    for recipient, alert in breach_reassignment_alerts(moved):
        await queue_staff_alert(
            uc,
            dealer_id=moved.dealer_id,
            customer_id=moved.customer_id,
            recipient=recipient,
            business_key=f"lead:{moved.lead_id}:reassigned@{stamp}:{recipient}",
            kind="lead_reassigned_sla_breach",
            alert=alert,
            related=lead,
        )


async def deliver_staff_alert(
    uc: Uc, channels: ChannelRegistry, dealer_id: str, payload: Mapping[str, Any]
) -> None:
    """Send a queued staff alert; retry with backoff on retryable failures."""
    row = await msgs.get_notification(
        uc.conn, dealer_id, uuid.UUID(str(payload["notification_id"])), for_update=True
    )
    if row is None or row.status != "queued":
        return
    attempt = row.attempts + 1
    if row.channel == OEM_WEBHOOK_CHANNEL:
        result = await _post_to_oem(uc, channels, row)
    else:
        message = OutboundMessage(
            id=row.id,
            dealer_id=dealer_id,
            customer_id=row.customer_id,
            audience="staff",
            channel=STAFF_CHANNEL,
            recipient=row.recipient or "",
            kind=row.kind,
            subject=row.subject or "",
            body=row.body or "",
            metadata={"business_key": row.business_key},
        )
        result = await send_safely(channels.staff, message)
    now = uc.now
    retry = not result.ok and result.retryable and attempt < uc.settings.message_max_attempts
    await msgs.finish_notification(
        uc.conn,
        dealer_id,
        row.id,
        status="sent" if result.ok else ("queued" if retry else "failed"),
        attempts=attempt,
        error=result.error,
        provider_message_id=result.provider_message_id,
        sent_at=now if result.ok else None,
    )
    if retry:
        backoff = timedelta(seconds=uc.settings.message_retry_backoff_s * 2 ** (attempt - 1))
        await uc.cancel_timer(alert_timer_key(row.id))  # see usecases_messages._reschedule
        await uc.schedule_timer(
            key=alert_timer_key(row.id),
            kind=STAFF_ALERT,
            dealer_id=dealer_id,
            due_at=now + backoff,
            payload={"notification_id": str(row.id)},
        )


async def _post_to_oem(uc: Uc, channels: ChannelRegistry, row: NotificationRow) -> SendResult:
    url = (await uc.dealer(row.dealer_id)).people.oem_region.webhook_url
    if not url:
        # the dealer removed its webhook after the alert was queued: nowhere to send it
        # (the escalation task for the OEM contact is still on the task list)
        error = "the dealer has no people.oem_region.webhook_url any more"
        return SendResult(ok=False, error=error, retryable=False)
    document = json.loads(row.body or "{}")
    return await post_safely(channels.webhook_to(url), document, idempotency_key=str(row.id))
