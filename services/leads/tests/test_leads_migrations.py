"""Migration 0002 moves Idempotency-Key responses into the shared idempotency table; 0003
retires the consultant roster (now the dealer's people) and keeps the round-robin state."""

from __future__ import annotations

import asyncpg
import pytest

from dealerflow.devinfra.service_testing import migrate_before
from dealerflow.leads.app import DEFINITION
from dealerflow.runtime import idempotency
from dealerflow.runtime.db import transaction
from dealerflow.runtime.migrations import migrate

pytestmark = pytest.mark.integration


async def test_responses_stored_before_0002_are_still_replayed(
    pg_dsn: str, pg_schema: str, pg_pool: asyncpg.Pool
) -> None:
    await migrate_before(DEFINITION, pg_dsn, pg_schema, 2)
    await pg_pool.execute(
        "INSERT INTO idempotent_requests (dealer_id, idempotency_key, operation, status_code,"
        " response, created_at) VALUES ('D001', 'form-42', 'submit', 201,"
        ' \'{"lead_id": "L-1", "created": true}\', now())'
    )

    up_to_0002 = [m for m in DEFINITION.migrations() if m.component != "leads" or m.version <= 2]
    applied = await migrate(pg_dsn, pg_schema, up_to_0002)

    assert [m.label for m in applied] == ["leads:0002_idempotency_keys"]
    async with transaction(pg_pool) as conn:
        earlier = await idempotency.claim(
            conn, dealer_id="D001", scope="submit", key="form-42", fingerprint="any"
        )
        fresh = await idempotency.claim(
            conn, dealer_id="D001", scope="submit", key="form-43", fingerprint=None
        )
    assert earlier == idempotency.EarlierRequest(
        resource_id=None, status_code=201, response={"lead_id": "L-1", "created": True}
    )
    assert fresh is None
    assert await pg_pool.fetchval("SELECT to_regclass('idempotent_requests')") is None


async def test_0003_keeps_the_rotation_and_the_old_roster_rows_readable(
    pg_dsn: str, pg_schema: str, pg_pool: asyncpg.Pool
) -> None:
    await migrate_before(DEFINITION, pg_dsn, pg_schema, 3)
    await pg_pool.execute(
        "INSERT INTO consultants (dealer_id, consultant_id, name, on_duty, updated_at)"
        " VALUES ('D001', 'c-li', '李娜', true, now()), ('D001', 'c-zhao', NULL, false, now())"
    )
    await pg_pool.execute(
        "INSERT INTO assignment_rotation (dealer_id, last_assigned_id, updated_at)"
        " VALUES ('D001', 'c-li', now())"
    )

    applied = await migrate(pg_dsn, pg_schema, DEFINITION.migrations())

    assert next(m.label for m in applied) == "leads:0003_roster_from_dealer_people"
    assert await pg_pool.fetchval("SELECT to_regclass('consultants')") is None
    retired = await pg_pool.fetch(
        "SELECT consultant_id, on_duty FROM consultants_retired ORDER BY consultant_id"
    )
    assert [tuple(r) for r in retired] == [("c-li", True), ("c-zhao", False)]
    last = await pg_pool.fetchval(
        "SELECT last_assigned_id FROM assignment_rotation WHERE dealer_id = 'D001'"
    )
    assert last == "c-li"
