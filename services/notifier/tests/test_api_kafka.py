"""Completing tasks through the API publishes TaskCompleted to Kafka; a malformed record on
a consumed topic is dead-lettered and does not block the next one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.envelope import encode_binary
from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.contracts.events.service import VehicleHandedOver
from dealerflow.contracts.examples import example_for
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.runtime.dlq import read_dead_letters

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
DEALER = "D001"


def handed_over(repair_order_id: str, **changes: Any) -> VehicleHandedOver:
    return example_for(VehicleHandedOver).model_copy(
        update={
            "dealer_id": DEALER,
            "repair_order_id": repair_order_id,
            "occurred_at": START,
            "handed_over_at": START,
            **changes,
        }
    )


async def _callback_task(notifier, repair_order_id: str) -> dict[str, Any]:
    async def task() -> list[dict[str, Any]]:
        return [t for t in await notifier.tasks() if t["related"]["id"] == repair_order_id]

    [found] = await notifier.eventually(task, f"the callback task of {repair_order_id}")
    return found


async def test_dissatisfied_outcome_publishes_task_completed(notifier) -> None:
    await notifier.produce(handed_over("RO-1"))
    task = await _callback_task(notifier, "RO-1")
    url = f"/v1/tasks/{task['id']}/complete"

    no_note = await notifier.client.post(
        url, params={"dealer_id": DEALER}, json={"outcome": "dissatisfied"}
    )
    assert no_note.status_code == 422
    assert no_note.headers["content-type"].startswith("application/problem+json")
    assert "note" in no_note.json()["detail"]

    bad_outcome = await notifier.client.post(
        url, params={"dealer_id": DEALER}, json={"outcome": "angry"}
    )
    assert bad_outcome.status_code == 422

    other_dealer = await notifier.client.post(
        url, params={"dealer_id": "D999"}, json={"outcome": "reached"}
    )
    assert other_dealer.status_code == 404
    unknown = await notifier.client.post(
        f"/v1/tasks/{uuid.uuid4()}/complete",
        params={"dealer_id": DEALER},
        json={"outcome": "reached"},
    )
    assert unknown.status_code == 404
    assert unknown.json()["type"].endswith("/not-found")

    notifier.clock.advance(timedelta(days=3, hours=1))
    done = await notifier.client.post(
        url,
        params={"dealer_id": DEALER},
        json={"outcome": "dissatisfied", "note": "brakes still squeal", "completed_by": "sa-wang"},
        headers={"Idempotency-Key": "complete-1"},
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "done"
    assert body["outcome"] == "dissatisfied"
    assert body["completed_by"] == "sa-wang"

    again = await notifier.client.post(
        url,
        params={"dealer_id": DEALER},
        json={"outcome": "satisfied"},
    )
    assert again.status_code == 409
    assert again.json()["type"].endswith("/task-not-open")
    retried = await notifier.client.post(
        url,
        params={"dealer_id": DEALER},
        json={"outcome": "dissatisfied", "note": "brakes still squeal"},
        headers={"Idempotency-Key": "complete-1"},
    )
    assert retried.status_code == 200
    assert retried.json()["completed_at"] == body["completed_at"]

    [completed] = await notifier.published("TaskCompleted")
    event = completed["event"]
    assert event.task_id == task["id"]
    assert event.outcome.value == "dissatisfied"
    assert event.note == "brakes still squeal"
    assert event.kind.value == "service_callback"
    assert event.assignee_id == "sa-wang"
    assert event.dealer_id == DEALER
    assert str(event.customer_id) == task["customer_id"]
    assert event.related is not None
    assert (event.related.kind.value, event.related.id) == ("repair_order", "RO-1")
    assert completed["meta"].dealer_id == DEALER

    fetched = await notifier.client.get(f"/v1/tasks/{task['id']}", params={"dealer_id": DEALER})
    assert fetched.json()["status"] == "done"
    hidden = await notifier.client.get(f"/v1/tasks/{task['id']}", params={"dealer_id": "D002"})
    assert hidden.status_code == 404


async def test_unreachable_service_callback_is_retried_next_business_day(notifier) -> None:
    await notifier.produce(handed_over("RO-2"))
    task = await _callback_task(notifier, "RO-2")
    notifier.clock.set(START + timedelta(days=3))
    response = await notifier.client.post(
        f"/v1/tasks/{task['id']}/complete",
        params={"dealer_id": DEALER},
        json={"outcome": "unreachable"},
    )
    assert response.status_code == 200
    retries = [t for t in await notifier.tasks() if t["business_key"].endswith(":attempt-2")]
    assert [(t["status"], t["kind"], t["assignee"]) for t in retries] == [
        ("scheduled", "service_callback", task["assignee"])
    ]
    assert datetime.fromisoformat(retries[0]["due_at"]) == START + timedelta(days=4)


async def test_malformed_record_is_dead_lettered_and_the_next_event_processed(notifier) -> None:
    sales = notifier.topics.name("sales")
    good = example_for(VehicleDelivered).model_copy(
        update={"dealer_id": DEALER, "delivery_id": "DLV-AFTER-POISON", "occurred_at": START}
    )
    record = encode_binary(good, source="/outside/dms")
    # same key (same partition) as the good event that follows it
    poison_headers = [(k, v) for k, v in record.headers if k != "content-type"]
    await notifier.producer.send_and_wait(
        sales, b"{not json", key=record.key, headers=poison_headers
    )
    await notifier.send_record(sales, record)

    async def delivered_task() -> list[dict[str, Any]]:
        return [t for t in await notifier.tasks() if t["related"]["id"] == "DLV-AFTER-POISON"]

    await notifier.eventually(delivered_task, "the event after the poison record")

    async def dead() -> list[Any]:
        return await read_dead_letters(
            notifier.bootstrap, TopicRegistry(notifier.topics.prefix).dlq(sales)
        )

    [letter] = await notifier.eventually(dead, "the dead letter")
    assert letter.value == b"{not json"
    assert letter.original_topic == sales
    assert letter.original_offset is not None
    assert letter.error is not None
    assert "EventDecodeError" in letter.error
    assert letter.consumer == "notifier.reactions"


async def test_probes(notifier) -> None:
    assert (await notifier.client.get("/healthz")).json()["service"] == "notifier"

    async def ready() -> bool:
        response = await notifier.client.get("/readyz")
        return response.status_code == 200

    await notifier.eventually(ready, "readiness")
    checks = (await notifier.client.get("/readyz")).json()["checks"]
    assert checks == {"postgres": "ok", "kafka": "ok", "outbox-relay": "ok", "timer-poller": "ok"}
    assert (await notifier.client.get("/metrics")).status_code == 200
