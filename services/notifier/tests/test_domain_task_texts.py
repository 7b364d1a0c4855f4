"""Staff task texts: the catalogue per TaskKind in zh-CN and en, rendering in the dealer's
staff language and the dealer's own wording (no database)."""

from __future__ import annotations

import pytest

from dealerflow.contracts.care_enums import RecordKind, TaskKind
from dealerflow.contracts.enums import Locale
from dealerflow.notifier.domain_task_texts import (
    ALERT_TEXTS,
    RECORD_NAMES,
    TASK_SCRIPTS,
    TASK_TITLES,
    VARIANT_TITLES,
    alert_text,
    overdue_title,
    record_name,
    render_alert,
    render_task_text,
    render_task_title,
    staff_text,
    task_text,
)
from dealerflow.notifier.domain_templates import template_fields
from dealerflow.notifier.domain_types import RecordRef
from dealerflow.policy import DealerPolicy

DELIVERY = RecordRef(RecordKind.DELIVERY, "DLV-1")


def test_every_kind_has_a_title_and_every_script_both_languages_with_the_same_fields() -> None:
    assert set(TASK_TITLES) == set(TaskKind)
    assert all(set(titles) == set(Locale) for titles in TASK_TITLES.values())
    kinds = {kind.value for kind in TaskKind}
    for key, scripts in TASK_SCRIPTS.items():
        assert set(scripts) == set(Locale), key
        zh, en = (template_fields(scripts[loc]) for loc in (Locale.ZH_CN, Locale.EN))
        assert zh == en, key
        assert key.split(".", 1)[0] in kinds | {"attempt"}, key


def test_a_planned_task_carries_the_english_script_and_its_text() -> None:
    text = staff_text(TaskKind.DECLINED_REPAIR_FOLLOW_UP, item="front brake pads")
    assert text["script"] == "Declined item: front brake pads. Offer it again or book it."
    assert text["text"].key == "declined_repair_follow_up"
    assert text["text"].params == {"item": "front brake pads"}
    with pytest.raises(ValueError, match="needs"):
        task_text(TaskKind.DECLINED_REPAIR_FOLLOW_UP)  # the item is missing
    with pytest.raises(KeyError):
        task_text("no_such_text")


def test_rendered_in_the_staff_language_english_when_unset() -> None:
    text = task_text(TaskKind.DELIVERY_CALLBACK)
    zh = render_task_text(TaskKind.DELIVERY_CALLBACK, text, DELIVERY, "zh-CN")
    assert (zh.locale, zh.title) == (Locale.ZH_CN, "交车24小时回访: 交车 DLV-1")
    assert zh.script == "交车回访：新车使用如何？对车辆功能有无疑问？"
    en = render_task_text(TaskKind.DELIVERY_CALLBACK, text, DELIVERY, None)
    assert en.title == "24 h delivery callback: delivery DLV-1"
    assert en.script == text.english
    attempt = task_text("attempt", attempt=2, script=zh.script)
    assert render_task_text(TaskKind.DELIVERY_CALLBACK, attempt, DELIVERY, "zh-CN").script == (
        "第2次尝试：交车回访：新车使用如何？对车辆功能有无疑问？"
    )


def test_the_dealers_wording_replaces_the_built_in_one_when_usable() -> None:
    policy = DealerPolicy.model_validate(
        {
            "contact": {
                "task_texts": {
                    "declined_repair_follow_up": {
                        "zh-CN": {"title": "未修跟进", "script": "请联系车主：{item}"},
                    },
                    "delivery_callback": {"zh-CN": {"script": "请致电{customer_phone}"}},
                }
            }
        }
    )
    wording = policy.contact.task_texts
    declined = task_text(TaskKind.DECLINED_REPAIR_FOLLOW_UP, item="刹车片")
    ours = render_task_text(
        TaskKind.DECLINED_REPAIR_FOLLOW_UP, declined, DELIVERY, "zh-CN", wording
    )
    assert (ours.title, ours.script) == ("未修跟进: 交车 DLV-1", "请联系车主：刹车片")
    assert ours.dealer_text_refused is None
    # English has no wording of the dealer: built in
    en = render_task_text(TaskKind.DECLINED_REPAIR_FOLLOW_UP, declined, None, "en", wording)
    assert en.script == declined.english
    # a field the built-in script does not have: refused, the built-in one is written
    callback = task_text(TaskKind.DELIVERY_CALLBACK)
    refused = render_task_text(TaskKind.DELIVERY_CALLBACK, callback, None, "zh-CN", wording)
    assert refused.script == TASK_SCRIPTS["delivery_callback"][Locale.ZH_CN]
    assert refused.dealer_text_refused == "unknown field {customer_phone}"


def test_a_title_of_the_dealer_has_no_fields() -> None:
    policy = DealerPolicy.model_validate(
        {"contact": {"task_texts": {"parts_reorder": {"en": {"title": "Reorder {part}"}}}}}
    )
    title, refused = render_task_title(
        TaskKind.PARTS_REORDER, None, "en", policy.contact.task_texts
    )
    assert (title, refused) == ("Parts reorder", "unknown field {part}")
    assert render_task_title("legacy_kind", None, "zh-CN") == ("Legacy kind", None)


def test_records_are_named_in_the_staff_language_in_titles() -> None:
    assert set(RECORD_NAMES) == set(RecordKind)
    assert all(set(names) == set(Locale) for names in RECORD_NAMES.values())
    lead = RecordRef(RecordKind.LEAD, "L-1")
    assert record_name(lead, "zh-CN") == "线索 L-1"
    assert record_name(lead, None) == "lead L-1"
    title, _ = render_task_title(TaskKind.COMPLAINT_HANDLING, lead, "zh-CN")
    assert title == "投诉处理: 线索 L-1"


def test_a_script_with_its_own_title_is_titled_by_it() -> None:
    assert set(VARIANT_TITLES) <= set(TASK_SCRIPTS)
    assert all(set(titles) == set(Locale) for titles in VARIANT_TITLES.values())
    lead = RecordRef(RecordKind.LEAD, "L-1")
    text = task_text("other.reassign_lead", record="Lead L-1")
    zh = render_task_text(TaskKind.OTHER, text, lead, "zh-CN")
    assert zh.title == "重新分配线索: 线索 L-1"
    en = render_task_text(TaskKind.OTHER, text, lead, "en")
    assert en.title == "Reassign lead: lead L-1"
    policy = DealerPolicy.model_validate(
        {"contact": {"task_texts": {"other.reassign_lead": {"zh-CN": {"title": "转派线索"}}}}}
    )
    assert zh.script.startswith("线索再次超时需重新分配。线索 L-1再次错过")  # named in zh
    assert "Lead L-1 missed its first-contact" in en.script  # as planned
    ours = render_task_text(TaskKind.OTHER, text, lead, "zh-CN", policy.contact.task_texts)
    assert ours.title == "转派线索: 线索 L-1"
    other = render_task_text(TaskKind.OTHER, task_text("other.task_overdue", **OVERDUE), lead, "en")
    assert other.title == "Other: lead L-1"  # no title of its own: the kind's


OVERDUE = {"title": "T", "assignee": "c-1", "due_at": "10:00"}


def test_the_overdue_escalation_is_titled_in_the_staff_language() -> None:
    title = "交车24小时回访: delivery D1"
    assert overdue_title(title, "zh-CN") == f"超时：{title}"
    assert overdue_title("Call back", None) == "Overdue: Call back"
    assert len(overdue_title("x" * 300, "en")) == 200


# -- staff alerts --------------------------------------------------------------------------


def test_every_alert_text_has_both_languages_with_the_same_fields() -> None:
    for key, texts in ALERT_TEXTS.items():
        assert key.startswith("alert."), key
        assert set(texts) == set(Locale), key
        for part in (0, 1):
            zh, en = (template_fields(texts[loc][part]) for loc in (Locale.ZH_CN, Locale.EN))
            assert zh == en, (key, part)


def test_an_alert_is_written_in_the_staff_language_english_when_unset() -> None:
    text = alert_text("alert.overdue", title="首次联系: lead L-1", due_at="2025-03-03 10:15")
    zh = render_alert(text, "zh-CN")
    assert (zh.locale, zh.title) == (Locale.ZH_CN, "已超时：首次联系: lead L-1")
    assert zh.script == "首次联系: lead L-1应于2025-03-03 10:15完成，仍无结果。"
    en = render_alert(text, None)
    assert (en.locale, en.title) == (Locale.EN, "Overdue: 首次联系: lead L-1")
    with pytest.raises(ValueError, match="needs"):
        alert_text("alert.overdue", title="T")  # due_at is missing
    with pytest.raises(KeyError):
        alert_text("alert.no_such_alert")


def test_the_dealers_alert_wording_replaces_the_built_in_one_when_usable() -> None:
    policy = DealerPolicy.model_validate(
        {
            "contact": {
                "task_texts": {
                    "alert.due_soon": {
                        "zh-CN": {"title": "提醒：{title}", "script": "请在{due_at}前完成{title}"},
                        "en": {"script": "Call {customer_phone} now"},  # an unknown field
                    },
                }
            }
        }
    )
    wording = policy.contact.task_texts
    text = alert_text("alert.due_soon", title="首次联系", due_at="10:15")
    ours = render_alert(text, "zh-CN", wording)
    assert (ours.title, ours.script, ours.dealer_text_refused) == (
        "提醒：首次联系",
        "请在10:15前完成首次联系",
        None,
    )
    refused = render_alert(text, "en", wording)
    assert refused.script == "首次联系 is due at 10:15. Record the outcome before then."
    assert refused.dealer_text_refused == "unknown field {customer_phone}"
