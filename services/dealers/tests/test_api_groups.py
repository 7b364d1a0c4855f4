"""Dealer groups over HTTP against real PostgreSQL: stores inherit the group's settings
and override them, a group change re-publishes each of its stores, moving a store is a
profile change, a year of official dates with China's make-up working days."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from dealerflow.devinfra.tokens import auth_header
from dealerflow.policy import BusinessCalendar, DealerSettings

pytestmark = pytest.mark.integration

GROUP = "/v1/dealer-groups/east"
MERGE_PATCH = {"content-type": "application/merge-patch+json"}


async def _store(dealers: Any, dealer_id: str, **profile: Any) -> dict[str, Any]:
    body: dict[str, Any] = await dealers.ok(
        "PUT", f"/v1/dealers/{dealer_id}/profile", json={"name": dealer_id, **profile}
    )
    return body


async def test_stores_inherit_the_group_and_override_it(dealers: Any) -> None:
    await _store(dealers, "sh-01", group_id="east")
    await _store(dealers, "cd-01", group_id="east")
    await dealers.ok("PUT", "/v1/dealers/cd-01/calendar", json={"time_zone": "Asia/Chongqing"})
    await _store(dealers, "bj-01")  # in no group
    before = {e.dealer_id: e.configuration_version for e in await dealers.published()}

    group = await dealers.ok(
        "PUT",
        f"{GROUP}/rules",
        json={"complaints": {"survey_dissatisfied_max_score": 5}},
        headers=auth_header(sub="group-admin"),
    )
    assert group["configuration_version"] == 1
    assert group["stores_changed"] == 2
    group = await dealers.ok(
        "PATCH", f"{GROUP}/calendar", json={"time_zone": "Asia/Harbin"}, headers=MERGE_PATCH
    )
    assert group["configuration_version"] == 2

    shanghai = await dealers.ok("GET", "/v1/dealers/sh-01")
    assert shanghai["group_overrides"]["policy"]["calendar"] == {"time_zone": "Asia/Harbin"}
    assert shanghai["configuration"]["policy"]["calendar"]["time_zone"] == "Asia/Harbin"
    assert shanghai["configuration"]["policy"]["complaints"]["survey_dissatisfied_max_score"] == 5
    assert shanghai["configuration_version"] == before["sh-01"] + 2
    chengdu = await dealers.ok("GET", "/v1/dealers/cd-01")
    assert chengdu["configuration"]["policy"]["calendar"]["time_zone"] == "Asia/Chongqing"
    # the calendar change left Chengdu's effective configuration as it was: no new version
    assert chengdu["configuration_version"] == before["cd-01"] + 1
    beijing = await dealers.ok("GET", "/v1/dealers/bj-01")
    assert beijing["configuration"]["policy"] == DealerSettings().model_dump(mode="json")["policy"]

    fanned = [e for e in await dealers.published() if e.changed_by == "group-admin"]
    assert sorted((e.dealer_id, e.configuration_version) for e in fanned) == [
        ("cd-01", before["cd-01"] + 1),
        ("sh-01", before["sh-01"] + 1),
    ]
    assert all(e.group_id == "east" and e.changed_sections == ["rules"] for e in fanned)
    history = await dealers.ok("GET", "/v1/dealers/sh-01/history", params={"limit": 1})
    assert history["items"][0]["change"] == {"group_id": "east", "group_version": 2}
    group_history = await dealers.ok("GET", f"{GROUP}/history")
    assert [(e["version"], e["sections"]) for e in group_history["items"]] == [
        (2, ["calendar"]),
        (1, ["rules"]),
    ]


async def test_null_in_a_store_goes_back_to_the_group_value(dealers: Any) -> None:
    await dealers.ok("PUT", GROUP, json={"policy": {"sales": {"quote_valid_days": 14}}})
    await _store(dealers, "sh-01", group_id="east")
    own = await dealers.ok(
        "PATCH",
        "/v1/dealers/sh-01/rules",
        json={"sales": {"quote_valid_days": 3}},
        headers=MERGE_PATCH,
    )
    assert own["configuration"]["sales"]["quote_valid_days"] == 3
    back = await dealers.ok(
        "PATCH",
        "/v1/dealers/sh-01/rules",
        json={"sales": {"quote_valid_days": None}},
        headers=MERGE_PATCH,
    )
    assert back["overrides"] == {}
    assert back["group_overrides"] == {"sales": {"quote_valid_days": 14}}
    assert back["configuration"]["sales"]["quote_valid_days"] == 14


async def test_moving_a_store_to_another_group_is_a_profile_change(dealers: Any) -> None:
    await dealers.ok("PUT", GROUP, json={"policy": {"service": {"labour_rate_per_hour": "350"}}})
    await dealers.ok(
        "PUT",
        "/v1/dealer-groups/west",
        json={"policy": {"service": {"labour_rate_per_hour": "250"}}},
    )
    east = await _store(dealers, "cd-01", group_id="east")
    assert east["configuration"]["group_id"] == "east"
    moved = await dealers.ok("PATCH", "/v1/dealers/cd-01/profile", json={"group_id": "west"})
    assert moved["group_id"] == "west"
    whole = await dealers.ok("GET", "/v1/dealers/cd-01")
    assert whole["configuration"]["policy"]["service"]["labour_rate_per_hour"] == "250"
    event = (await dealers.published())[-1]
    assert (event.group_id, sorted(event.changed_sections)) == ("west", ["profile", "rules"])
    # a change of the old group no longer reaches it
    after = await dealers.ok("PATCH", GROUP, json={"policy": {"service": {"warranty_months": 48}}})
    assert after["stores_changed"] == 0


async def test_a_group_has_no_profile_and_refuses_what_breaks_a_store(dealers: Any) -> None:
    refused = await dealers.problem("PUT", GROUP, 422, json={"profile": {"name": "East"}})
    assert [e["pointer"] for e in refused.json()["errors"]] == ["/profile"]
    bad = await dealers.problem(
        "PATCH", f"{GROUP}/rules", 422, json={"leads": {"warn_at_fraction": 0}}
    )
    assert bad.json()["errors"][0]["pointer"] == "/leads/warn_at_fraction"
    assert (await dealers.client.get(f"{GROUP}/profile")).status_code in (404, 405)
    unknown = await dealers.ok("GET", "/v1/dealer-groups/nobody")
    assert unknown["configuration_version"] == 0


SPRING_FESTIVAL_2025 = {
    # 春节: 28 Jan - 4 Feb 2025 off; Sunday 26 Jan and Saturday 8 Feb worked (调休上班)
    "holidays": [f"2025-01-{d}" for d in range(28, 32)] + [f"2025-02-0{d}" for d in range(1, 5)],
    "makeup_working_days": ["2025-01-26", "2025-02-08"],
}


async def test_a_year_of_official_dates_replaces_only_that_year(dealers: Any) -> None:
    await dealers.ok(
        "PUT",
        "/v1/dealers/sh-01/calendar",
        json={
            "holidays": ["2024-10-01", "2025-05-01"],
            "working_weekdays": ["mon", "tue", "wed", "thu", "fri"],
        },
    )
    calendar = await dealers.ok(
        "PUT", "/v1/dealers/sh-01/calendar/years/2025", json=SPRING_FESTIVAL_2025
    )
    assert calendar["section"] == "calendar"
    assert calendar["overrides"]["holidays"] == ["2024-10-01", *SPRING_FESTIVAL_2025["holidays"]]
    assert calendar["overrides"]["makeup_working_days"] == ["2025-01-26", "2025-02-08"]

    settings = DealerSettings.model_validate(
        (await dealers.ok("GET", "/v1/dealers/sh-01"))["configuration"]
    )
    business = BusinessCalendar(settings.policy)
    assert business.is_working_day(date(2025, 1, 26))  # a Sunday, made a working day
    assert business.is_working_day(date(2025, 2, 8))  # a Saturday, made a working day
    assert not business.is_working_day(date(2025, 1, 29))  # 春节
    assert business.is_working_day(date(2025, 5, 1))  # 2025 replaced: no longer a holiday
    assert not business.is_working_day(date(2024, 10, 1))  # another year: kept

    outside = await dealers.problem(
        "PUT", "/v1/dealers/sh-01/calendar/years/2025", 422, json={"holidays": ["2026-01-01"]}
    )
    assert outside.json()["errors"]


async def test_a_group_year_reaches_its_stores(dealers: Any) -> None:
    await _store(dealers, "sh-01", group_id="east")
    group = await dealers.ok("PUT", f"{GROUP}/calendar/years/2025", json=SPRING_FESTIVAL_2025)
    assert group["stores_changed"] == 1
    store = await dealers.ok("GET", "/v1/dealers/sh-01/calendar")
    assert store["configuration"]["makeup_working_days"] == ["2025-01-26", "2025-02-08"]
    assert store["overrides"] == {}
