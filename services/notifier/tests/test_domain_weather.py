"""Bad-weather tips: the tip per owner, the minimum interval, the warning's checks, the
advice and templates per kind of weather in zh-CN and en."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from dealerflow.contracts.care_enums import RecordKind, ReminderKind
from dealerflow.contracts.enums import ConsentPurpose, Locale
from dealerflow.notifier.domain_templates import render_message
from dealerflow.notifier.domain_types import RecordRef
from dealerflow.notifier.domain_weather import (
    WEATHER_ADVICE,
    WeatherKind,
    WeatherWarning,
    WeatherWarningRefused,
    check_warning,
    plan_weather_tip,
    tip_allowed,
    weather_timer_key,
)
from dealerflow.policy import DealerPolicy, policy_with_overrides

POLICY = DealerPolicy()
NOW = datetime(2025, 7, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
CUSTOMER = UUID("6f1c2c1e-0000-4000-8000-000000000001")
WARNING_ID = UUID("6f1c2c1e-0000-4000-8000-0000000000aa")


def typhoon(**changes: object) -> WeatherWarning:
    fields: dict[str, object] = {
        "warning_id": WARNING_ID,
        "dealer_id": "d1",
        "kind": WeatherKind.TYPHOON,
        "starts_at": NOW + timedelta(hours=20),
        **changes,
    }
    return WeatherWarning(**fields)  # type: ignore[arg-type]


def test_a_tip_to_one_owner_is_sent_now_for_service() -> None:
    tip = plan_weather_tip(typhoon(note=" 海葵 "), CUSTOMER, NOW, POLICY)
    assert tip.key == f"customer:{CUSTOMER}:weather-tip:{WARNING_ID}"
    assert (tip.kind, tip.purpose, tip.send_at) == (
        ReminderKind.WEATHER_TIP,
        ConsentPurpose.SERVICE,
        NOW,
    )
    assert tip.related == RecordRef(RecordKind.CUSTOMER, str(CUSTOMER))
    assert tip.params["weather_starts_at"] == "2025-07-02 06:00"  # dealer-local
    assert tip.params["weather_note"] == " 海葵"
    assert plan_weather_tip(typhoon(), CUSTOMER, NOW, POLICY).params["weather_note"] == ""
    assert weather_timer_key("d1", WARNING_ID) == f"d1:weather-warning:{WARNING_ID}"


@pytest.mark.parametrize("kind", list(WeatherKind))
def test_every_kind_of_weather_has_its_advice_in_both_languages(kind: WeatherKind) -> None:
    tip = plan_weather_tip(typhoon(kind=kind), CUSTOMER, NOW, POLICY)
    params = {**tip.params, "customer_name": "王先生", "dealer_name": "浦东店"}
    zh = render_message(ReminderKind.WEATHER_TIP, Locale.ZH_CN, params)
    en = render_message(ReminderKind.WEATHER_TIP, Locale.EN, {**params, "customer_name": "Li"})
    assert WEATHER_ADVICE[(kind, Locale.ZH_CN)] in zh.body
    assert WEATHER_ADVICE[(kind, Locale.EN)] in en.body
    assert "2025-07-02 06:00" in zh.body


def test_at_most_one_tip_per_interval() -> None:
    assert tip_allowed(None, NOW, POLICY)
    assert not tip_allowed(NOW - timedelta(days=1), NOW, POLICY)
    assert tip_allowed(NOW - timedelta(days=3), NOW, POLICY)
    daily = policy_with_overrides({"owner_care": {"weather_tip_min_interval": "P1D"}})
    assert tip_allowed(NOW - timedelta(days=1), NOW, daily)


def test_a_warning_must_end_after_it_starts_and_not_be_over() -> None:
    check_warning(typhoon(), NOW)
    check_warning(typhoon(ends_at=NOW + timedelta(days=2)), NOW)
    with pytest.raises(WeatherWarningRefused, match="after it starts"):
        check_warning(typhoon(ends_at=NOW + timedelta(hours=1)), NOW)
    with pytest.raises(WeatherWarningRefused, match="over"):
        check_warning(
            typhoon(starts_at=NOW - timedelta(days=1), ends_at=NOW - timedelta(hours=1)), NOW
        )
