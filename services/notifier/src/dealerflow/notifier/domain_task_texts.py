"""Staff task texts in zh-CN and en: a title per TaskKind and the scripts the planners use
(`str.format` with named fields), like `domain_templates` does for customers.

A planner says which script a task gets and with which fields (:func:`staff_text`: a
:class:`TaskText`, whose ``english`` is also the task's ``script`` in the plan); the task
is written in the dealer's staff language (``profile.staff_locale``; unset: English) by
`usecases_tasks.schedule_task` (:func:`render_task_text`), in the dealer's own wording
when ``policy.contact.task_texts[key][locale]`` has a usable ``title`` / ``script`` (the
fields of the built-in text only, plain: the rule of `domain_templates`). Keys are
TaskKind values (the kind's main script; its title is the kind's) or ``<kind>.<variant>``
for the other scripts of a kind. Fields are filled in as given (identifiers, dates and
numbers); the record a task is about is appended to the title (``: lead L-1``).

Staff alerts (the messages of warnings, escalations and reassignments, `domain_alerts`)
come from the same catalogue (:data:`ALERT_TEXTS`, keys ``alert.<name>``): a subject and a
body, written in the dealer's staff language by `usecases_alerts.queue_staff_alert`
(:func:`render_alert`); the dealer's wording is ``policy.contact.task_texts[key][locale]``
as for tasks, ``title`` the subject and ``script`` the body, each with the fields of the
built-in one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from dealerflow.contracts.care_enums import RecordKind, TaskKind
from dealerflow.contracts.enums import Locale
from dealerflow.notifier.domain_templates import dealer_template_problem, template_fields

if TYPE_CHECKING:  # domain_types imports TaskText from here
    from dealerflow.notifier.domain_types import RecordRef

__all__ = [
    "ALERT_TEXTS",
    "RECORD_NAMES",
    "TASK_SCRIPTS",
    "TASK_TITLES",
    "VARIANT_TITLES",
    "AlertText",
    "RenderedTaskText",
    "StaffText",
    "TaskText",
    "alert_text",
    "overdue_title",
    "record_name",
    "render_alert",
    "render_task_text",
    "render_task_title",
    "staff_text",
    "task_text",
]

_ZH, _EN = Locale.ZH_CN, Locale.EN
_K = TaskKind

#: The task list title of each kind.
TASK_TITLES: dict[TaskKind, dict[Locale, str]] = {
    _K.LEAD_FIRST_CONTACT: {_ZH: "首次联系", _EN: "First contact"},
    _K.LEAD_FOLLOW_UP: {_ZH: "线索跟进", _EN: "Lead follow-up"},
    _K.LEAD_REGRADE: {_ZH: "重新评级", _EN: "Re-grade lead"},
    _K.LEAD_LOST_REVIEW: {_ZH: "战败审核", _EN: "Lead lost review"},
    _K.APPOINTMENT_NO_SHOW: {_ZH: "预约未到店", _EN: "Appointment no show"},
    _K.DISCOUNT_APPROVAL: {_ZH: "折扣审批", _EN: "Discount approval"},
    _K.DELIVERY_CALLBACK: {_ZH: "交车24小时回访", _EN: "24 h delivery callback"},
    _K.SATISFACTION_CALLBACK: {_ZH: "7天满意度回访", _EN: "7-day satisfaction callback"},
    _K.SERVICE_CALLBACK: {_ZH: "维修保养回访", _EN: "Service follow-up callback"},
    _K.DECLINED_REPAIR_FOLLOW_UP: {_ZH: "未修项目跟进", _EN: "Declined repair follow-up"},
    _K.PARTS_REORDER: {_ZH: "配件补货", _EN: "Parts reorder"},
    _K.RETENTION_CALL: {_ZH: "流失客户关怀", _EN: "Retention call"},
    _K.COMPLAINT_HANDLING: {_ZH: "投诉处理", _EN: "Complaint handling"},
    _K.COMPLAINT_ESCALATION: {_ZH: "投诉升级", _EN: "Complaint escalated"},
    _K.COMPLAINT_VERIFICATION: {_ZH: "投诉回访确认", _EN: "Complaint verification"},
    _K.OTHER: {_ZH: "其他", _EN: "Other"},
    _K.PLATE_REGISTRATION: {_ZH: "上牌", _EN: "Plate registration"},
    _K.MANUAL: {_ZH: "手动任务", _EN: "Manual"},
}

#: The title of the scripts whose task is not what its kind's title says (kind ``other``),
#: by script key; a dealer's ``title`` under that key replaces it.
VARIANT_TITLES: dict[str, dict[Locale, str]] = {
    "other.first_contact_overdue": {_ZH: "首次联系超时", _EN: "First contact overdue"},
    "other.reassign_lead": {_ZH: "重新分配线索", _EN: "Reassign lead"},
}

#: How the record a task is about is named in its title (``: lead L-1``, ``: 线索 L-1``).
RECORD_NAMES: dict[RecordKind, dict[Locale, str]] = {
    RecordKind.LEAD: {_ZH: "线索", _EN: "lead"},
    RecordKind.APPOINTMENT: {_ZH: "预约", _EN: "appointment"},
    RecordKind.TEST_DRIVE: {_ZH: "试驾", _EN: "test_drive"},
    RecordKind.QUOTE: {_ZH: "报价", _EN: "quote"},
    RecordKind.CONTRACT: {_ZH: "合同", _EN: "contract"},
    RecordKind.DELIVERY: {_ZH: "交车", _EN: "delivery"},
    RecordKind.SERVICE_APPOINTMENT: {_ZH: "售后预约", _EN: "service_appointment"},
    RecordKind.REPAIR_ORDER: {_ZH: "维修工单", _EN: "repair_order"},
    RecordKind.COMPLAINT: {_ZH: "投诉", _EN: "complaint"},
    RecordKind.PART: {_ZH: "配件", _EN: "part"},
    RecordKind.CUSTOMER: {_ZH: "客户", _EN: "customer"},
}

_OVERDUE = {_ZH: "超时：{title}", _EN: "Overdue: {title}"}


def overdue_title(title: str, locale: Locale | str | None) -> str:
    """The title of the manager's task about an overdue task titled ``title`` (at most
    200 characters, the task list's limit)."""
    return _OVERDUE[_locale(locale)].format(title=title)[:200]


#: The scripts (what to say or do), by key: a kind's value or ``<kind>.<variant>``.
TASK_SCRIPTS: dict[str, dict[Locale, str]] = {
    "lead_first_contact": {
        _ZH: "首次联系：感谢客户关注，确认需求，邀约到店。",
        _EN: "First contact: thank the prospect, confirm the needs, invite a visit.",
    },
    "lead_follow_up": {
        _ZH: "跟进{grade}级意向客户；记录结果和下次联系日期。",
        _EN: "Follow up the grade {grade} prospect; record outcome and next date.",
    },
    "lead_follow_up.agreed": {
        _ZH: "已约定{day}再次联系：跟进{grade}级意向客户；记录结果和下次联系日期。",
        _EN: "Next contact agreed for {day}: follow up the grade {grade} prospect; record "
        "outcome and next date.",
    },
    "lead_regrade": {
        _ZH: "H级线索已超过评级时限：请重新评级。",
        _EN: "Still grade H after its horizon: re-grade the lead.",
    },
    "lead_lost_review": {
        _ZH: "线索战败（{reason}）：请在线索审核队列中审核，批准战败或重新激活线索。",
        _EN: "Lead lost ({reason}): review it in the lead review queue, approve the loss or "
        "reopen the lead.",
    },
    "appointment_no_show": {
        _ZH: "客户未按{missed}的预约到店：致电问候，另约时间并记录结果。",
        _EN: "The customer missed the appointment of {missed}: call to ask how they are, "
        "offer a new time and record the outcome.",
    },
    "discount_approval": {
        _ZH: "折扣{requested}超出允许的{threshold}：请在报价上批准或驳回。",
        _EN: "Discount of {requested} is beyond the {threshold} allowed: approve or reject it "
        "on the quote.",
    },
    "delivery_callback": {
        _ZH: "交车回访：新车使用如何？对车辆功能有无疑问？",
        _EN: "Delivery callback: how is the new car, any questions on its features?",
    },
    "satisfaction_callback": {
        _ZH: "购车及交车满意度回访；请记录结果。",
        _EN: "Satisfaction callback on the purchase and delivery; record the outcome.",
    },
    "satisfaction_callback.survey_unanswered": {
        _ZH: "满意度调查未回复：请就购车及交车进行满意度回访；记录结果。",
        _EN: "The satisfaction survey went unanswered: satisfaction callback on the "
        "purchase and delivery; record the outcome.",
    },
    "satisfaction_callback.vip": {
        _ZH: "由经理对VIP客户进行关怀回访。{script}",
        _EN: "Courtesy call to a VIP customer from the manager. {script}",
    },
    "service_callback": {
        _ZH: "维修保养回访：车辆维修后是否正常？请记录结果。",
        _EN: "Service callback: is the vehicle fine after the work? Record the outcome.",
    },
    "service_callback.tier_maintenance": {
        _ZH: "售后等级{tier}客户（今年到店次数少或未到店）保养到期：请致电预约保养。",
        _EN: "Maintenance due for an after-sales tier {tier} customer (few or no visits this "
        "year): call to book the service visit.",
    },
    "declined_repair_follow_up": {
        _ZH: "客户未修项目：{item}。请再次推荐或预约维修。",
        _EN: "Declined item: {item}. Offer it again or book it.",
    },
    "parts_reorder": {
        _ZH: "{part_number} {description}：库存{on_hand}，补货点{reorder_point}。"
        "请下采购单（POST /v1/purchase-orders）或决定不补货。",
        _EN: "{part_number} {description}: {on_hand} on hand, reorder point "
        "{reorder_point}. Order it (POST /v1/purchase-orders) or decide not to.",
    },
    "retention_call": {
        _ZH: "车辆{vehicle}（{level}，等级{tier}）：已{months}个月未到店。请致电车主邀约保养。",
        _EN: "Vehicle {vehicle} ({level}, tier {tier}): no visit for {months} months. Call "
        "the owner and offer a service visit.",
    },
    "retention_call.never_serviced": {
        _ZH: "车辆{vehicle}（{level}，等级{tier}）：从未在本店保养。请致电车主邀约保养。",
        _EN: "Vehicle {vehicle} ({level}, tier {tier}): never serviced here. Call the owner "
        "and offer a service visit.",
    },
    "complaint_handling": {
        _ZH: "{severity}投诉：{summary}。感谢客户反馈，请于{acknowledge_by}前受理，"
        "于{first_update_by}前告知处理进展；于{resolve_by}前解决。",
        _EN: "{severity} complaint: {summary}. Thank the customer and acknowledge by "
        "{acknowledge_by}; tell them how it stands by {first_update_by}; resolve by "
        "{resolve_by}.",
    },
    "complaint_handling.no_update_clock": {
        _ZH: "{severity}投诉：{summary}。感谢客户反馈，请于{acknowledge_by}前受理；"
        "于{resolve_by}前解决。",
        _EN: "{severity} complaint: {summary}. Thank the customer and acknowledge by "
        "{acknowledge_by}; resolve by {resolve_by}.",
    },
    "complaint_handling.reopened": {
        _ZH: "客户对处理结果不满意（已重开{reopen_count}次）：请再次联系客户并商定新的措施。"
        "于{resolve_by}前解决。",
        _EN: "The customer is not satisfied with the resolution (reopened {reopen_count}x): "
        "contact them again and agree new measures. Resolve by {resolve_by}.",
    },
    "complaint_escalation": {
        _ZH: "投诉已升级至第{level}级：{clock}时限已超时。请接手处理并联系客户。",
        _EN: "Complaint escalated to level {level}: the {clock} deadline was missed. Take "
        "charge and contact the customer.",
    },
    "complaint_verification": {
        _ZH: "致电客户：投诉是否已解决并令其满意？记录满意（关闭投诉）或不满意及原因（重开投诉）。",
        _EN: "Call the customer: is the complaint resolved to their satisfaction? Record "
        "satisfied (closes it) or dissatisfied with what is wrong (reopens it).",
    },
    "plate_registration": {
        _ZH: "上牌：与车主预约车管所办理时间并办理上牌（材料：发票、合格证、保险、身份证）。",
        _EN: "Plate registration: book the vehicle administration visit with the owner and "
        "register the plate (documents: invoice, certificate of conformity, insurance, ID).",
    },
    "other.first_contact_overdue": {
        _ZH: "首次联系超时。{record}的首次联系应于{due_at}完成但尚未记录：请确保立即联系。",
        _EN: "First contact overdue. The first contact of {record} was due at {due_at} and "
        "is not recorded: make sure it happens now.",
    },
    "other.reassign_lead": {
        _ZH: "线索再次超时需重新分配。{record}再次错过首次联系时限：将转给下一位在岗顾问；"
        "如无其他顾问在岗，请亲自重新分配。",
        _EN: "Reassign lead: first contact missed again. {record} missed its first-contact "
        "SLA again: it goes to the next on-duty consultant; if nobody else is on duty, "
        "reassign it yourself.",
    },
    "other.task_overdue": {
        _ZH: "{title}（负责人{assignee}）应于{due_at}完成，仍无结果：请确保完成或重新分配。",
        _EN: "{title} (assigned to {assignee}) was due at {due_at} and has no outcome yet: "
        "make sure it is done, or reassign it.",
    },
    "attempt": {
        _ZH: "第{attempt}次尝试：{script}",
        _EN: "Attempt {attempt}: {script}",
    },
    "attempt.unreachable": {
        _ZH: "本次回访已{unreachable}次未能联系到客户：请换一种方式联系（短信、信函、上门）。"
        "{script}",
        _EN: "The customer was unreachable on {unreachable} attempts of this call: reach "
        "them another way (message, letter, visit). {script}",
    },
}


@dataclass(frozen=True, slots=True)
class TaskText:
    """Which script a planned task gets (a key of :data:`TASK_SCRIPTS`) and its fields."""

    key: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def english(self) -> str:
        """The built-in English script (the plan's ``script``)."""
        return TASK_SCRIPTS[self.key][_EN].format(**self.params)


def task_text(key: TaskKind | str, **params: object) -> TaskText:
    """The script ``key`` with ``params`` (all rendered with ``str``); raises KeyError for
    an unknown key and ValueError for missing or unknown fields."""
    name = key.value if isinstance(key, TaskKind) else key
    wanted = template_fields(TASK_SCRIPTS[name][_EN])
    if set(params) != wanted:
        raise ValueError(f"task text {name} needs {sorted(wanted)}, got {sorted(params)}")
    return TaskText(name, {k: str(v) for k, v in params.items()})


class StaffText(TypedDict):
    """The ``script`` and ``text`` fields of a `PlannedTask`: ``PlannedTask(...,
    **staff_text(TaskKind.SERVICE_CALLBACK))``."""

    script: str
    text: TaskText


def staff_text(key: TaskKind | str, **params: object) -> StaffText:
    """A planned task's script (English) and catalogue text (see :func:`task_text`)."""
    text = task_text(key, **params)
    return {"script": text.english, "text": text}


@dataclass(frozen=True, slots=True)
class RenderedTaskText:
    """A task's title and script in the staff language."""

    locale: Locale
    title: str
    script: str
    #: why the dealer's wording was not used (None: used, or none set)
    dealer_text_refused: str | None = None


def _locale(locale: Locale | str | None) -> Locale:
    return Locale(locale) if locale in {loc.value for loc in Locale} else _EN


def _wording(overrides: Mapping[str, Any] | None, key: str, locale: Locale) -> Any:
    return (overrides or {}).get(key, {}).get(locale.value)


def record_name(related: RecordRef, locale: Locale | str | None) -> str:
    """The record a task is about as its title names it (``lead L-1``, ``线索 L-1``)."""
    names = RECORD_NAMES.get(related.kind)
    kind = names[_locale(locale)] if names else related.kind.value
    return f"{kind} {related.id}"


def render_task_title(
    kind: TaskKind | str,
    related: RecordRef | None,
    locale: Locale | str | None,
    overrides: Mapping[str, Any] | None = None,
    text_key: str | None = None,
) -> tuple[str, str | None]:
    """The task list title of ``kind`` (the dealer's ``title`` when set: no fields) with
    the related record, and why the dealer's title was refused (or None). A script with
    its own title (``text_key`` in :data:`VARIANT_TITLES`) has that one, the dealer's
    under that key."""
    chosen = _locale(locale)
    try:
        kind = TaskKind(kind)
    except ValueError:
        base, refused = str(kind).replace("_", " ").capitalize(), None
    else:
        key = text_key if text_key in VARIANT_TITLES else kind.value
        base = (VARIANT_TITLES.get(key) or TASK_TITLES[kind])[chosen]
        refused = None
        wording = _wording(overrides, key, chosen)
        title = getattr(wording, "title", None)
        if title:
            refused = dealer_template_problem(title, set())
            if refused is None:
                base = title
    suffix = f": {record_name(related, chosen)}" if related is not None else ""
    return base + suffix, refused


def render_task_text(
    kind: TaskKind,
    text: TaskText,
    related: RecordRef | None,
    locale: Locale | str | None,
    overrides: Mapping[str, Any] | None = None,
) -> RenderedTaskText:
    """Title and script of a planned task in ``locale`` (unknown or unset: English), in
    the dealer's wording (``overrides``: ``policy.contact.task_texts``) where usable. A
    ``record`` field names the task's record in that language (as the title does) when
    it is not English; in English it is as planned."""
    chosen = _locale(locale)
    params = dict(text.params)
    if "record" in params and related is not None and chosen is not _EN:
        params["record"] = record_name(related, chosen)
    title, refused = render_task_title(kind, related, chosen, overrides, text.key)
    builtin = TASK_SCRIPTS[text.key][chosen]
    script = builtin
    wording = getattr(_wording(overrides, text.key, chosen), "script", None)
    if wording:
        problem = dealer_template_problem(wording, template_fields(builtin))
        if problem is None:
            script = wording
        refused = refused or problem
    return RenderedTaskText(chosen, title, script.format(**params), refused)


# -- staff alerts ---------------------------------------------------------------------------

#: Staff alert messages: (subject, body) by key, ``str.format`` fields as the scripts'.
ALERT_TEXTS: dict[str, dict[Locale, tuple[str, str]]] = {
    "alert.due_soon": {
        _ZH: ("即将到期：{title}", "{title}将于{due_at}到期，请在此之前记录结果。"),
        _EN: ("Due soon: {title}", "{title} is due at {due_at}. Record the outcome before then."),
    },
    "alert.overdue": {
        _ZH: ("已超时：{title}", "{title}应于{due_at}完成，仍无结果。"),
        _EN: ("Overdue: {title}", "{title} was due at {due_at} and has no outcome yet."),
    },
    "alert.reassign": {
        _ZH: ("需重新分配：{title}", "{title}（{due_at}到期）仍未完成：请重新分配。"),
        _EN: ("Reassign: {title}", "{title} (due {due_at}) is still open: reassign it."),
    },
    "alert.task_overdue": {
        _ZH: ("已超时：{title}", "{title}（负责人{assignee}）应于{due_at}完成，仍无结果。"),
        _EN: (
            "Overdue: {title}",
            "{title} (assigned to {assignee}) was due at {due_at} and has no outcome yet.",
        ),
    },
    "alert.lead_reassigned_away": {
        _ZH: (
            "线索{lead_id}已转给{consultant}",
            "线索{lead_id}再次错过首次联系，现已转给{consultant}，其任务随之转移。",
        ),
        _EN: (
            "Lead {lead_id} reassigned to {consultant}",
            "Lead {lead_id} missed its first contact again and now belongs to {consultant}. "
            "Its tasks moved with it.",
        ),
    },
    "alert.lead_reassigned_to_you": {
        _ZH: (
            "线索{lead_id}已转给您：首次联系已超时",
            "线索{lead_id}再次错过首次联系，已从{previous}转给您。请立即致电客户并记录联系结果。",
        ),
        _EN: (
            "Lead {lead_id} is yours: first contact overdue",
            "Lead {lead_id} was reassigned to you from {previous} after its first contact "
            "was missed again. Call the prospect now and record the contact.",
        ),
    },
    "alert.complaint_escalated": {
        _ZH: (
            "投诉{complaint_id}已升级给您（第{level}级）",
            "{severity}投诉{complaint_id}的{clock}时限已超时。请接手处理并联系客户。",
        ),
        _EN: (
            "Complaint {complaint_id} escalated to you (level {level})",
            "The {clock} deadline of {severity} complaint {complaint_id} was missed. Take "
            "charge and contact the customer.",
        ),
    },
    "alert.complaint_deadline_missed": {
        _ZH: (
            "投诉时限已超时（{clock}）",
            "您负责的{severity}投诉{complaint_id}的{clock}时限（{due_at}）已过，正在升级：请立即处理。",
        ),
        _EN: (
            "Complaint deadline missed ({clock})",
            "The {clock} deadline ({due_at}) of your {severity} complaint {complaint_id} "
            "has passed. It is being escalated: act on it now.",
        ),
    },
}


@dataclass(frozen=True, slots=True)
class AlertText:
    """Which staff alert a rule sends (a key of :data:`ALERT_TEXTS`) and its fields."""

    key: str
    params: Mapping[str, str] = field(default_factory=dict)


def alert_text(key: str, **params: object) -> AlertText:
    """The alert ``key`` with ``params`` (all rendered with ``str``); raises KeyError for
    an unknown key and ValueError for missing or unknown fields."""
    subject, body = ALERT_TEXTS[key][_EN]
    wanted = template_fields(subject) | template_fields(body)
    if set(params) != wanted:
        raise ValueError(f"alert text {key} needs {sorted(wanted)}, got {sorted(params)}")
    return AlertText(key, {k: str(v) for k, v in params.items()})


def render_alert(
    text: AlertText, locale: Locale | str | None, overrides: Mapping[str, Any] | None = None
) -> RenderedTaskText:
    """Subject (``title``) and body (``script``) of a staff alert in ``locale`` (unknown or
    unset: English), in the dealer's wording (``overrides``: ``policy.contact.task_texts``,
    ``title`` the subject, ``script`` the body) where usable."""
    chosen = _locale(locale)
    wording = _wording(overrides, text.key, chosen)
    refused: str | None = None
    parts: list[str] = []
    for builtin, own in zip(
        ALERT_TEXTS[text.key][chosen],
        (getattr(wording, "title", None), getattr(wording, "script", None)),
        strict=True,
    ):
        problem = dealer_template_problem(own, template_fields(builtin)) if own else None
        refused = refused or problem
        parts.append((own if own and problem is None else builtin).format(**text.params))
    subject, body = parts
    return RenderedTaskText(chosen, subject[:200], body, refused)
