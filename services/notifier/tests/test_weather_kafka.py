"""Bad-weather tips through the whole notifier on real Kafka and PostgreSQL (ManualClock,
see conftest): a service manager's weather warning (POST /v1/weather-warnings) reaches
every owner at once, in their language, published as NotificationSent; a second warning the
next day does not reach them again (owner_care.weather_tip_min_interval, 3 days); who may
warn, and a warning that is over is refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.contracts.examples import example_for
from dealerflow.devinfra.tokens import auth_header

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D001"
AT = {"dealer_id": DEALER}
MANAGER = auth_header(roles=["service_manager"], dealers=[DEALER], sub="svc-mgr-1")
CONSULTANT = auth_header(roles=["consultant"], dealers=[DEALER], sub="c-1")


def owner(customer: uuid.UUID, name: str, locale: str) -> VehicleDelivered:
    contact = ContactSnapshot.model_validate(
        {
            "name": name,
            "phone": "+8613700002222",
            "preferred_channel": "sms",
            "consent": {"service": True, "marketing": False, "opted_out_channels": []},
            "locale": locale,
        }
    )
    return example_for(VehicleDelivered).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "contract_id": f"C-{customer.hex[:8]}",
            "delivery_id": f"DLV-{customer.hex[:8]}",
            "occurred_at": START,
            "delivered_at": START,
            "contact": contact,
        }
    )


def warning(kind: str, starts_at: datetime, **changes: Any) -> dict[str, Any]:
    return {"kind": kind, "starts_at": starts_at.isoformat(), **changes}


async def tips(notifier: Any) -> list[dict[str, Any]]:
    return [n for n in await notifier.notifications() if n["kind"] == "weather_tip"]


async def test_every_owner_gets_a_tip_and_not_again_within_three_days(notifier: Any) -> None:
    wang, smith = uuid.uuid4(), uuid.uuid4()
    await notifier.produce(owner(wang, "王先生", "zh-CN"))
    await notifier.produce(owner(smith, "Mr Smith", "en"))

    async def owners_known() -> bool:
        reminders = await notifier.client.get("/v1/reminders", params=AT)
        return {r["customer_id"] for r in reminders.json()["items"]} >= {str(wang), str(smith)}

    await notifier.eventually(owners_known, "both deliveries handled")

    api = notifier.client
    body = warning("typhoon", START + timedelta(days=1), note="台风“海葵”预计明日登陆。")
    headers = {**MANAGER, "Idempotency-Key": "typhoon-1"}
    issued = await api.post("/v1/weather-warnings", params=AT, json=body, headers=headers)
    assert issued.status_code == 202, issued.text
    assert issued.json()["kind"] == "typhoon"
    retried = await api.post("/v1/weather-warnings", params=AT, json=body, headers=headers)
    assert retried.status_code == 202
    assert retried.json()["warning_id"] == issued.json()["warning_id"]

    async def both_sent() -> dict[str, dict[str, Any]] | None:
        sent = {n["customer_id"]: n for n in await tips(notifier) if n["status"] == "sent"}
        return sent if len(sent) == 2 else None

    sent = await notifier.eventually(both_sent, "a tip to each owner")
    assert "台风" in sent[str(wang)]["body"]
    assert "海葵" in sent[str(wang)]["body"]  # the manager's note
    assert "typhoon" in sent[str(smith)]["body"]
    assert "2025-03-04 10:00" in sent[str(smith)]["body"]  # the start, dealer-local

    async def published() -> list[Any] | None:
        events = await notifier.published("NotificationSent")
        return [e for e in events if e["event"].kind.value == "weather_tip"] or None

    assert len(await notifier.eventually(published, "NotificationSent of the tips")) == 2

    # a rainstorm warning the next day: nobody is tipped again within 3 days
    notifier.clock.set(START + timedelta(days=1))
    again = await api.post(
        "/v1/weather-warnings",
        params=AT,
        json=warning("rainstorm", START + timedelta(days=1, hours=6)),
        headers={**MANAGER, "Idempotency-Key": "rain-1"},
    )
    assert again.status_code == 202, again.text
    fan_out = f"{DEALER}:weather-warning:{again.json()['warning_id']}"

    async def fired() -> bool:
        async with notifier.pool.acquire() as conn:
            status = await conn.fetchval("SELECT status FROM timers WHERE key = $1", fan_out)
        return status == "fired"

    await notifier.eventually(fired, "the second warning's fan-out")
    assert len(await tips(notifier)) == 2
    reminders = (await api.get("/v1/reminders", params=AT)).json()["items"]
    assert len([r for r in reminders if r["kind"] == "weather_tip"]) == 2


async def test_who_may_warn_and_a_warning_that_is_over(notifier: Any) -> None:
    api = notifier.client
    body = warning("snow", START + timedelta(hours=2))
    refused = await api.post("/v1/weather-warnings", params=AT, json=body, headers=CONSULTANT)
    assert refused.status_code == 403
    ended = (START - timedelta(hours=1)).isoformat()
    over = warning("fog", START - timedelta(hours=5), ends_at=ended)
    late = await api.post("/v1/weather-warnings", params=AT, json=over, headers=MANAGER)
    assert late.status_code == 422
    assert "over" in late.json()["detail"]
    unknown = await api.post(
        "/v1/weather-warnings", params=AT, json=warning("hail", START), headers=MANAGER
    )
    assert unknown.status_code == 422
