"""Migration 0002 gives idempotency_keys the shared shape; keys claimed before still work."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from pydantic import BaseModel

from dealerflow.devinfra.service_testing import migrate_before
from dealerflow.runtime import idempotency
from dealerflow.runtime.db import transaction
from dealerflow.runtime.idempotency import IdempotencyKeyReused
from dealerflow.runtime.migrations import migrate
from dealerflow.sales.app import DEFINITION

pytestmark = pytest.mark.integration


class Body(BaseModel):
    vin: str


async def test_keys_claimed_before_0002_still_replay_and_still_compare(
    pg_dsn: str, pg_schema: str, pg_pool: asyncpg.Pool
) -> None:
    await migrate_before(DEFINITION, pg_dsn, pg_schema, 2)
    first_id = uuid.uuid4()
    await pg_pool.execute(
        "INSERT INTO idempotency_keys (dealer_id, scope, key, request_hash, resource_id)"
        " VALUES ('D001', 'contracts', 'key:k1', $1, $2)",
        idempotency.request_fingerprint(Body(vin="V1")),
        str(first_id),
    )

    applied = await migrate(pg_dsn, pg_schema, DEFINITION.migrations())

    assert applied[0].label == "sales:0002_idempotency_responses"

    async def retry(vin: str) -> uuid.UUID | None:
        async with transaction(pg_pool) as conn:
            return await idempotency.replayed_resource(
                conn,
                dealer_id="D001",
                scope="contracts",
                key="key:k1",
                body=Body(vin=vin),
                resource_id=uuid.uuid4(),
            )

    assert await retry("V1") == first_id
    with pytest.raises(
        IdempotencyKeyReused, match="already used for a different contracts request"
    ):
        await retry("V2")
