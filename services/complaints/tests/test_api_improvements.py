"""Improvement actions over HTTP (real PostgreSQL and Kafka): recorded against a cause with
the complaints they answer, once per Idempotency-Key; listed by status and cause, paged;
completed once; counted open/done per cause in the analysis; who may do what."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from dealerflow.devinfra.tokens import auth_header

pytestmark = pytest.mark.integration

STORE = "sh-pudong-01"
DEALER = {"dealer_id": STORE}
URL = "/v1/improvement-actions"


def action_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        **DEALER,
        "cause": "Brake pads worn",
        "description": "Check pad wear at every service and tell the customer",
        "owner_staff_id": "svc-wu",
        "due_on": "2025-03-31",
    }
    body.update(overrides)
    return body


def as_(role: str) -> dict[str, str]:
    return auth_header(roles=[role], dealers=[STORE], sub="staff-1")


async def test_actions_are_recorded_once_listed_completed_and_counted(harness: Any) -> None:
    complaint = (await harness.open_complaint())["id"]
    key = {"Idempotency-Key": "action-1"}
    body = action_body(complaint_ids=[complaint])
    created = await harness.client.post(URL, json=body, headers=key)
    assert created.status_code == 201, created.text
    action = created.json()
    assert action["status"] == "open"
    assert action["overdue"] is False
    assert action["complaint_ids"] == [complaint]
    assert action["cause_key"] == "brake pads worn"
    assert created.headers["Location"] == f"{URL}/{action['id']}?dealer_id={STORE}"

    retry = await harness.client.post(URL, json=body, headers=key)
    assert retry.status_code == 200
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == action["id"]
    reused = await harness.client.post(URL, json=action_body(cause="Other"), headers=key)
    assert reused.status_code == 422
    assert reused.json()["type"].endswith("idempotency-key-reused")

    harness.clock.advance(timedelta(minutes=1))
    other = (await harness.client.post(URL, json=action_body(cause="Late callback"))).json()
    harness.clock.advance(timedelta(minutes=1))
    third = (await harness.client.post(URL, json=action_body(cause="BRAKE pads  worn"))).json()

    done = await harness.client.post(
        f"{URL}/{action['id']}/completion",
        json={**DEALER, "note": "Checklist updated"},
        headers={"Idempotency-Key": "done-1"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done"
    assert done.json()["completion_note"] == "Checklist updated"
    assert done.json()["completed_by"] is not None  # the caller
    again = await harness.client.post(
        f"{URL}/{action['id']}/completion", json=DEALER, headers={"Idempotency-Key": "done-1"}
    )
    assert again.status_code == 422  # same key, another body
    replay = await harness.client.post(
        f"{URL}/{action['id']}/completion",
        json={**DEALER, "note": "Checklist updated"},
        headers={"Idempotency-Key": "done-1"},
    )
    assert replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    twice = await harness.client.post(f"{URL}/{action['id']}/completion", json=DEALER)
    assert twice.status_code == 409
    assert twice.json()["type"].endswith("already-done")

    open_ones = (await harness.client.get(URL, params={**DEALER, "status": "open"})).json()
    assert [a["id"] for a in open_ones["items"]] == [third["id"], other["id"]]
    brakes = (await harness.client.get(URL, params={**DEALER, "cause": "brake PADS worn"})).json()
    assert {a["id"] for a in brakes["items"]} == {action["id"], third["id"]}
    first_page = (await harness.client.get(URL, params={**DEALER, "limit": 2})).json()
    assert len(first_page["items"]) == 2
    rest = (
        await harness.client.get(
            URL, params={**DEALER, "limit": 2, "cursor": first_page["next_cursor"]}
        )
    ).json()
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None
    one = await harness.client.get(f"{URL}/{other['id']}", params=DEALER)
    assert one.json()["cause"] == "Late callback"
    elsewhere = await harness.client.get(
        f"{URL}/{other['id']}", params={"dealer_id": "bj-chaoyang-02"}
    )
    assert elsewhere.status_code == 404
    missing = await harness.client.get(f"{URL}/{uuid.uuid4()}", params=DEALER)
    assert missing.status_code == 404

    analysis = (await harness.client.get("/v1/complaints/analysis", params=DEALER)).json()
    assert analysis["improvement_actions"] == {
        "brake pads worn": {"open": 1, "done": 1},
        "late callback": {"open": 1, "done": 0},
    }


async def test_bad_actions_are_refused_with_the_reason(harness: Any) -> None:
    past = await harness.client.post(URL, json=action_body(due_on="2025-03-04"))
    assert past.status_code == 422
    assert "before today" in past.json()["detail"]
    stranger = str(uuid.uuid4())
    unknown = await harness.client.post(URL, json=action_body(complaint_ids=[stranger]))
    assert unknown.status_code == 422
    assert stranger in unknown.json()["detail"]
    theirs = (await harness.open_complaint(dealer_id="bj-chaoyang-02"))["id"]
    other_dealer = await harness.client.post(URL, json=action_body(complaint_ids=[theirs]))
    assert other_dealer.status_code == 422
    nothing = await harness.client.post(URL, json=action_body(cause=" "))
    assert nothing.status_code == 422
    assert await harness.db("SELECT 1 FROM improvement_actions") == []


async def test_managers_record_and_complete_customer_relations_reads(harness: Any) -> None:
    relations = await harness.client.post(
        URL, json=action_body(), headers=as_("customer_relations")
    )
    assert relations.status_code == 403
    manager = await harness.client.post(URL, json=action_body(), headers=as_("service_manager"))
    assert manager.status_code == 201, manager.text
    assert manager.json()["created_by"] == "staff-1"
    action_id = manager.json()["id"]
    reads = await harness.client.get(URL, params=DEALER, headers=as_("customer_relations"))
    assert reads.status_code == 200
    consultant = await harness.client.get(URL, params=DEALER, headers=as_("consultant"))
    assert consultant.status_code == 403
    completion = f"{URL}/{action_id}/completion"
    refused = await harness.client.post(completion, json=DEALER, headers=as_("customer_relations"))
    assert refused.status_code == 403
    gm = await harness.client.post(completion, json=DEALER, headers=as_("gm"))
    assert gm.status_code == 200
    assert gm.json()["completed_by"] == "staff-1"
