"""A store's configuration over HTTP against real PostgreSQL: read, replace, merge patch,
sections, 422s naming the fields, If-Match, history, the list; DealerConfigured in the
outbox with the dealer as key and the version."""

from __future__ import annotations

from typing import Any

import pytest

from dealerflow.devinfra.service_testing import Outbox
from dealerflow.devinfra.tokens import auth_header
from dealerflow.policy import DealerSettings

pytestmark = pytest.mark.integration

DEALER = "sh-pudong-01"
URL = f"/v1/dealers/{DEALER}"
MERGE_PATCH = {"content-type": "application/merge-patch+json"}
DEFAULTS = DealerSettings().model_dump(mode="json")


async def test_an_unknown_dealer_has_the_defaults_at_version_0(dealers: Any) -> None:
    response = await dealers.client.get(URL)
    assert response.status_code == 200
    assert response.headers["etag"] == '"0"'
    assert response.json() == {
        "dealer_id": DEALER,
        "group_id": None,
        "configuration_version": 0,
        "configuration": DEFAULTS,
        "overrides": {},
        "group_overrides": {},
    }
    assert await dealers.published() == []


async def test_put_stores_the_overrides_and_publishes_version_1(dealers: Any) -> None:
    body = {
        "profile": {"name": "浦东店"},
        "policy": {
            "leads": {
                "first_contact": {
                    "online": {"first_contact": {"duration": "PT10M", "mode": "business_hours"}}
                }
            }
        },
    }
    response = await dealers.client.put(
        URL, json=body, headers=auth_header(roles=["gm"], dealers=[DEALER], sub="admin-li")
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"1"'
    view = response.json()
    assert view["configuration_version"] == 1
    assert view["overrides"] == body
    assert view["configuration"]["profile"]["name"] == "浦东店"
    online = view["configuration"]["policy"]["leads"]["first_contact"]["online"]
    assert online["first_contact"]["duration"] == "PT10M"
    assert view["configuration"]["policy"]["sales"] == DEFAULTS["policy"]["sales"]

    ((key, envelope),) = await Outbox(dealers.pool).records()
    assert key == DEALER.encode()
    event = envelope.event
    assert envelope.meta.dealer_id == DEALER
    assert (event.dealer_id, event.configuration_version, event.changed_by) == (
        DEALER,
        1,
        "admin-li",
    )
    assert sorted(event.changed_sections) == ["profile", "rules"]
    assert event.configuration == view["configuration"]
    assert await dealers.ok("GET", URL) == view


async def test_a_change_that_changes_nothing_publishes_nothing(dealers: Any) -> None:
    body = {"policy": {"sales": {"quote_valid_days": 10}}}
    await dealers.ok("PUT", URL, json=body)
    again = await dealers.client.put(URL, json=body)
    assert again.headers["etag"] == '"1"'
    # setting a default value explicitly is stored, but the configuration is the same
    same = await dealers.ok(
        "PATCH", URL, json={"policy": {"sales": {"vat_rate": "0.13"}}}, headers=MERGE_PATCH
    )
    assert same["configuration_version"] == 1
    assert same["overrides"]["policy"]["sales"]["vat_rate"] == "0.13"
    assert [e.configuration_version for e in await dealers.published()] == [1]


async def test_invalid_values_are_422s_naming_every_field(dealers: Any) -> None:
    body = {
        "policy": {
            "leads": {"warn_at_fraction": 1.5, "assignment_strategy": "lottery"},
            "calendar": {"time_zone": "Mars/Olympus"},
        },
        "people": {"staff": [{"staff_id": "c-1", "roles": ["juggler"]}]},
        "colour": "red",
    }
    response = await dealers.problem("PUT", URL, 422, json=body)
    problem = response.json()
    assert problem["type"].endswith("/validation-error")
    pointers = {e["pointer"] for e in problem["errors"]}
    assert {
        "/policy/leads/warn_at_fraction",
        "/policy/leads/assignment_strategy",
        "/policy/calendar/time_zone",
        "/people/staff/0/roles/0",
        "/colour",
    } <= pointers
    # a section's pointers are relative to its body
    section = await dealers.problem(
        "PUT", f"{URL}/rules", 422, json={"leads": {"warn_at_fraction": 2}}
    )
    assert [e["pointer"] for e in section.json()["errors"]] == ["/leads/warn_at_fraction"]
    assert section.json()["errors"][0]["loc"] == ["policy", "leads", "warn_at_fraction"]
    calendar = await dealers.problem(
        "PATCH", f"{URL}/rules", 422, json={"calendar": {"time_zone": "UTC"}}, headers=MERGE_PATCH
    )
    assert [e["pointer"] for e in calendar.json()["errors"]] == ["/calendar"]
    assert await dealers.published() == []


async def test_if_match_refuses_a_stale_version_with_412(dealers: Any) -> None:
    await dealers.ok("PUT", URL, json={"profile": {"name": "A"}}, headers={"If-Match": '"0"'})
    stale = await dealers.problem(
        "PATCH",
        URL,
        412,
        json={"profile": {"name": "B"}},
        headers={"If-Match": '"0"', **MERGE_PATCH},
    )
    assert stale.json()["configuration_version"] == 1
    fresh = await dealers.ok(
        "PATCH", URL, json={"profile": {"name": "B"}}, headers={"If-Match": '"1"'}
    )
    assert fresh["configuration"]["profile"]["name"] == "B"


async def test_patch_null_goes_back_to_the_inherited_value(dealers: Any) -> None:
    await dealers.ok(
        "PUT",
        f"{URL}/rules",
        json={"service": {"labour_rate_per_hour": "280.00", "warranty_months": 48}},
    )
    patched = await dealers.ok(
        "PATCH",
        f"{URL}/rules",
        json={"service": {"labour_rate_per_hour": None}},
        headers=MERGE_PATCH,
    )
    assert patched["overrides"] == {"service": {"warranty_months": 48}}
    assert patched["configuration"]["service"]["labour_rate_per_hour"] == "300.00"
    assert patched["configuration_version"] == 2
    # application/json is accepted for a merge patch too
    plain = await dealers.ok("PATCH", f"{URL}/rules", json={"service": None})
    assert plain["overrides"] == {}
    assert plain["configuration"] == {
        k: v for k, v in DEFAULTS["policy"].items() if k != "calendar"
    }


async def test_sections_read_and_replace_only_their_part(dealers: Any) -> None:
    people = {"staff": [{"staff_id": "gm-wang", "name": "王总", "roles": ["gm"]}]}
    await dealers.ok("PUT", f"{URL}/people", json=people)
    await dealers.ok("PUT", f"{URL}/calendar", json={"time_zone": "Asia/Chongqing"})
    await dealers.ok("PUT", f"{URL}/profile", json={"name": "成都店"})
    whole = await dealers.ok("GET", URL)
    assert whole["overrides"] == {
        "people": people,
        "policy": {"calendar": {"time_zone": "Asia/Chongqing"}},
        "profile": {"name": "成都店"},
    }
    section = await dealers.ok("GET", f"{URL}/people")
    assert section["section"] == "people"
    assert section["configuration"]["staff"][0]["staff_id"] == "gm-wang"
    assert section["configuration_version"] == 3
    events = await dealers.published()
    assert [e.changed_sections for e in events] == [["people"], ["calendar"], ["profile"]]


async def test_history_is_paginated_newest_first(dealers: Any) -> None:
    for days in range(1, 6):
        await dealers.ok(
            "PATCH",
            f"{URL}/rules",
            json={"sales": {"quote_valid_days": days}},
            headers={
                **auth_header(roles=["gm"], dealers=[DEALER], sub=f"staff-{days}"),
                **MERGE_PATCH,
            },
        )
    first = await dealers.ok("GET", f"{URL}/history", params={"limit": 2})
    assert [e["version"] for e in first["items"]] == [5, 4]
    assert first["items"][0]["changed_by"] == "staff-5"
    assert first["items"][0]["sections"] == ["rules"]
    assert first["items"][0]["change"] == {
        "kind": "merge_patch",
        "section": "rules",
        "body": {"sales": {"quote_valid_days": 5}},
    }
    second = await dealers.ok(
        "GET", f"{URL}/history", params={"limit": 2, "cursor": first["next_cursor"]}
    )
    third = await dealers.ok(
        "GET", f"{URL}/history", params={"limit": 2, "cursor": second["next_cursor"]}
    )
    assert [e["version"] for e in second["items"] + third["items"]] == [3, 2, 1]
    assert third["next_cursor"] is None
    await dealers.problem("GET", f"{URL}/history", 422, params={"cursor": "garbage"})


async def test_the_list_pages_by_dealer_and_filters_by_group(dealers: Any) -> None:
    for dealer, group in (("d-1", "east"), ("d-2", None), ("d-3", "east")):
        profile = {"name": dealer, **({"group_id": group} if group else {})}
        await dealers.ok("PUT", f"/v1/dealers/{dealer}/profile", json=profile)
    page = await dealers.ok("GET", "/v1/dealers", params={"limit": 2})
    assert [d["dealer_id"] for d in page["items"]] == ["d-1", "d-2"]
    rest = await dealers.ok(
        "GET", "/v1/dealers", params={"limit": 2, "cursor": page["next_cursor"]}
    )
    assert [d["dealer_id"] for d in rest["items"]] == ["d-3"]
    east = await dealers.ok("GET", "/v1/dealers", params={"group_id": "east"})
    assert [(d["dealer_id"], d["name"]) for d in east["items"]] == [("d-1", "d-1"), ("d-3", "d-3")]
