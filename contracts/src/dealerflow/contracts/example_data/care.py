"""Examples of the notifier events."""

from __future__ import annotations

from datetime import UTC, datetime

from dealerflow.contracts import care_enums as ce
from dealerflow.contracts import enums as en
from dealerflow.contracts.contact import RelatedRecord
from dealerflow.contracts.events import DomainEvent
from dealerflow.contracts.events import notifier as nt
from dealerflow.contracts.example_data.common import (
    COMMON,
    CONSULTANT,
    at,
)
from dealerflow.contracts.types import Money


def notifier_examples() -> list[DomainEvent]:
    delivery = RelatedRecord(kind=ce.RecordKind.DELIVERY, id="dlv-601")
    return [
        nt.TaskScheduled(
            **COMMON,
            occurred_at=at(22, 7),
            task_id="task-9000",
            kind=ce.TaskKind.DELIVERY_CALLBACK,
            assignee_id=CONSULTANT,
            due_at=at(23, 7),
            title="24 h delivery callback: 张伟 (Seal)",
            script="Thank the customer; ask about the car and the app pairing.",
            related=delivery,
        ),
        nt.TaskDue(
            **COMMON,
            occurred_at=at(23, 7),
            task_id="task-9000",
            kind=ce.TaskKind.DELIVERY_CALLBACK,
            assignee_id=CONSULTANT,
            due_at=at(23, 7),
            related=delivery,
        ),
        nt.TaskCompleted(
            **COMMON,
            occurred_at=at(23, 6),
            task_id="task-9000",
            kind=ce.TaskKind.DELIVERY_CALLBACK,
            assignee_id=CONSULTANT,
            outcome=ce.TaskOutcome.SATISFIED,
            note="Happy with the car",
            related=delivery,
            completed_at=at(23, 6),
        ),
        nt.TaskCancelled(
            **COMMON,
            occurred_at=at(10, 8),
            task_id="task-8100",
            kind=ce.TaskKind.LEAD_FOLLOW_UP,
            reason=ce.TaskCancelReason.LEAD_CLOSED,
            cancelled_at=at(10, 8),
        ),
        nt.ReminderScheduled(
            **COMMON,
            occurred_at=at(22, 7),
            reminder_id="rem-4000",
            kind=ce.ReminderKind.MAINTENANCE_DUE,
            purpose=en.ConsentPurpose.SERVICE,
            channel=en.MessageChannel.WECHAT,
            template="maintenance_due",
            send_at=datetime(2026, 9, 8, 2, tzinfo=UTC),
            related=delivery,
        ),
        nt.NotificationSent(
            **COMMON,
            occurred_at=at(27, 2),
            notification_id="ntf-5000",
            reminder_id="rem-3999",
            kind=ce.ReminderKind.SERVICE_APPOINTMENT,
            purpose=en.ConsentPurpose.SERVICE,
            channel=en.MessageChannel.SMS,
            template="service_appointment_24h",
            locale=en.Locale.ZH_CN,
            provider_message_id="sms-aliyun-8f2c",
            sent_at=at(27, 2),
        ),
        nt.NotificationFailed(
            **COMMON,
            occurred_at=at(27, 2),
            notification_id="ntf-5001",
            reminder_id="rem-3998",
            channel=en.MessageChannel.EMAIL,
            error="SMTP 450 mailbox unavailable",
            retryable=True,
            attempts=1,
            failed_at=at(27, 2),
        ),
        nt.NotificationSuppressed(
            **COMMON,
            occurred_at=at(27, 14),
            notification_id="ntf-5002",
            reminder_id="rem-3997",
            kind=ce.ReminderKind.HOLIDAY_GREETING,
            channel=en.MessageChannel.WECHAT,
            policy=ce.SuppressionPolicy.NO_CONSENT,
            detail="No marketing consent",
            suppressed_at=at(27, 14),
        ),
        nt.SurveyResponded(
            **COMMON,
            occurred_at=at(29, 2),
            survey_id="srv-700",
            kind=ce.SurveyKind.DELIVERY_SATISFACTION,
            score=9,
            comment="Smooth delivery",
            related=delivery,
            responded_at=at(29, 2),
        ),
        nt.ConsentChanged(
            **COMMON,
            occurred_at=at(30, 12),
            consent_id="cons-12",
            purpose=en.ConsentPurpose.MARKETING,
            channel=en.MessageChannel.SMS,
            granted=False,
            source=ce.ConsentSource.REPLY_KEYWORD,
            changed_at=at(30, 12),
        ),
        nt.CustomerTierChanged(
            **COMMON,
            occurred_at=at(30, 13),
            tier=en.CustomerTier.VIP,
            previous_tier=en.CustomerTier.KEY,
            purchases=2,
            service_spend=Money(amount="18600.00", currency="CNY"),
            referrals=1,
            changed_at=at(30, 13),
        ),
    ]
