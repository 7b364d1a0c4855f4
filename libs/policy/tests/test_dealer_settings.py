"""DealerSettings: layering, validation, the dealer's people and replacements, merge
patches and imported calendar years (China's adjusted working days included)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from dealerflow.policy import (
    BusinessCalendar,
    CalendarYear,
    DealerPeople,
    DealerSettings,
    StaffMember,
    StaffRole,
    apply_merge_patch,
    policy_with_overrides,
    settings_with_overrides,
)
from dealerflow.policy.primitives import business_days_sla

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _locations(error: ValidationError) -> set[tuple[int | str, ...]]:
    return {tuple(e["loc"]) for e in error.errors()}


def staff(staff_id: str, *roles: str, **fields: Any) -> dict[str, Any]:
    """A staff member as a JSON document (roles default to consultant)."""
    return {"staff_id": staff_id, "roles": list(roles or ["consultant"]), **fields}


# -- layering ---------------------------------------------------------------------------


def test_no_layers_are_the_defaults() -> None:
    assert settings_with_overrides() == DealerSettings()
    assert settings_with_overrides(None, {}) == DealerSettings()
    assert DealerSettings().display_name("sh-pudong-01") == "sh-pudong-01"


def test_later_layers_win_and_nested_groups_merge_key_by_key() -> None:
    env = {"policy": {"leads": {"warn_at_fraction": 0.7, "assignment_strategy": "open_load"}}}
    group = {
        "profile": {"group_id": "acme-auto", "address": {"city": "Shanghai"}},
        "policy": {"leads": {"warn_at_fraction": 0.75}, "service": {"warranty_km": 100_000}},
    }
    store = {
        "profile": {"name": "Acme Pudong", "address": {"line1": "1888 Zhangyang Rd"}},
        "policy": {"leads": {"follow_up_every": {"H": "P1D"}}},
    }
    settings = settings_with_overrides(env, group, store)
    assert settings.policy.leads.warn_at_fraction == 0.75  # the group beats the environment
    assert settings.policy.leads.assignment_strategy == "open_load"  # env kept where unset
    assert settings.policy.service.warranty_km == 100_000
    assert settings.profile.group_id == "acme-auto"
    address = settings.profile.address
    assert (address.city, address.line1, address.country) == ("Shanghai", "1888 Zhangyang Rd", "CN")
    # a map merges key by key: H changed, the other grades keep the defaults
    follow_up = settings.policy.leads.follow_up_every
    assert follow_up["H"] == timedelta(days=1)
    assert follow_up["B"] == timedelta(days=7)
    assert settings.display_name("sh-pudong-01") == "Acme Pudong"


def test_lists_replace_instead_of_merging() -> None:
    group = {
        "policy": {"contact": {"channels": ["wechat", "sms", "email"]}},
        "people": {"staff": [staff("c-1"), staff("c-2")]},
    }
    store = {"policy": {"contact": {"channels": ["sms"]}}, "people": {"staff": [staff("c-9")]}}
    settings = settings_with_overrides(group, store)
    assert settings.policy.contact.channels == ["sms"]
    assert [m.staff_id for m in settings.people.staff] == ["c-9"]


def test_the_effective_settings_round_trip_through_json() -> None:
    store = {
        "policy": {"calendar": {"holidays": ["2026-10-02", "2026-10-01"]}},
        "people": {"staff": [staff("m-1", "sales_manager", "gm", "finance")]},
    }
    settings = settings_with_overrides(store)
    document = settings.model_dump(mode="json")
    assert DealerSettings.model_validate(document) == settings
    assert settings_with_overrides(document) == settings
    assert document["policy"]["calendar"]["holidays"] == ["2026-10-01", "2026-10-02"]


def test_the_json_of_a_configuration_does_not_depend_on_the_process() -> None:
    # Sets serialise sorted: the configuration event and its version compare as text.
    script = (
        "import json; from dealerflow.policy import settings_with_overrides as s; "
        "print(json.dumps(s({'people': {'staff': [{'staff_id': 'm', 'roles': "
        "['gm', 'finance', 'sales_manager', 'advisor', 'consultant']}]}}).model_dump("
        "mode='json')['people']))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1
    (roles,) = [m["roles"] for m in json.loads(outputs.pop())["staff"]]
    assert roles == ["consultant", "advisor", "sales_manager", "gm", "finance"]


# -- validation names the bad fields ------------------------------------------------------


def test_validation_errors_name_each_bad_field() -> None:
    bad = {
        "profile": {"group_id": "acme auto", "address": {"country": "CHN"}},
        "policy": {
            "leads": {"warn_at_fraction": 1.5, "assignment_strategy": "lottery"},
            "calendar": {"time_zone": "Mars/Olympus"},
            "sales": {"quote_valid_days": 0},
        },
        "people": {"oem_region": {"webhook_url": "ftp://oem"}, "staff": [{"staff_id": "x"}]},
    }
    with pytest.raises(ValidationError) as raised:
        settings_with_overrides(bad)
    assert _locations(raised.value) >= {
        ("profile", "group_id"),
        ("profile", "address", "country"),
        ("policy", "leads", "warn_at_fraction"),
        ("policy", "leads", "assignment_strategy"),
        ("policy", "calendar", "time_zone"),
        ("policy", "sales", "quote_valid_days"),
        ("people", "oem_region", "webhook_url"),
        ("people", "staff", 0, "roles"),
    }


def test_unknown_keys_are_refused_where_they_are() -> None:
    with pytest.raises(ValidationError) as raised:
        settings_with_overrides({"policy": {"leads": {"warn_at": 0.5}}, "prolife": {}})
    assert _locations(raised.value) == {("policy", "leads", "warn_at"), ("prolife",)}


def test_a_bad_layer_is_refused_even_when_a_later_layer_is_good() -> None:
    with pytest.raises(ValidationError) as raised:
        settings_with_overrides({"policy": {"service": {"labour_rate_per_hour": "-1"}}}, {})
    assert _locations(raised.value) == {("policy", "service", "labour_rate_per_hour")}


# -- people ----------------------------------------------------------------------------


def test_staff_member_validation() -> None:
    with pytest.raises(ValidationError, match="cannot replace themself"):
        StaffMember.model_validate(staff("c-1", replaced_by="c-1"))
    with pytest.raises(ValidationError, match="away_until is before away_from"):
        StaffMember.model_validate(staff("c-1", away_from="2026-03-10", away_until="2026-03-09"))
    with pytest.raises(ValidationError) as raised:
        StaffMember.model_validate(staff("c-1", "janitor"))
    assert _locations(raised.value) == {("roles", 0)}
    with pytest.raises(ValidationError) as raised:
        StaffMember.model_validate({"staff_id": "", "roles": []})
    assert _locations(raised.value) == {("staff_id",), ("roles",)}


def test_people_refuse_duplicate_ids_and_unknown_replacements_naming_them() -> None:
    with pytest.raises(ValidationError, match="staff listed twice: c-1") as raised:
        DealerPeople.model_validate({"staff": [staff("c-1"), staff("c-2"), staff("c-1")]})
    assert _locations(raised.value) == {("staff",)}
    with pytest.raises(ValidationError, match="replaced_by names staff not listed: c-7"):
        DealerPeople.model_validate({"staff": [staff("c-1", replaced_by="c-7")]})
    with pytest.raises(ValidationError) as raised:
        settings_with_overrides({"people": {"staff": [staff("gm-1", "gm", replaced_by="gm-1")]}})
    assert _locations(raised.value) == {("people", "staff", 0)}


MARCH_2 = date(2026, 3, 2)
AWAY = {"away_from": "2026-03-01", "away_until": "2026-03-05"}
"""An absence that covers MARCH_2."""


def _people(*members: dict[str, Any]) -> DealerPeople:
    return DealerPeople.model_validate({"staff": list(members)})


def test_holder_of_gives_the_first_holder_present() -> None:
    people = _people(
        staff("sm-1", "sales_manager", away_from="2026-03-01", away_until="2026-03-06"),
        staff("sm-2", "sales_manager"),
        staff("c-1", "consultant"),
    )
    assert people.holder_of(StaffRole.SALES_MANAGER, on=MARCH_2) == "sm-2"
    assert people.holder_of(StaffRole.SALES_MANAGER, on=date(2026, 3, 7)) == "sm-1"  # back
    assert people.holder_of(StaffRole.SALES_MANAGER, on=date(2026, 2, 28)) == "sm-1"
    assert people.holder_of(StaffRole.GM, on=MARCH_2) is None  # nobody: caller's fallback
    assert [m.staff_id for m in people.with_role(StaffRole.SALES_MANAGER)] == ["sm-1", "sm-2"]


def test_an_absent_only_holder_is_replaced_by_their_stand_in() -> None:
    people = _people(
        staff("gm-1", "gm", away_from="2026-03-01", away_until="2026-03-03", replaced_by="sm-1"),
        staff("sm-1", "sales_manager"),
    )
    assert people.holder_of(StaffRole.GM, on=MARCH_2) == "sm-1"
    assert people.holder_of(StaffRole.GM, on=date(2026, 3, 4)) == "gm-1"
    assert people.stand_in("gm-1", MARCH_2) == "sm-1"
    assert people.stand_in("nobody", MARCH_2) == "nobody"


def test_the_first_holder_whose_stand_in_is_present_gets_the_work() -> None:
    people = _people(
        staff("cr-1", "customer_relations", **AWAY),  # nobody named
        staff("cr-2", "customer_relations", **AWAY, replaced_by="c-1"),
        staff("c-1", "consultant"),
    )
    assert people.holder_of(StaffRole.CUSTOMER_RELATIONS, on=MARCH_2) == "c-1"


def test_open_ended_absences() -> None:
    people = _people(
        staff("a-1", "advisor", away_from="2026-03-01", replaced_by="a-2"),  # left the store
        staff("a-2", "advisor", away_until="2026-02-28"),  # back from leave on 1 March
    )
    assert people.stand_in("a-1", date(2030, 1, 1)) == "a-2"
    assert people.stand_in("a-1", date(2026, 2, 27)) == "a-1"
    assert people.holder_of(StaffRole.ADVISOR, on=date(2026, 2, 27)) == "a-1"


def test_a_replacement_chain_is_followed_to_someone_present() -> None:
    people = _people(
        staff("svm-1", "service_manager", **AWAY, replaced_by="a-1"),
        staff("a-1", "advisor", **AWAY, replaced_by="a-2"),
        staff("a-2", "advisor"),
    )
    assert people.stand_in("svm-1", MARCH_2) == "a-2"
    assert people.holder_of(StaffRole.SERVICE_MANAGER, on=MARCH_2) == "a-2"


def test_a_chain_ending_with_someone_absent_falls_back_to_the_person() -> None:
    people = _people(
        staff("gm-1", "gm", **AWAY, replaced_by="sm-1"),
        staff("sm-1", "sales_manager", **AWAY),  # away too, nobody named
    )
    assert people.stand_in("gm-1", MARCH_2) == "gm-1"
    assert people.holder_of(StaffRole.GM, on=MARCH_2) == "gm-1"


def test_a_replacement_cycle_ends_and_skips_nobody_present() -> None:
    cycle = _people(
        staff("a-1", "advisor", **AWAY, replaced_by="a-2"),
        staff("a-2", "advisor", **AWAY, replaced_by="a-3"),
        staff("a-3", "advisor", **AWAY, replaced_by="a-1"),
    )
    # everyone in the cycle is away: the work stays with the person it was for
    assert cycle.stand_in("a-2", MARCH_2) == "a-2"
    assert cycle.holder_of(StaffRole.ADVISOR, on=MARCH_2) == "a-1"
    back = _people(
        staff("a-1", "advisor", **AWAY, replaced_by="a-2"),
        staff("a-2", "advisor", **AWAY, replaced_by="a-1"),
        staff("cr-1", "customer_relations"),
    )
    assert back.stand_in("a-1", date(2026, 3, 6)) == "a-1"  # nobody away any more


# -- merge patches ---------------------------------------------------------------------


def test_merge_patch_merges_nested_objects_and_null_removes() -> None:
    stored: dict[str, Any] = {
        "profile": {"name": "Acme Pudong", "address": {"city": "Shanghai", "line1": "1888"}},
        "policy": {"leads": {"warn_at_fraction": 0.7}},
    }
    patch = {
        "profile": {"address": {"line1": None, "postcode": "200135"}},
        "policy": {"leads": None, "sales": {"quote_valid_days": 10}},
        "people": {"staff": [staff("c-1")]},
    }
    patched = apply_merge_patch(stored, patch)
    assert patched == {
        "profile": {"name": "Acme Pudong", "address": {"city": "Shanghai", "postcode": "200135"}},
        "policy": {"sales": {"quote_valid_days": 10}},
        "people": {"staff": [staff("c-1")]},
    }
    assert stored["profile"]["address"] == {"city": "Shanghai", "line1": "1888"}  # unchanged
    # removing an override brings back the inherited value
    group = {"policy": {"leads": {"warn_at_fraction": 0.6}}}
    assert settings_with_overrides(group, patched).policy.leads.warn_at_fraction == 0.6


def test_merge_patch_replaces_lists_and_scalars_and_ignores_absent_removals() -> None:
    stored = {"policy": {"contact": {"channels": ["sms", "wechat"]}}, "x": 1}
    patched = apply_merge_patch(stored, {"policy": {"contact": {"channels": ["email"]}}, "y": None})
    assert patched == {"policy": {"contact": {"channels": ["email"]}}, "x": 1}
    assert apply_merge_patch({"a": 1}, {"a": {"b": 2}}) == {"a": {"b": 2}}
    assert apply_merge_patch({"a": {"b": 2}}, {"a": 3}) == {"a": 3}


# -- calendar years --------------------------------------------------------------------

SPRING_FESTIVAL_2026 = [date(2026, 2, day) for day in range(15, 24)]
MAKEUP_2026 = [date(2026, 2, 14), date(2026, 2, 28)]  # two Saturdays worked


def _year_2026() -> CalendarYear:
    return CalendarYear(
        year=2026, holidays=frozenset(SPRING_FESTIVAL_2026), makeup_working_days=set(MAKEUP_2026)
    )


def test_a_calendar_year_refuses_dates_of_other_years_and_double_booked_days() -> None:
    with pytest.raises(ValidationError, match="dates outside 2026: 2025-12-31"):
        CalendarYear(year=2026, holidays=frozenset({date(2025, 12, 31), date(2026, 1, 1)}))
    with pytest.raises(ValidationError, match="dates outside 2026: 2027-01-02"):
        CalendarYear(year=2026, makeup_working_days=frozenset({date(2027, 1, 2)}))
    with pytest.raises(ValidationError, match="both holiday and make-up day: 2026-02-14"):
        CalendarYear(
            year=2026,
            holidays=frozenset({date(2026, 2, 14)}),
            makeup_working_days=frozenset({date(2026, 2, 14)}),
        )
    with pytest.raises(ValidationError):
        CalendarYear(year=1999)
    assert CalendarYear.model_validate_json(_year_2026().model_dump_json()) == _year_2026()


def test_merging_a_year_replaces_that_year_and_keeps_the_others() -> None:
    calendar = policy_with_overrides(
        {
            "calendar": {
                "holidays": ["2025-10-01", "2026-01-01", "2026-02-16", "2027-01-01"],
                "makeup_working_days": ["2025-09-28", "2026-01-04"],
            }
        }
    ).calendar
    merged = _year_2026().merged_into(calendar)
    assert merged["holidays"] == [date(2025, 10, 1), *SPRING_FESTIVAL_2026, date(2027, 1, 1)]
    assert merged["makeup_working_days"] == [date(2025, 9, 28), *MAKEUP_2026]
    # the result is the calendar override to store
    stored = policy_with_overrides({"calendar": merged}).calendar
    assert stored.holidays == frozenset(merged["holidays"])


# -- China's adjusted working days in BusinessCalendar ---------------------------------


def _china_2026_calendar() -> BusinessCalendar:
    """A store open Monday to Friday, with the 2026 Spring Festival dates imported."""
    base = policy_with_overrides({"calendar": {"business_hours": {"sat": [], "sun": []}}})
    dates = _year_2026().merged_into(base.calendar)
    return BusinessCalendar(
        policy_with_overrides({"calendar": {"business_hours": {"sat": [], "sun": []}, **dates}})
    )


def sh(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def test_the_make_up_saturdays_are_working_days_and_the_holidays_are_not() -> None:
    cal = _china_2026_calendar()
    assert cal.is_working_day(date(2026, 2, 13))  # Friday
    assert cal.is_working_day(date(2026, 2, 14))  # Saturday, worked for the holiday
    assert cal.is_working_day(date(2026, 2, 28))  # Saturday, worked for the holiday
    assert not cal.is_working_day(date(2026, 3, 7))  # an ordinary Saturday
    for holiday in SPRING_FESTIVAL_2026:  # weekdays and weekend days alike
        assert not cal.is_working_day(holiday), holiday
        assert not cal.is_open_day(holiday), holiday
    assert cal.is_working_day(date(2026, 2, 24))  # Tuesday after the holiday
    # the store, closed on ordinary Saturdays, opens on the make-up Saturday
    assert cal.is_open_day(date(2026, 2, 14))
    assert cal.is_business_time(sh(2, 14, 9, 0))
    assert not cal.is_business_time(sh(3, 7, 9, 0))


def test_add_working_days_counts_the_make_up_saturday_and_skips_the_holidays() -> None:
    cal = _china_2026_calendar()
    friday = sh(2, 13, 10, 0)
    assert cal.add_working_days(friday, 1) == sh(2, 14, 10, 0)  # the make-up Saturday
    assert cal.add_working_days(friday, 2) == sh(2, 24, 10, 0)  # after nine holidays
    assert cal.add_working_days(friday, 5) == sh(2, 27, 10, 0)
    assert cal.add_working_days(friday, 6) == sh(2, 28, 10, 0)  # the second make-up day
    assert cal.add_working_days(friday, 7) == sh(3, 2, 10, 0)  # Monday
    # the law's 7 working days from a complaint received on the Friday
    assert cal.add_working_days(friday, 7).tzinfo is UTC


def test_a_business_days_sla_started_before_spring_festival() -> None:
    cal = _china_2026_calendar()
    start = sh(2, 13, 16, 30)  # Friday afternoon
    # open days after the start day: Sat 14 (make-up), Tue 24, Wed 25
    assert cal.due(start, business_days_sla(1)) == sh(2, 14, 16, 30)
    assert cal.due(start, business_days_sla(3)) == sh(2, 25, 16, 30)
    # started after closing, the due time is clamped to that day's closing time
    assert cal.due(sh(2, 13, 19, 0), business_days_sla(2)) == sh(2, 24, 18, 0)
    # business hours skip the holidays too: 2 h left on Friday, then the make-up Saturday
    assert cal.add_business_time(start, timedelta(hours=3)) == sh(2, 14, 10, 0)
    assert cal.add_business_time(sh(2, 14, 17, 0), timedelta(hours=2)) == sh(2, 24, 9, 30)
