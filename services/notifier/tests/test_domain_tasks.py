"""Task outcome rules and message templates."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dealerflow.contracts.care_enums import ReminderKind, TaskOutcome
from dealerflow.contracts.enums import Locale
from dealerflow.notifier.domain import (
    MissingTemplateParams,
    TaskRuleError,
    TaskStatus,
    complete_task,
    consecutive_unreachable_days,
    is_dissatisfied,
    needs_retry,
    render_message,
    template_params,
)
from dealerflow.notifier.domain_templates import TEMPLATES
from dealerflow.policy import BusinessCalendar, DealerPolicy

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_dissatisfied_and_unreachable_outcomes() -> None:
    assert is_dissatisfied(TaskOutcome.DISSATISFIED)
    assert is_dissatisfied("dissatisfied")
    assert not is_dissatisfied(TaskOutcome.SATISFIED)
    assert not is_dissatisfied(None)
    assert needs_retry("unreachable")
    assert not needs_retry(TaskOutcome.REACHED)


def test_a_task_is_done_only_with_an_outcome() -> None:
    assert complete_task(TaskStatus.OPEN, TaskOutcome.REACHED) is TaskStatus.DONE
    with pytest.raises(TaskRuleError, match="outcome"):
        complete_task(TaskStatus.OPEN, None)
    with pytest.raises(TaskRuleError, match="unknown"):
        complete_task("open", "delighted")


def test_dissatisfied_needs_a_note() -> None:
    with pytest.raises(TaskRuleError, match="note"):
        complete_task(TaskStatus.OPEN, TaskOutcome.DISSATISFIED, "  ")
    assert complete_task("open", "dissatisfied", "paint scratch not fixed") is TaskStatus.DONE


@pytest.mark.parametrize("status", [TaskStatus.DONE, TaskStatus.CANCELLED])
def test_closed_tasks_cannot_change(status: TaskStatus) -> None:
    with pytest.raises(TaskRuleError):
        complete_task(status, TaskOutcome.REACHED)


def test_consecutive_unreachable_days_since_last_reach() -> None:
    calendar = BusinessCalendar(DealerPolicy())

    def at(day: int, hour: int) -> datetime:
        return datetime(2025, 3, day, hour, 0, tzinfo=SHANGHAI)

    attempts = [
        (at(3, 10), TaskOutcome.REACHED),
        (at(4, 10), TaskOutcome.UNREACHABLE),
        (at(4, 16), TaskOutcome.UNREACHABLE),  # twice the same day counts once
        (at(6, 10), TaskOutcome.UNREACHABLE),
        (at(5, 10), TaskOutcome.UNREACHABLE),
    ]
    assert consecutive_unreachable_days(attempts, calendar) == 3
    assert consecutive_unreachable_days([*attempts, (at(7, 9), "reached")], calendar) == 0
    assert consecutive_unreachable_days([], calendar) == 0
    # 23:30 UTC on the 6th is the 7th in Shanghai: a new local day.
    late_utc = datetime(2025, 3, 6, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert consecutive_unreachable_days([*attempts, (late_utc, "unreachable")], calendar) == 4


def test_every_template_exists_in_both_locales_and_renders() -> None:
    kinds = {kind for kind, _ in TEMPLATES}
    for kind in kinds:
        for locale in Locale:
            params = dict.fromkeys(template_params(kind, locale), "X")
            message = render_message(kind, locale, params)
            assert message.body
            assert "{" not in message.body


def test_render_appointment_reminder_in_chinese_and_english() -> None:
    params = {
        "customer_name": "王先生",
        "dealer_name": "上海某4S店",
        "appointment_time": "2025-03-05 10:00",
    }
    zh = render_message(ReminderKind.APPOINTMENT, "zh-CN", params)
    assert zh.body == "王先生您好，提醒您于2025-03-05 10:00到上海某4S店赴约，期待您的光临。"
    en = render_message(ReminderKind.APPOINTMENT, Locale.EN, {**params, "customer_name": "Mr Wang"})
    assert en.locale is Locale.EN
    assert en.body.startswith(
        "Dear Mr Wang, a reminder of your appointment at 上海某4S店 on 2025-03-05 10:00"
    )


def test_unknown_locale_falls_back_and_missing_params_are_named() -> None:
    params = {"customer_name": "Li", "dealer_name": "D", "renewal_date": "2026-03-03"}
    assert render_message("insurance_renewal", "fr", params).locale is Locale.ZH_CN
    assert (
        render_message("insurance_renewal", None, params, fallback_locale=Locale.EN).locale
        is Locale.EN
    )
    with pytest.raises(MissingTemplateParams, match="renewal_date") as caught:
        render_message(
            ReminderKind.INSURANCE_RENEWAL, "en", {"customer_name": "Li", "dealer_name": "D"}
        )
    assert caught.value.missing == {"renewal_date"}
    with pytest.raises(KeyError):
        render_message(ReminderKind.OTHER, "en", params)


APPOINTMENT = {
    "customer_name": "Mr Wang",
    "dealer_name": "Acme Pudong",
    "appointment_time": "2025-03-05 10:00",
}


def test_a_dealer_s_own_wording_is_used_for_its_kind_and_locale() -> None:
    wording = {
        "appointment": {"en": "{customer_name}: see you at {dealer_name}, {appointment_time}."}
    }
    en = render_message("appointment", "en", APPOINTMENT, dealer_templates=wording)
    assert en.body == "Mr Wang: see you at Acme Pudong, 2025-03-05 10:00."
    assert en.subject == render_message("appointment", "en", APPOINTMENT).subject  # built-in
    assert en.dealer_template_refused is None
    zh = render_message("appointment", "zh-CN", APPOINTMENT, dealer_templates=wording)
    assert zh.body.startswith("Mr Wang您好")  # no dealer wording in zh-CN: built-in


@pytest.mark.parametrize(
    ("wording", "reason"),
    [
        ("Hello {customer_nmae}", "unknown field {customer_nmae}"),
        ("{due_km} km", "unknown field {due_km}"),  # a field of another kind
        ("{customer_name.__class__}", "unknown field"),
        ("{customer_name:>99999}", "format spec"),
        ("{customer_name!r}", "format spec"),
        ("Hello {", "not a template"),
    ],
)
def test_a_dealer_template_that_cannot_render_falls_back_to_the_built_in_one(
    wording: str, reason: str
) -> None:
    built_in = render_message("appointment", "en", APPOINTMENT)
    rendered = render_message(
        "appointment", "en", APPOINTMENT, dealer_templates={"appointment": {"en": wording}}
    )
    assert rendered.body == built_in.body
    assert rendered.dealer_template_refused is not None
    assert reason in rendered.dealer_template_refused
