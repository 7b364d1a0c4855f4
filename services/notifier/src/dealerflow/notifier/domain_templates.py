"""Customer message templates in zh-CN and en (`str.format` with named fields).

Every template may use `customer_name` and `dealer_name` (the sender fills them from the
contact snapshot and the dealer's profile); the planners put the item-specific fields
(`appointment_time`, `due_date`, ...) into `PlannedReminder.params`.

A dealer may word a kind its own way (``policy.contact.templates[kind][locale]``: the
body; the subject stays the built-in one). Its wording may use the fields of the built-in
template of that kind and locale, plain (``{dealer_name}``: no attribute or index access,
conversion or format spec, so a template cannot reach into objects or blow up a message).
The dealers service cannot check this (the catalogue lives here), so a dealer template
that breaks the rule is not sent: the built-in template is, and `RenderedMessage`
says why (``dealer_template_refused``, logged by the sender).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from string import Formatter
from typing import Any

from dealerflow.contracts.care_enums import ReminderKind
from dealerflow.contracts.enums import Locale

_ZH, _EN = Locale.ZH_CN, Locale.EN

# (subject, body); the subject is used by e-mail, SMS and WeChat send the body only.
TEMPLATES: dict[tuple[ReminderKind, Locale], tuple[str, str]] = {
    (ReminderKind.THANK_YOU, _ZH): (
        "感谢您的光临",
        "{customer_name}您好，感谢您关注{dealer_name}。如有任何问题，欢迎随时联系我们。",
    ),
    (ReminderKind.THANK_YOU, _EN): (
        "Thank you for your visit",
        "Dear {customer_name}, thank you for your interest in {dealer_name}. "
        "If you have any questions, we are always happy to help.",
    ),
    (ReminderKind.APPOINTMENT, _ZH): (
        "到店预约提醒",
        "{customer_name}您好，提醒您于{appointment_time}到{dealer_name}赴约，期待您的光临。",
    ),
    (ReminderKind.APPOINTMENT, _EN): (
        "Your appointment",
        "Dear {customer_name}, a reminder of your appointment at {dealer_name} on "
        "{appointment_time}. We look forward to seeing you.",
    ),
    (ReminderKind.TEST_DRIVE, _ZH): (
        "试驾预约提醒",
        "{customer_name}您好，您预约的试驾时间为{appointment_time}，请携带驾驶证到{dealer_name}。",
    ),
    (ReminderKind.TEST_DRIVE, _EN): (
        "Your test drive",
        "Dear {customer_name}, your test drive at {dealer_name} is booked for "
        "{appointment_time}. Please bring your driving licence.",
    ),
    (ReminderKind.DELIVERY, _ZH): (
        "交车提醒",
        "{customer_name}您好，您的爱车将于{appointment_time}在{dealer_name}交付，敬请光临。",
    ),
    (ReminderKind.DELIVERY, _EN): (
        "Your new car is ready",
        "Dear {customer_name}, your new car will be handed over at {dealer_name} on "
        "{appointment_time}.",
    ),
    (ReminderKind.SERVICE_APPOINTMENT, _ZH): (
        "维修保养预约提醒",
        "{customer_name}您好，您在{dealer_name}的维修保养预约时间为{appointment_time}，"
        "如需改期请联系我们。",
    ),
    (ReminderKind.SERVICE_APPOINTMENT, _EN): (
        "Your service appointment",
        "Dear {customer_name}, your service appointment at {dealer_name} is on "
        "{appointment_time}. Please contact us if you need to change it.",
    ),
    (ReminderKind.MAINTENANCE_DUE, _ZH): (
        "保养提醒",
        "{customer_name}您好，您的爱车将于{due_date}或行驶至{due_km}公里时（以先到者为准）"
        "需要保养，欢迎预约{dealer_name}。",
    ),
    (ReminderKind.MAINTENANCE_DUE, _EN): (
        "Maintenance due",
        "Dear {customer_name}, your car's maintenance is due on {due_date} or at "
        "{due_km} km, whichever comes first. Book it with {dealer_name}.",
    ),
    (ReminderKind.INSURANCE_RENEWAL, _ZH): (
        "保险续保提醒",
        "{customer_name}您好，您的车辆保险将于{renewal_date}到期，请及时续保。"
        "{dealer_name}可为您办理。",
    ),
    (ReminderKind.INSURANCE_RENEWAL, _EN): (
        "Insurance renewal",
        "Dear {customer_name}, your car insurance expires on {renewal_date}. "
        "{dealer_name} can renew it for you.",
    ),
    (ReminderKind.SATISFACTION_SURVEY, _ZH): (
        "满意度调查",
        "{customer_name}您好，感谢您选择{dealer_name}，请花一分钟为我们的服务打分：{survey_url}",
    ),
    (ReminderKind.SATISFACTION_SURVEY, _EN): (
        "How did we do?",
        "Dear {customer_name}, thank you for choosing {dealer_name}. Please rate our "
        "service: {survey_url}",
    ),
    (ReminderKind.SERVICE_FOLLOW_UP, _ZH): (
        "服务回访",
        "{customer_name}您好，我们多次致电未能联系到您。车辆维修保养后如有任何问题，"
        "请随时联系{dealer_name}。",
    ),
    (ReminderKind.SERVICE_FOLLOW_UP, _EN): (
        "After your service visit",
        "Dear {customer_name}, we tried to call you after your service visit. If anything "
        "is not right with your car, please contact {dealer_name}.",
    ),
    (ReminderKind.COMPLAINT_UPDATE, _ZH): (
        "投诉处理进展",
        "{customer_name}您好，关于您反映的问题（编号{complaint_ref}）：{update_text}",
    ),
    (ReminderKind.COMPLAINT_UPDATE, _EN): (
        "About your complaint",
        "Dear {customer_name}, about your complaint ({complaint_ref}): {update_text}",
    ),
    (ReminderKind.HOLIDAY_GREETING, _ZH): (
        "节日问候",
        "{customer_name}您好，{holiday_name}将至，{dealer_name}祝您节日快乐，出行平安！",
    ),
    (ReminderKind.HOLIDAY_GREETING, _EN): (
        "Season's greetings",
        "Dear {customer_name}, {dealer_name} wishes you a happy {holiday_name_en} and safe "
        "travels.",
    ),
    (ReminderKind.REFERRAL_INVITATION, _ZH): (
        "推荐有礼",
        "{customer_name}您好，感谢您对{dealer_name}的认可！欢迎推荐亲友到店看车试驾，"
        "成交后您将获得专属礼遇。",
    ),
    (ReminderKind.REFERRAL_INVITATION, _EN): (
        "Recommend us to a friend",
        "Dear {customer_name}, thank you for your kind words about {dealer_name}. Friends "
        "you recommend are welcome for a visit and a test drive, and a thank-you gift awaits "
        "you when they buy.",
    ),
    (ReminderKind.LICENCE_INSPECTION, _ZH): (
        "年检提醒",
        "{customer_name}您好，您的爱车需在{inspection_date}前完成年检（领取检验合格标志），"
        "请提前安排，{dealer_name}可为您协助办理。",
    ),
    (ReminderKind.LICENCE_INSPECTION, _EN): (
        "Vehicle inspection due",
        "Dear {customer_name}, your car's periodic inspection (the annual inspection label) is "
        "due by {inspection_date}. Please plan ahead; {dealer_name} is happy to help.",
    ),
    (ReminderKind.LICENCE_RENEWAL, _ZH): (
        "驾驶证换证提醒",
        "{customer_name}您好，您的驾驶证有效期至{licence_valid_until}，可在有效期满前90日内"
        "申请换证，请及时办理。{dealer_name}祝您出行平安！",
    ),
    (ReminderKind.LICENCE_RENEWAL, _EN): (
        "Driving licence renewal",
        "Dear {customer_name}, your driving licence is valid until {licence_valid_until}; it "
        "can be renewed within 90 days before it expires. {dealer_name} wishes you safe travels.",
    ),
    (ReminderKind.WEATHER_TIP, _ZH): (
        "恶劣天气用车提示",
        "{customer_name}您好，{dealer_name}温馨提示：自{weather_starts_at}起，"
        "{weather_advice_zh}{weather_note}",
    ),
    (ReminderKind.WEATHER_TIP, _EN): (
        "Driving in bad weather",
        "Dear {customer_name}, a tip from {dealer_name} for the weather from "
        "{weather_starts_at}: {weather_advice_en}{weather_note}",
    ),
}


class MissingTemplateParams(ValueError):
    """A template needs fields the caller did not supply."""

    def __init__(self, kind: ReminderKind, missing: set[str]) -> None:
        super().__init__(f"template {kind.value} needs {', '.join(sorted(missing))}")
        self.missing = missing


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """A message ready for a channel."""

    kind: ReminderKind
    locale: Locale
    subject: str
    body: str
    #: why the dealer's own wording of this kind was not used (None: used, or none set)
    dealer_template_refused: str | None = None


def template_fields(text: str) -> set[str]:
    """Names of the ``str.format`` fields of ``text``."""
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def template_params(kind: ReminderKind | str, locale: Locale | str = Locale.ZH_CN) -> set[str]:
    """Names of the fields a template needs."""
    subject, body = TEMPLATES[(ReminderKind(kind), Locale(locale))]
    return template_fields(subject) | template_fields(body)


def dealer_template_problem(text: str, allowed: set[str]) -> str | None:
    """Why a dealer's wording cannot be rendered with the ``allowed`` fields (module
    docstring), or None when it can."""
    try:
        parsed = list(Formatter().parse(text))
    except ValueError as exc:  # a lone "{" or "}"
        return f"not a template: {exc}"
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in allowed:
            return f"unknown field {{{name}}}"
        if spec or conversion:
            return f"field {{{name}}} has a conversion or format spec"
    return None


def render_message(
    kind: ReminderKind | str,
    locale: Locale | str | None,
    params: Mapping[str, object],
    *,
    fallback_locale: Locale = Locale.ZH_CN,
    dealer_templates: Mapping[str, Mapping[Any, str]] | None = None,
) -> RenderedMessage:
    """Render a reminder in the customer's locale (or `fallback_locale` when that locale
    has no template), in the dealer's own wording when ``dealer_templates`` (the policy's
    ``contact.templates``) has a usable one for that kind and locale. Raises
    `MissingTemplateParams` for absent fields, `KeyError` for a kind without any template."""
    kind = ReminderKind(kind)
    chosen = Locale(locale) if locale in {loc.value for loc in Locale} else fallback_locale
    if (kind, chosen) not in TEMPLATES:
        chosen = fallback_locale
    subject, body = TEMPLATES[(kind, chosen)]
    fields = template_params(kind, chosen)
    missing = fields - set(params)
    if missing:
        raise MissingTemplateParams(kind, missing)
    refused = None
    wording = (dealer_templates or {}).get(kind.value, {}).get(chosen.value)
    if wording is not None:
        refused = dealer_template_problem(wording, fields)
        if refused is None:
            body = wording
    return RenderedMessage(
        kind=kind,
        locale=chosen,
        subject=subject.format(**params),
        body=body.format(**params),
        dealer_template_refused=refused,
    )
