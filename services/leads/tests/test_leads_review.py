"""The sales manager's review queue of lost leads over HTTP, against real Kafka and
PostgreSQL: oldest first and paginated, approve, reopen at a live grade (LeadGraded),
a new loss back in the queue, the refusals, and who may review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.events.leads import LeadGraded, LeadLostReviewed
from dealerflow.devinfra.tokens import auth_header

pytestmark = pytest.mark.integration

DEALER = "gz-tianhe-03"
Q = {"dealer_id": DEALER}
MANAGER = auth_header(roles=["sales_manager"], dealers=[DEALER], sub="sm-zhou")


async def new_lead(leads: Any, phone: str, dealer: str = DEALER) -> str:
    body = {"dealer_id": dealer, "customer": {"name": "陈静", "phones": [phone]}}
    answer = await leads.http.post("/v1/leads", json=body, params={"consultant_id": "c-he"})
    assert answer.status_code == 201, answer.text
    lead_id: str = answer.json()["lead_id"]
    return lead_id


async def lose(leads: Any, lead_id: str, dealer: str = DEALER) -> None:
    body = {"reason": "price", "reason_note": "found it cheaper"}
    lost = await leads.http.post(
        f"/v1/leads/{lead_id}/lost", params={"dealer_id": dealer}, json=body
    )
    assert lost.status_code == 200, lost.text


async def queue(leads: Any, **params: str) -> dict[str, Any]:
    got = await leads.http.get("/v1/lead-reviews", params={**Q, **params}, headers=MANAGER)
    assert got.status_code == 200, got.text
    page: dict[str, Any] = got.json()
    return page


async def review(leads: Any, lead_id: str, body: dict[str, Any], **headers: str) -> Any:
    return await leads.http.post(
        f"/v1/leads/{lead_id}/review", params=Q, json=body, headers={**MANAGER, **headers}
    )


async def test_the_queue_holds_unreviewed_losses_oldest_first(leads: Any) -> None:
    first, second, third = [await new_lead(leads, f"1360000000{n}") for n in range(3)]
    still_open = await new_lead(leads, "13600000009")
    for lead_id in (first, second, third):
        await lose(leads, lead_id)
    elsewhere = await new_lead(leads, "13600000008", dealer="sz-futian-09")
    await lose(leads, elsewhere, dealer="sz-futian-09")

    page = await queue(leads, limit="2")
    assert [item["lead_id"] for item in page["items"]] == [first, second]
    assert page["items"][0]["lost_reason"] == "price"
    assert page["items"][0]["lost_note"] == "found it cheaper"
    assert page["items"][0]["lost_at"] <= page["items"][1]["lost_at"]
    rest = await queue(leads, limit="2", cursor=page["next_cursor"])
    assert [item["lead_id"] for item in rest["items"]] == [third]
    assert rest["next_cursor"] is None
    assert still_open not in {i["lead_id"] for i in page["items"] + rest["items"]}

    approved = await review(leads, second, {"decision": "approve", "note": "price, fair"})
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["decision"], body["grade_after"], body["reviewed_by"]) == (
        "approve",
        None,
        "sm-zhou",
    )
    assert (body["lead"]["grade"], body["lead"]["status"]) == ("F", "lost")
    assert [i["lead_id"] for i in (await queue(leads))["items"]] == [first, third]
    events = await leads.wait_for_events(
        lambda es: any(isinstance(e, LeadLostReviewed) for e in es), what="LeadLostReviewed"
    )
    (published,) = [e for e in events if isinstance(e, LeadLostReviewed)]
    assert (published.lead_id, published.decision) == (second, "approve")
    assert (published.reviewed_by, published.grade_after) == ("sm-zhou", None)

    again = await review(leads, second, {"decision": "reopen", "note": "changed my mind"})
    assert again.status_code == 409, again.text
    assert "not awaiting review" in again.json()["detail"]
    not_lost = await review(leads, still_open, {"decision": "approve"})
    assert not_lost.status_code == 409


async def test_reopen_goes_back_to_the_grade_before_the_loss(leads: Any) -> None:
    lead_id = await new_lead(leads, "13600001111")
    contact = {
        "channel": "phone",
        "outcome": "reached",
        "grade_after": "B",
        "next_contact_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
    }
    logged = await leads.http.post(f"/v1/leads/{lead_id}/contacts", params=Q, json=contact)
    assert logged.status_code == 201, logged.text
    await lose(leads, lead_id)

    no_note = await review(leads, lead_id, {"decision": "reopen"})
    assert no_note.status_code == 422, no_note.text
    assert "needs a note" in no_note.json()["detail"]
    body = {"decision": "reopen", "note": "the price gap is closed by the new campaign"}
    reopened = await review(leads, lead_id, body, **{"Idempotency-Key": "rv-1"})
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["grade_after"] == "B"
    lead = reopened.json()["lead"]
    assert (lead["grade"], lead["status"]) == ("B", "open")
    replayed = await review(leads, lead_id, body, **{"Idempotency-Key": "rv-1"})
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert replayed.json() == reopened.json()

    detail = (await leads.http.get(f"/v1/leads/{lead_id}", params=Q)).json()
    assert (detail["lost_reason"], detail["closed_at"], detail["sales_follow_up_allowed"]) == (
        None,
        None,
        True,
    )
    assert lead_id not in {i["lead_id"] for i in (await queue(leads))["items"]}

    # lost again: a new loss, back in the queue; reopened at the grade asked for
    await lose(leads, lead_id)
    assert lead_id in {i["lead_id"] for i in (await queue(leads))["items"]}
    at_h = await review(leads, lead_id, {"decision": "reopen", "note": "will order", "grade": "H"})
    assert at_h.status_code == 200, at_h.text
    assert at_h.json()["lead"]["grade"] == "H"

    events = await leads.wait_for_events(
        lambda evs: len([e for e in evs if isinstance(e, LeadGraded)]) == 5, what="5 LeadGraded"
    )
    grades = [
        (str(e.previous_grade), str(e.grade), e.note) for e in events if isinstance(e, LeadGraded)
    ]
    assert grades[2] == ("F", "B", "the price gap is closed by the new campaign")
    assert grades[4] == ("F", "H", "will order")


async def test_a_lead_does_not_reopen_over_the_customers_newer_lead(leads: Any) -> None:
    old = await new_lead(leads, "13600002222")
    await lose(leads, old)
    newer = await new_lead(leads, "13600002222")  # a lost lead is closed: the person starts anew
    assert newer != old
    refused = await review(leads, old, {"decision": "reopen", "note": "called back"})
    assert refused.status_code == 409, refused.text
    assert newer in refused.json()["detail"]
    # approving the old loss is still possible
    assert (await review(leads, old, {"decision": "approve"})).status_code == 200


async def test_only_sales_managers_and_gms_review(leads: Any) -> None:
    lead_id = await new_lead(leads, "13600003333")
    await lose(leads, lead_id)
    consultant = auth_header(roles=["consultant"], dealers=[DEALER], sub="c-he")
    listed = await leads.http.get("/v1/lead-reviews", params=Q, headers=consultant)
    assert listed.status_code == 403
    posted = await leads.http.post(
        f"/v1/leads/{lead_id}/review", params=Q, json={"decision": "approve"}, headers=consultant
    )
    assert posted.status_code == 403
    gm = auth_header(roles=["gm"], dealers=[DEALER], sub="gm-wu")
    done = await leads.http.post(
        f"/v1/leads/{lead_id}/review", params=Q, json={"decision": "approve"}, headers=gm
    )
    assert done.status_code == 200, done.text
    assert done.json()["reviewed_by"] == "gm-wu"
    other_dealer = auth_header(roles=["sales_manager"], dealers=["sz-futian-09"])
    assert (
        await leads.http.get("/v1/lead-reviews", params=Q, headers=other_dealer)
    ).status_code == 403


async def test_erasing_the_customer_blanks_the_review_note(leads: Any) -> None:
    lead_id = await new_lead(leads, "13600004444")
    await lose(leads, lead_id)
    note = "wife Li Na works at the Tesla store on Huangpu Road"
    assert (await review(leads, lead_id, {"decision": "approve", "note": note})).status_code == 200
    detail = (await leads.http.get(f"/v1/leads/{lead_id}", params=Q)).json()
    gm = auth_header(roles=["gm"], dealers=[DEALER], sub="gm-wu")
    erasure = await leads.http.post(
        f"/v1/customers/{detail['customer_id']}/erasure", json={"dealer_id": DEALER}, headers=gm
    )
    assert erasure.status_code == 202, erasure.text

    async def review_note() -> str | None:
        async with leads.pool.acquire() as conn:
            stored: str | None = await conn.fetchval(
                "SELECT coalesce(note, '(blank)') FROM lead_reviews WHERE lead_id = $1::uuid",
                lead_id,
            )
        return stored if stored == "(blank)" else None

    await leads.eventually(review_note, what="the review note erased")
