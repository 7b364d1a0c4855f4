"""Bad-weather tips (恶劣天气用车提示), pure rules.

A manager or customer relations records a weather warning for the dealer's area
(``POST /v1/weather-warnings``); a durable timer due at once fans it out: one
``weather_tip`` reminder (service purpose, sent now: consent and quiet hours decide at
send time as for any message) to every owner of the dealer who has not had a tip within
``owner_care.weather_tip_min_interval`` (3 days), so that a storm announced again the
next day does not reach them twice. The advice per kind of weather comes in zh-CN and en
(:data:`WEATHER_ADVICE`); the staff's note, when given, is added to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID

from dealerflow.contracts.care_enums import RecordKind, ReminderKind
from dealerflow.contracts.enums import ConsentPurpose, Locale
from dealerflow.notifier.domain_types import PlannedReminder, RecordRef
from dealerflow.policy import BusinessCalendar, DealerPolicy

#: Timer kind of a weather warning's fan-out to the dealer's owners.
WEATHER_WARNING = "notifier.weather_warning"


class WeatherKind(StrEnum):
    """The weather a warning is about."""

    TYPHOON = "typhoon"
    RAINSTORM = "rainstorm"
    SNOW = "snow"
    HEAT = "heat"
    COLD = "cold"
    FOG = "fog"
    SAND = "sand"


_ZH, _EN = Locale.ZH_CN, Locale.EN

#: What the tip advises, per kind of weather and locale.
WEATHER_ADVICE: dict[tuple[WeatherKind, Locale], str] = {
    (WeatherKind.TYPHOON, _ZH): "台风将至，请将爱车停放在地势较高、远离树木和广告牌的地方，"
    "尽量避免外出行车。",
    (WeatherKind.TYPHOON, _EN): "A typhoon is coming: park on high ground away from trees and "
    "billboards, and avoid driving if you can.",
    (WeatherKind.RAINSTORM, _ZH): "暴雨将至，请减速慢行、保持车距，切勿涉水驶过积水路段，"
    "车辆涉水熄火后请勿再次启动。",
    (WeatherKind.RAINSTORM, _EN): "Heavy rain is coming: slow down, keep your distance, do not "
    "drive through standing water, and do not restart an engine that stalled in water.",
    (WeatherKind.SNOW, _ZH): "降雪将至，路面湿滑，请减速慢行、避免急刹车，出行前清除车窗积雪，"
    "检查轮胎和防冻液。",
    (WeatherKind.SNOW, _EN): "Snow is coming: roads will be slippery, so slow down and brake "
    "gently; clear the windows before driving and check the tyres and antifreeze.",
    (WeatherKind.HEAT, _ZH): "高温天气，请勿将打火机、充电宝等易燃物品留在车内，停车时注意遮阳，"
    "留意胎压和冷却液。",
    (WeatherKind.HEAT, _EN): "Hot weather: do not leave lighters or power banks in the car, "
    "park in the shade and keep an eye on tyre pressure and coolant.",
    (WeatherKind.COLD, _ZH): "寒潮来袭，请检查蓄电池、防冻液和轮胎，车辆启动后稍作预热再行驶。",
    (WeatherKind.COLD, _EN): "A cold spell is coming: check the battery, antifreeze and tyres, "
    "and let the engine warm up briefly before driving off.",
    (WeatherKind.FOG, _ZH): "大雾天气，请开启雾灯、减速慢行并保持安全车距，能见度低时请勿超车。",
    (WeatherKind.FOG, _EN): "Fog: switch on the fog lights, slow down, keep a safe distance and "
    "do not overtake when visibility is low.",
    (WeatherKind.SAND, _ZH): "沙尘天气，请关闭车窗、开启内循环，减速慢行，"
    "过后及时清洗车辆和空调滤芯。",
    (WeatherKind.SAND, _EN): "Sand and dust: close the windows, use air recirculation and slow "
    "down; wash the car and check the cabin filter afterwards.",
}


class WeatherWarningRefused(ValueError):
    """A weather warning that cannot be sent (422 with the reason)."""


@dataclass(frozen=True, slots=True)
class WeatherWarning:
    """A weather warning for the dealer's area."""

    warning_id: UUID
    dealer_id: str
    kind: WeatherKind
    starts_at: datetime
    ends_at: datetime | None = None
    note: str | None = None


def check_warning(warning: WeatherWarning, now: datetime) -> None:
    """Raises WeatherWarningRefused when the warning ends before it starts or is over."""
    if warning.ends_at is None:
        return
    if warning.ends_at <= warning.starts_at:
        raise WeatherWarningRefused("ends_at: the warning must end after it starts")
    if warning.ends_at <= now:
        raise WeatherWarningRefused("ends_at: the warning is over already")


def weather_timer_key(dealer_id: str, warning_id: UUID) -> str:
    """Business key of a warning's fan-out timer."""
    return f"{dealer_id}:weather-warning:{warning_id}"


def tip_allowed(last_tip_at: datetime | None, now: datetime, policy: DealerPolicy) -> bool:
    """Whether an owner whose last weather tip was planned at ``last_tip_at`` (None: never)
    may get another one now."""
    return last_tip_at is None or now - last_tip_at >= policy.owner_care.weather_tip_min_interval


def plan_weather_tip(
    warning: WeatherWarning, customer_id: UUID, now: datetime, policy: DealerPolicy
) -> PlannedReminder:
    """The warning's tip to one owner, sent now (once per owner and warning)."""
    calendar = BusinessCalendar(policy)
    note = f" {warning.note.strip()}" if warning.note and warning.note.strip() else ""
    return PlannedReminder(
        key=f"customer:{customer_id}:weather-tip:{warning.warning_id}",
        kind=ReminderKind.WEATHER_TIP,
        dealer_id=warning.dealer_id,
        customer_id=customer_id,
        send_at=now.astimezone(UTC),
        purpose=ConsentPurpose.SERVICE,
        related=RecordRef(RecordKind.CUSTOMER, str(customer_id)),
        params={
            "weather_kind": warning.kind.value,
            "weather_starts_at": calendar.local(warning.starts_at).strftime("%Y-%m-%d %H:%M"),
            "weather_advice_zh": WEATHER_ADVICE[(warning.kind, _ZH)],
            "weather_advice_en": WEATHER_ADVICE[(warning.kind, _EN)],
            "weather_note": note,
        },
    )
