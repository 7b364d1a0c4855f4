"""Migration 0006 on rows written before it: a complaint paused at the time gets its open
pause (who from its history, why, which clocks), and its clocks keep loading."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from dealerflow.complaints.app import DEFINITION
from dealerflow.devinfra.service_testing import migrate_before
from dealerflow.runtime.migrations import migrate

pytestmark = pytest.mark.integration

DEALER = "sh-pudong-01"
OPENED = datetime(2025, 3, 5, 2, 0, tzinfo=UTC)
PAUSED = datetime(2025, 3, 5, 3, 0, tzinfo=UTC)


async def test_a_complaint_paused_before_0006_gets_its_open_pause(
    pg_dsn: str, pg_schema: str, pg_pool: asyncpg.Pool
) -> None:
    await migrate_before(DEFINITION, pg_dsn, pg_schema, 6)
    cid = uuid.uuid4()
    contact = {"name": "张伟", "phone": "+8613800138000"}
    await pg_pool.execute(
        """
        INSERT INTO complaints (id, dealer_id, customer_id, status, channel, category,
            severity, summary, handler_id, origin_kind, origin, contact, opened_at, paused_at,
            pause_reason)
        VALUES ($1, $2, $3, 'opened', 'hotline', 'other', 'normal', 'Old one', 'h-1',
            'manual', '{"kind": "manual"}', $4::jsonb, $5, $6, 'Waiting for photos')
        """,
        cid,
        DEALER,
        uuid.uuid4(),
        json.dumps(contact),
        OPENED,
        PAUSED,
    )
    for kind, status in (("acknowledge", "paused"), ("resolve", "paused"), ("inform", "running")):
        await pg_pool.execute(
            """
            INSERT INTO complaint_clocks (complaint_id, dealer_id, kind, status, sla, pausable,
                started_at, first_due_at)
            VALUES ($1, $2, $3, $4, '{"duration": "P1D", "mode": "business_days"}', true, $5, $5)
            """,
            cid,
            DEALER,
            kind,
            status,
            OPENED,
        )
    for action, actor in (("paused", "cr-early"), ("resumed", "cr-early"), ("paused", "cr-wang")):
        await pg_pool.execute(
            "INSERT INTO complaint_history (complaint_id, dealer_id, action, actor, at) "
            "VALUES ($1, $2, $3, $4, $5)",
            cid,
            DEALER,
            action,
            actor,
            PAUSED,
        )

    applied = await migrate(pg_dsn, pg_schema, DEFINITION.migrations())
    assert applied[0].label == "complaints:0006_clocks_tiers"
    rows = await pg_pool.fetch(
        "SELECT complaint_id, paused_at, paused_by, reason, clocks, resumed_at "
        "FROM complaint_pauses WHERE dealer_id = $1",
        DEALER,
    )
    assert [dict(r) for r in rows] == [
        {
            "complaint_id": cid,
            "paused_at": PAUSED,
            "paused_by": "cr-wang",
            "reason": "Waiting for photos",
            "clocks": ["acknowledge:0", "resolve:0"],
            "resumed_at": None,
        }
    ]
