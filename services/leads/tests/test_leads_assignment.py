"""Consultants, assignment strategy and dealer group come from each dealer's configuration
(its people, policy and profile), against real Kafka + PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dealerflow.contracts.identity import customer_id_for

pytestmark = pytest.mark.integration

SHANGHAI = "sh-pudong-01"
CHENGDU = "cd-wuhou-02"


def consultant(staff_id: str, **fields: Any) -> dict[str, Any]:
    return {"staff_id": staff_id, "roles": ["consultant"], **fields}


async def submit(leads: Any, dealer: str, phone: str, **query: str) -> dict[str, Any]:
    body = {"dealer_id": dealer, "customer": {"name": "赵磊", "phones": [phone]}}
    answer = await leads.http.post("/v1/leads", json=body, params=query)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def consultants(leads: Any, dealer: str) -> dict[str, Any]:
    answer = await leads.http.get(f"/v1/dealers/{dealer}/consultants")
    assert answer.status_code == 200, answer.text
    view: dict[str, Any] = answer.json()
    return view


async def test_each_dealer_assigns_to_its_own_consultants(leads: Any) -> None:
    await leads.configure(
        SHANGHAI, {"people": {"staff": [consultant("c-li"), consultant("c-wang")]}}
    )
    await leads.configure(CHENGDU, {"people": {"staff": [consultant("c-he")]}})

    shanghai = [await submit(leads, SHANGHAI, f"1390000000{i}") for i in range(3)]
    chengdu = [await submit(leads, CHENGDU, f"1390000000{i}") for i in range(2)]

    assert [lead["consultant_id"] for lead in shanghai] == ["c-li", "c-wang", "c-li"]
    assert [lead["consultant_id"] for lead in chengdu] == ["c-he", "c-he"]
    view = await consultants(leads, CHENGDU)
    assert view["assignment_strategy"] == "round_robin"
    assert view["last_assigned_id"] == "c-he"
    assert [(c["consultant_id"], c["open_leads"]) for c in view["consultants"]] == [("c-he", 2)]
    # the roster is read-only here: the dealers service changes the dealer's people
    put = await leads.http.put(f"/v1/dealers/{CHENGDU}/consultants", json={"consultants": []})
    assert put.status_code == 405


async def test_a_consultant_away_gets_no_new_lead(leads: Any) -> None:
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    away = consultant(
        "c-away",
        away_from=(today - timedelta(days=1)).isoformat(),
        away_until=(today + timedelta(days=1)).isoformat(),
    )
    back_tomorrow = consultant("c-back", away_until=today.isoformat())
    staff = [away, back_tomorrow, consultant("c-here"), consultant("c-off", on_duty=False)]
    await leads.configure(SHANGHAI, {"people": {"staff": staff}})

    picks = [(await submit(leads, SHANGHAI, f"1380000000{i}"))["consultant_id"] for i in range(3)]
    assert picks == ["c-here", "c-here", "c-here"]
    moved = await leads.http.post(
        f"/v1/leads/{(await submit(leads, SHANGHAI, '13800000009'))['lead_id']}/assign",
        params={"dealer_id": SHANGHAI},
        json={},
    )
    assert moved.status_code == 409, moved.text  # nobody else available today
    assert moved.json()["type"].endswith("/no-consultant-on-duty")

    view = await consultants(leads, SHANGHAI)
    assert view["on"] == today.isoformat()
    available = {c["consultant_id"]: c["available"] for c in view["consultants"]}
    assert available == {"c-away": False, "c-back": False, "c-here": True, "c-off": False}


async def test_open_load_gives_the_lead_to_the_least_loaded_consultant(leads: Any) -> None:
    staff = [consultant("c-1"), consultant("c-2"), consultant("c-3")]
    await leads.configure(SHANGHAI, {"people": {"staff": staff}})
    for i, name in enumerate(["c-1", "c-1", "c-2"]):  # named by the sender: no turn taken
        await submit(leads, SHANGHAI, f"1370000000{i}", consultant_id=name)
    await leads.configure(
        SHANGHAI,
        {"people": {"staff": staff}, "policy": {"leads": {"assignment_strategy": "open_load"}}},
    )

    picks = [(await submit(leads, SHANGHAI, f"1371111111{i}"))["consultant_id"] for i in range(3)]

    # loads 2/1/0 -> c-3; then c-2 and c-3 tie at 1, c-3 had the last turn -> c-2; then c-3
    assert picks == ["c-3", "c-2", "c-3"]
    view = await consultants(leads, SHANGHAI)
    assert view["assignment_strategy"] == "open_load"
    assert [c["open_leads"] for c in view["consultants"]] == [2, 2, 2]


async def test_customer_ids_are_of_the_dealers_group(leads: Any) -> None:
    await leads.configure(SHANGHAI, {"profile": {"group_id": "grp-east"}})

    grouped = await submit(leads, SHANGHAI, "13612345678")
    assert grouped["customer_id"] == str(customer_id_for("grp-east", "+8613612345678"))
    named = await leads.http.post(
        "/v1/leads",
        json={"dealer_id": SHANGHAI, "customer": {"phones": ["13687654321"]}},
        headers={"X-Dealer-Group": "grp-named"},
    )
    assert named.status_code == 201, named.text  # the sender's group still wins
    assert named.json()["customer_id"] == str(customer_id_for("grp-named", "+8613687654321"))
    ungrouped = await submit(leads, CHENGDU, "13612345678")
    assert ungrouped["customer_id"] == str(customer_id_for("default", "+8613612345678"))
