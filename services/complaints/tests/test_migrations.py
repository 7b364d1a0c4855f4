"""Migrations 0004/0005 on rows written before them: complaints opened with an
Idempotency-Key or a client-chosen id still answer their retries with the first
complaint (now through runtime.idempotency), and parked triggers still load."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from dealerflow.complaints import repository_contacts
from dealerflow.complaints.app import DEFINITION
from dealerflow.complaints.settings import ComplaintsSettings
from dealerflow.devinfra.service_testing import migrate_before, running_service, service_settings
from dealerflow.runtime.migrations import migrate

pytestmark = pytest.mark.integration

DEALER = "sh-pudong-01"
OPENED = datetime(2025, 3, 5, 2, 0, tzinfo=UTC)


async def _old_complaint(pool: asyncpg.Pool, idempotency_key: str | None) -> uuid.UUID:
    complaint_id = uuid.uuid4()
    await pool.execute(
        """
        INSERT INTO complaints (id, dealer_id, customer_id, status, channel, category,
            severity, summary, handler_id, origin_kind, origin, contact, opened_at,
            idempotency_key, request_hash)
        VALUES ($1, $2, $3, 'opened', 'hotline', 'other', 'normal', 'Old one', 'h-1',
            'manual', '{"kind": "manual"}', $4::jsonb, $5, $6, 'an-old-style-hash')
        """,
        complaint_id,
        DEALER,
        uuid.uuid4(),
        json.dumps(
            {
                "name": "张伟",
                "phone": "+8613800138000",
                "consent": {"service": True, "marketing": False},
            }
        ),
        OPENED,
        idempotency_key,
    )
    return complaint_id


async def test_keys_and_parked_triggers_from_before_0004_keep_working(
    pg_dsn: str, pg_schema: str, pg_pool: asyncpg.Pool, kafka_bootstrap: str, topic_prefix: str
) -> None:
    await migrate_before(DEFINITION, pg_dsn, pg_schema, 4)
    keyed = await _old_complaint(pg_pool, "call-centre-1")
    client_chosen = await _old_complaint(pg_pool, None)
    await pg_pool.execute(
        """
        INSERT INTO awaiting_contact (dealer_id, trigger_ref, customer_id, event_type, event,
            event_id, source, correlation_id, causation_id, event_time, topic,
            kafka_partition, kafka_offset, consumer, received_at)
        VALUES ($1, 'task:t-1', $2, 'dealerflow.notifier.TaskCompleted.v1', '{}', 'e-1',
            '/x', NULL, NULL, $3, 'dealerflow.notifier', 0, 7, 'complaints.reactions', $3)
        """,
        DEALER,
        uuid.uuid4(),
        OPENED,
    )

    applied = await migrate(pg_dsn, pg_schema, DEFINITION.migrations())
    # 0004 and 0005 first (later migrations follow them)
    assert [m.label for m in applied][:2] == [
        "complaints:0004_idempotency_keys",
        "complaints:0005_awaiting_contact_trace",
    ]
    async with pg_pool.acquire() as conn:
        parked = await repository_contacts.take_waiting(conn, DEALER, "task:t-1")
    assert parked is not None
    assert (parked.kafka_offset, parked.traceparent) == (7, None)

    settings = service_settings(
        ComplaintsSettings,
        pg_dsn=pg_dsn,
        pg_schema=pg_schema,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
    )
    body = {
        "dealer_id": DEALER,
        "contact": {"name": "张伟", "phone": "13800138000"},
        "channel": "hotline",
        "category": "other",
        "summary": "Old one",
    }
    async with running_service(DEFINITION, settings, run_background=False) as service:
        retry = await service.client.post(
            "/v1/complaints", json=body, headers={"Idempotency-Key": "call-centre-1"}
        )
        assert retry.status_code == 200, retry.text
        assert retry.headers["Idempotent-Replayed"] == "true"
        assert retry.json()["id"] == str(keyed)

        again = await service.client.post(
            "/v1/complaints", json={**body, "complaint_id": str(client_chosen)}
        )
        assert again.status_code == 200, again.text
        assert again.json()["id"] == str(client_chosen)
    assert (await pg_pool.fetchval("SELECT count(*) FROM complaints")) == 2


async def test_repair_orders_kept_before_0007_show_in_an_investigation_by_vin(
    pg_dsn: str, pg_schema: str, pg_pool: asyncpg.Pool, kafka_bootstrap: str, topic_prefix: str
) -> None:
    await migrate_before(DEFINITION, pg_dsn, pg_schema, 7)
    vin = "LSVAU2180N2183294"
    await pg_pool.execute(
        "INSERT INTO repair_visits (dealer_id, repair_order_id, vin, concerns, opened_at) "
        "VALUES ($1, 'ro-old', $2, '{Brake noise}', $3)",
        DEALER,
        vin,
        OPENED,
    )
    complaint_id = await _old_complaint(pg_pool, None)
    await pg_pool.execute("UPDATE complaints SET vin = $1 WHERE id = $2", vin, complaint_id)
    await migrate(pg_dsn, pg_schema, DEFINITION.migrations())

    settings = service_settings(
        ComplaintsSettings,
        pg_dsn=pg_dsn,
        pg_schema=pg_schema,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
    )
    async with running_service(DEFINITION, settings, run_background=False) as service:
        response = await service.client.get(
            f"/v1/complaints/{complaint_id}/investigation", params={"dealer_id": DEALER}
        )
    assert response.status_code == 200, response.text
    [repair] = response.json()["repair_orders"]
    assert (repair["repair_order_id"], repair["concerns"]) == ("ro-old", ["Brake noise"])
    assert (repair["advisor_id"], repair["work_type"]) == (None, None)
    assert response.json()["sales"] == []
