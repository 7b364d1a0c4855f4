"""The complaint analysis over HTTP (real PostgreSQL and Kafka): counts by dimension and
month, repeat customers and vehicles, p50/p90 times, SLA compliance per clock, the period
and who may read it; the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest

from dealerflow.complaints import usecases_analysis
from dealerflow.complaints.domain_analysis import CSV_COLUMNS
from dealerflow.devinfra.tokens import auth_header

pytestmark = pytest.mark.integration

STORE = "sh-pudong-01"
DEALER = {"dealer_id": STORE}
MARCH = {**DEALER, "from": "2025-03-01", "to": "2025-03-31"}
VIN = "LSVAA4182E2184847"


async def act(harness: Any, cid: str, step: str, **body: Any) -> None:
    response = await harness.client.post(f"/v1/complaints/{cid}/{step}", json={**DEALER, **body})
    assert response.status_code == 200, response.text


async def test_the_analysis_counts_times_and_measures_compliance(harness: Any) -> None:
    first = (await harness.open_complaint(vin=VIN, department="after_sales"))["id"]
    second = (await harness.open_complaint(vin=VIN, category="product_quality"))["id"]
    other = await harness.open_complaint(
        contact={"name": "李娜", "phone": "139 0013 9000"}, channel="online", severity="critical"
    )
    harness.clock.advance(timedelta(minutes=40))
    await act(harness, first, "acknowledge", channel="phone")
    harness.clock.advance(timedelta(minutes=20))
    await act(harness, second, "acknowledge", channel="phone")
    await harness.fire_due()  # the critical complaint's 30-minute acknowledgement is breached
    await act(
        harness,
        first,
        "resolve",
        responsibility="dealer",
        responsible_department="after_sales",
        cause="Brake pads worn",
        measures=["Replace the pads at our cost"],
        resolution="Pads replaced, apologised",
    )

    response = await harness.client.get("/v1/complaints/analysis", params=MARCH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 3
    assert body["period"]["first_day"] == "2025-03-01"
    assert body["period"]["starts_at"] == "2025-03-01T00:00:00+08:00"
    by = body["by"]
    assert by["category"] == {"after_sales_service": 2, "product_quality": 1}
    assert by["cause"] == {"not_recorded": 2, "brake pads worn": 1}
    assert by["responsible_department"] == {"not_recorded": 2, "after_sales": 1}
    assert by["responsibility"] == {"not_recorded": 2, "dealer": 1}
    assert by["department"]["after_sales"] == 1
    assert by["channel"] == {"hotline": 2, "online": 1}
    assert by["severity"] == {"normal": 2, "critical": 1}
    assert by["status"] == {"acknowledged": 1, "opened": 1, "resolved": 1}
    assert by["month"] == {"2025-03": 3}
    assert sum(by["handler"].values()) == 3

    assert body["repeat_customers"]["total"] == 1
    assert body["repeat_customers"]["top"][0]["complaints"] == 2
    assert body["repeat_vehicles"] == {"total": 1, "top": [{"key": VIN, "complaints": 2}]}

    assert body["time_to_acknowledge"] == {"complaints": 2, "p50_s": 3000.0, "p90_s": 3480.0}
    assert body["time_to_resolve"] == {"complaints": 1, "p50_s": 3600.0, "p90_s": 3600.0}

    acknowledge = body["sla_compliance"]["acknowledge"]
    assert acknowledge["met"] == 2
    assert acknowledge["breached"] == 1
    assert acknowledge["rate"] == pytest.approx(0.6667)
    assert other["severity"] == "critical"

    # another month: nothing, but every month of the period listed
    april = await harness.client.get(
        "/v1/complaints/analysis", params={**DEALER, "from": "2025-04-01", "to": "2025-05-31"}
    )
    assert april.status_code == 200
    assert april.json()["total"] == 0
    assert april.json()["by"]["month"] == {"2025-04": 0, "2025-05": 0}
    assert april.json()["time_to_acknowledge"] == {"complaints": 0, "p50_s": None, "p90_s": None}


async def test_an_inverted_period_is_a_problem_and_readers_are_managers_and_relations(
    harness: Any,
) -> None:
    inverted = await harness.client.get(
        "/v1/complaints/analysis", params={**DEALER, "from": "2025-04-01", "to": "2025-03-01"}
    )
    assert inverted.status_code == 422
    assert inverted.headers["content-type"].startswith("application/problem+json")
    assert "after its end" in inverted.json()["detail"]

    def as_(role: str) -> dict[str, str]:
        return auth_header(roles=[role], dealers=[STORE], sub="staff-1")

    for role, status in [
        ("consultant", 403),
        ("advisor", 403),
        ("customer_relations", 200),
        ("service_manager", 200),
        ("gm", 200),
    ]:
        response = await harness.client.get(
            "/v1/complaints/analysis", params=DEALER, headers=as_(role)
        )
        assert response.status_code == status, (role, response.text)
    elsewhere = await harness.client.get(
        "/v1/complaints/analysis", params={"dealer_id": "bj-chaoyang-02"}, headers=as_("gm")
    )
    assert elsewhere.status_code == 403


async def test_the_export_streams_every_complaint_in_batches_without_contact_data(
    harness: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(usecases_analysis, "EXPORT_BATCH", 2)  # three batches for 5 complaints
    opened = []
    for n in range(5):
        opened.append((await harness.open_complaint(summary=f"Complaint {n}"))["id"])
        harness.clock.advance(timedelta(minutes=1))
    await harness.open_complaint(dealer_id="bj-chaoyang-02")  # another dealer's
    await act(harness, opened[0], "acknowledge", channel="phone")
    await act(
        harness,
        opened[0],
        "resolve",
        responsibility="dealer",
        cause="=cmd|' /C calc'!A0",
        measures=["Re-repair"],
        resolution="Done",
    )

    response = await harness.client.get("/v1/complaints/export.csv", params=MARCH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="complaints-sh-pudong-01-2025-03-01-2025-03-31.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["complaint_id"] for r in rows] == opened  # oldest first, this dealer's only
    assert list(rows[0]) == list(CSV_COLUMNS)
    first = rows[0]
    assert first["status"] == "resolved"
    assert first["responsibility"] == "dealer"
    assert first["cause"] == "'=cmd|' /C calc'!A0"
    assert first["month"] == "2025-03"
    assert first["time_to_acknowledge_s"] == "300.0"
    assert "13800138000" not in response.text
    assert "张伟" not in response.text
    assert "Complaint 0" not in response.text

    empty = await harness.client.get(
        "/v1/complaints/export.csv", params={**DEALER, "from": "2025-04-01"}
    )
    assert empty.status_code == 200
    assert empty.text == ",".join(CSV_COLUMNS) + "\r\n"
    inverted = await harness.client.get(
        "/v1/complaints/export.csv", params={**DEALER, "from": "2025-04-01", "to": "2025-03-01"}
    )
    assert inverted.status_code == 422
    consultant = await harness.client.get(
        "/v1/complaints/export.csv",
        params=DEALER,
        headers=auth_header(roles=["consultant"], dealers=[STORE], sub="staff-1"),
    )
    assert consultant.status_code == 403
