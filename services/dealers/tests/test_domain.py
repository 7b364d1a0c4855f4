"""The pure rules of dealer configuration: sections, replace and merge patch, changed
sections, 422 pointers, a calendar year (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from dealerflow.dealers.domain import (
    InvalidConfiguration,
    Section,
    calendar_year_patch,
    changed_sections,
    effective_configuration,
    overrides_after,
    section_of,
)
from dealerflow.policy import DealerSettings

STORE = {
    "profile": {"name": "浦东店", "group_id": "east"},
    "policy": {"calendar": {"time_zone": "Asia/Shanghai"}, "leads": {"warn_at_fraction": 0.7}},
}


def test_rules_are_the_policy_without_its_calendar() -> None:
    assert section_of(STORE, Section.RULES) == {"leads": {"warn_at_fraction": 0.7}}
    assert section_of(STORE, Section.CALENDAR) == {"time_zone": "Asia/Shanghai"}
    assert section_of(STORE, Section.PEOPLE) == {}
    assert section_of(STORE, None) == STORE


def test_replacing_rules_keeps_the_calendar_and_replacing_the_calendar_keeps_the_rules() -> None:
    rules = overrides_after(
        STORE,
        owner="dealer",
        section=Section.RULES,
        kind="replace",
        body={"sales": {"quote_valid_days": 10}},
    )
    assert rules["policy"] == {
        "sales": {"quote_valid_days": 10},
        "calendar": {"time_zone": "Asia/Shanghai"},
    }
    calendar = overrides_after(
        STORE, owner="dealer", section=Section.CALENDAR, kind="replace", body={}
    )
    assert calendar["policy"] == {"leads": {"warn_at_fraction": 0.7}}
    assert calendar["profile"] == STORE["profile"]


def test_a_merge_patch_null_removes_the_override_and_an_emptied_section_goes() -> None:
    patched = overrides_after(
        STORE, owner="dealer", section=None, kind="merge_patch", body={"policy": {"leads": None}}
    )
    assert patched["policy"] == {"calendar": {"time_zone": "Asia/Shanghai"}}
    emptied = overrides_after(
        STORE,
        owner="dealer",
        section=Section.PROFILE,
        kind="merge_patch",
        body={"name": None, "group_id": None},
    )
    assert "profile" not in emptied


def test_a_calendar_in_rules_and_a_profile_of_a_group_are_refused() -> None:
    with pytest.raises(InvalidConfiguration) as rules:
        overrides_after(
            STORE,
            owner="dealer",
            section=Section.RULES,
            kind="merge_patch",
            body={"calendar": {"time_zone": "UTC"}},
        )
    assert [e["pointer"] for e in rules.value.errors] == ["/calendar"]
    with pytest.raises(InvalidConfiguration) as group:
        overrides_after({}, owner="group", section=None, kind="replace", body={"profile": {}})
    assert [e["pointer"] for e in group.value.errors] == ["/profile"]


def test_errors_point_into_the_request_body() -> None:
    body = {"time_zone": "Mars/Olympus", "open_on_holidays": "sometimes"}
    with pytest.raises(InvalidConfiguration) as exc:
        effective_configuration([{"policy": {"calendar": body}}], prefix=("policy", "calendar"))
    pointers = sorted(e["pointer"] for e in exc.value.errors)
    assert pointers == ["/open_on_holidays", "/time_zone"]
    assert ["policy", "calendar", "time_zone"] in [e["loc"] for e in exc.value.errors]


def test_changed_sections_compare_effective_values() -> None:
    before = DealerSettings().model_dump(mode="json")
    after = effective_configuration(
        [{"people": {"staff": [{"staff_id": "gm-1", "roles": ["gm"]}]}}]
    ).model_dump(mode="json")
    assert changed_sections(before, after) == [Section.PEOPLE]
    assert changed_sections(before, before) == []


def test_a_calendar_year_replaces_that_year_only() -> None:
    configuration = effective_configuration(
        [{"policy": {"calendar": {"holidays": ["2024-10-01", "2025-05-01"]}}}]
    ).model_dump(mode="json")
    patch = calendar_year_patch(
        configuration, 2025, [date(2025, 1, 29)], [date(2025, 1, 26), date(2025, 2, 8)]
    )
    assert patch == {
        "policy": {
            "calendar": {
                "holidays": ["2024-10-01", "2025-01-29"],
                "makeup_working_days": ["2025-01-26", "2025-02-08"],
            }
        }
    }
    with pytest.raises(InvalidConfiguration):
        calendar_year_patch(configuration, 2025, [date(2026, 1, 1)], [])
