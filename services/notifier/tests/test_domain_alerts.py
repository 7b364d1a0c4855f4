"""Pure rules the notifier adds to the planners (no I/O)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dealerflow.contracts.care_enums import RecordKind, TaskKind, TaskOutcome
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import Locale, MessageChannel
from dealerflow.notifier.domain import (
    AlertKind,
    ComplaintEscalationFacts,
    LeadFacts,
    PlannedAlert,
    RecordRef,
    StaffRole,
    plan_first_contact,
)
from dealerflow.notifier.domain_alerts import (
    BreachReassignment,
    breach_reassignment_alerts,
    breaches_at_watch,
    channel_candidates,
    choose_channel,
    dependents_prefix,
    goes_to_oem_webhook,
    oem_escalation_alert,
    plan_watch_task,
    root_key,
    task_outcome_of_contact,
    timer_key,
    watch_alert,
)
from dealerflow.notifier.domain_task_texts import render_alert, render_task_title
from dealerflow.policy import DealerPolicy

#: every channel, in the default order (the dealer's channels: policy.contact.channels)
ALL = DealerPolicy().contact.channels
NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
LEAD = RecordRef(RecordKind.LEAD, "L-1")


def alert(kind: AlertKind) -> PlannedAlert:
    return PlannedAlert(
        key=f"lead:L-1:first-contact:{kind.value}",
        kind=kind,
        dealer_id="D1",
        customer_id=uuid.UUID(int=1),
        fire_at=NOW,
        recipient_role=StaffRole.SALES_MANAGER,
        recipient_id=None,
        watches="lead:L-1:first-contact",
        related=LEAD,
    )


def contact(**changes: object) -> ContactSnapshot:
    data: dict[str, object] = {
        "name": "Zhang Wei",
        "phone": "+8613800138000",
        "email": "zw@example.cn",
        "preferred_channel": "wechat",
        "consent": {"service": True, "marketing": False},
    }
    data.update(changes)
    return ContactSnapshot.model_validate(data)


def test_keys() -> None:
    assert timer_key("D1", "lead:L-1:first-contact") == "D1:lead:L-1:first-contact"
    assert root_key("repair-order:R1:callback-3d:attempt-3") == "repair-order:R1:callback-3d"
    assert root_key("repair-order:R1:callback-3d") == "repair-order:R1:callback-3d"


def test_watch_keys_and_escalation_tasks_live_under_the_watched_task() -> None:
    # completing a task cancels everything under dependents_prefix(its key)
    items = plan_first_contact(
        LeadFacts("D1", uuid.UUID(int=1), "L-1", "online", NOW, "c-1"), DealerPolicy(), NOW
    )
    [task] = [i for i in items if getattr(i, "kind", None) is TaskKind.LEAD_FIRST_CONTACT]
    watches = [i for i in items if isinstance(i, PlannedAlert)]
    assert len(watches) == 3
    assert all(w.key.startswith(dependents_prefix(task.key)) for w in watches)
    escalation = plan_watch_task(watches[1], task.due_at)
    assert escalation is not None
    assert escalation.key.startswith(dependents_prefix(task.key))


def test_plan_watch_task() -> None:
    assert plan_watch_task(alert(AlertKind.WARNING), NOW) is None
    escalation = plan_watch_task(alert(AlertKind.ESCALATION), NOW)
    assert escalation is not None
    assert escalation.kind is TaskKind.OTHER
    assert escalation.assignee_role is StaffRole.SALES_MANAGER
    assert escalation.due_at == NOW
    assert escalation.related == LEAD
    assert "First contact overdue" in escalation.script
    reassign = plan_watch_task(alert(AlertKind.REASSIGN), NOW)
    assert reassign is not None
    assert "reassign" in reassign.script


def test_texts_and_titles() -> None:
    delivery = RecordRef(RecordKind.DELIVERY, "D9")
    assert render_task_title(TaskKind.DELIVERY_CALLBACK, delivery, None) == (
        "24 h delivery callback: delivery D9",
        None,
    )
    assert render_task_title(TaskKind.PARTS_REORDER, None, "en") == ("Parts reorder", None)
    warn = render_alert(
        watch_alert(AlertKind.WARNING, "First contact: lead L-1", "2025-03-03 10:15"), None
    )
    assert warn.title == "Due soon: First contact: lead L-1"
    assert "10:15" in warn.script
    assert render_alert(watch_alert(AlertKind.ESCALATION, "T", "x"), "en").title == "Overdue: T"
    zh = render_alert(watch_alert(AlertKind.REASSIGN, "首次联系", "10:15"), "zh-CN")
    assert (zh.locale, zh.title) == (Locale.ZH_CN, "需重新分配：首次联系")
    assert "10:15" in zh.script


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ("reached", TaskOutcome.REACHED),
        ("callback_requested", TaskOutcome.REACHED),
        ("unreachable", TaskOutcome.UNREACHABLE),
        ("wrong_number", TaskOutcome.UNREACHABLE),
    ],
)
def test_contact_outcomes(outcome: str, expected: TaskOutcome) -> None:
    assert task_outcome_of_contact(outcome) is expected


def test_choose_channel() -> None:
    # preferred WeChat without an OpenID: SMS
    assert choose_channel(contact(), ALL) is MessageChannel.SMS
    assert choose_channel(contact(wechat_openid="o-1"), ALL) is MessageChannel.WECHAT
    assert choose_channel(contact(preferred_channel="email"), ALL) is MessageChannel.EMAIL
    opted_out_sms = contact(
        preferred_channel="phone",
        consent={"service": True, "marketing": False, "opted_out_channels": ["sms"]},
    )
    assert choose_channel(opted_out_sms, ALL) is MessageChannel.EMAIL
    # nothing usable: the preferred one, so the contact policy names the reason
    everything_out = contact(
        consent={
            "service": True,
            "marketing": False,
            "opted_out_channels": ["sms", "wechat", "email"],
        }
    )
    assert choose_channel(everything_out, ALL) is MessageChannel.WECHAT
    assert choose_channel(contact(phone=None, preferred_channel="sms"), ALL) is MessageChannel.EMAIL


def test_fallback_channels_follow_the_dealers_channel_order() -> None:
    order = DealerPolicy().contact.channel_order
    assert order == ["wechat", "sms", "email"]
    sms_user = contact(preferred_channel="sms", email="wang@example.com")
    assert channel_candidates(sms_user, ALL, order) == [
        MessageChannel.SMS,
        MessageChannel.WECHAT,
        MessageChannel.EMAIL,
    ]
    # channels the dealer does not use are not tried, nor channels the order leaves out
    assert channel_candidates(sms_user, ["sms", "email"], ["email", "wechat"]) == [
        MessageChannel.SMS,
        MessageChannel.EMAIL,
    ]
    sms_out = contact(
        preferred_channel="sms",
        wechat_openid="o-1",
        email="wang@example.com",
        consent={"service": True, "marketing": True, "opted_out_channels": ["sms"]},
    )
    assert choose_channel(sms_out, ALL, order) is MessageChannel.WECHAT
    assert choose_channel(sms_out, ALL, ["email", "wechat"]) is MessageChannel.EMAIL


def test_a_preferred_channel_the_dealer_does_not_use_falls_back_to_its_first() -> None:
    wechat_user = contact(wechat_openid="o-1", email="li@example.com")
    assert choose_channel(wechat_user, ["email", "sms"]) is MessageChannel.EMAIL
    assert choose_channel(wechat_user, ["sms", "email"]) is MessageChannel.SMS
    # preferred WeChat without an OpenID: the others follow in the dealer's order
    assert choose_channel(contact(), ["email", "wechat", "sms"]) is MessageChannel.EMAIL
    # nothing usable: the dealer's first channel, so the contact policy names the reason
    assert choose_channel(contact(phone=None), ["sms"]) is MessageChannel.SMS


def test_watch_fire_times_follow_the_policy() -> None:
    policy = DealerPolicy.model_validate({"leads": {"warn_at_fraction": 0.5}})
    items = plan_first_contact(
        LeadFacts("D1", uuid.UUID(int=1), "L-1", "online", NOW, None), policy, NOW
    )
    fire = {i.kind: i.fire_at for i in items if isinstance(i, PlannedAlert)}
    assert fire[AlertKind.WARNING] == NOW + timedelta(minutes=7, seconds=30)
    assert fire[AlertKind.ESCALATION] == NOW + timedelta(minutes=15)


def escalation_to(role: str, level: int) -> ComplaintEscalationFacts:
    return ComplaintEscalationFacts(
        dealer_id="D001",
        customer_id=uuid.UUID(int=5),
        complaint_id="CMP-3",
        level=level,
        role=role,
        clock="resolve",
        escalated_at=NOW,
        due_at=NOW - timedelta(minutes=1),
    )


def test_only_the_oem_rung_of_a_dealer_with_a_webhook_goes_to_the_webhook() -> None:
    oem = escalation_to("oem_region", 3)
    assert goes_to_oem_webhook(oem, "https://oem.example/hook")
    assert not goes_to_oem_webhook(oem, None)
    assert not goes_to_oem_webhook(escalation_to("gm", 2), "https://oem.example/hook")


def test_the_oem_document_has_the_escalation_facts_and_nothing_of_the_customer() -> None:
    alert = oem_escalation_alert(escalation_to("oem_region", 3), "high", "Shanghai Motors")
    document = json.loads(alert.body)
    assert document == {
        "type": "complaint_escalated",
        "complaint_id": "CMP-3",
        "dealer_id": "D001",
        "dealer_name": "Shanghai Motors",
        "level": 3,
        "role": "oem_region",
        "reason": "resolve_deadline_missed",
        "clock": "resolve",
        "severity": "high",
        "due_at": "2025-03-03T01:59:00Z",
        "escalated_at": "2025-03-03T02:00:00Z",
        "summary": (
            "High complaint CMP-3 at Shanghai Motors missed its resolve deadline and is "
            "escalated to the OEM/region (level 3)."
        ),
    }
    assert str(uuid.UUID(int=5)) not in alert.body  # not even the customer id
    assert "CMP-3" in alert.subject


@pytest.mark.parametrize(
    ("kind", "after", "expected"),
    [
        (AlertKind.REASSIGN, 2, 2),
        (AlertKind.REASSIGN, 3, 3),
        (AlertKind.REASSIGN, 1, None),  # fires at the due time, whose TaskDue says it
        (AlertKind.ESCALATION, 2, None),
        (AlertKind.WARNING, 2, None),
    ],
)
def test_only_the_reassign_watch_reports_the_breaches_again(
    kind: AlertKind, after: int, expected: int | None
) -> None:
    assert breaches_at_watch(kind, after) == expected


def moved(reason: str, previous: str | None = "c-li-na") -> BreachReassignment:
    return BreachReassignment(
        dealer_id="D001",
        customer_id=uuid.uuid4(),
        lead_id="L-1",
        consultant_id="c-wang",
        previous_consultant_id=previous,
        reason=reason,
        assigned_at=NOW,
    )


def test_both_consultants_hear_of_a_breach_reassignment_and_nobody_of_others() -> None:
    told = breach_reassignment_alerts(moved("sla_breach"))
    assert [recipient for recipient, _ in told] == ["c-li-na", "c-wang"]
    to_previous, to_new = (render_alert(alert, "en") for _, alert in told)
    assert "c-wang" in to_previous.title
    assert "overdue" in to_new.title
    assert "c-li-na" in to_new.script
    in_chinese = render_alert(told[1][1], "zh-CN")
    assert "c-li-na" in in_chinese.script
    assert "首次联系" in in_chinese.title
    assert breach_reassignment_alerts(moved("manual")) == []
    assert breach_reassignment_alerts(moved("initial", previous=None)) == []
    assert breach_reassignment_alerts(moved("sla_breach", previous=None)) == []
