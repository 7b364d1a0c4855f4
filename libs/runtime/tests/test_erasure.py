"""The runtime's part of customer erasure: the subscription of a service with an eraser,
and the stored idempotent responses that name the customer (real PostgreSQL)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import pytest

from dealerflow.contracts.events.leads import CustomerErasureRequested
from dealerflow.runtime.erasure import Erasure, erase_idempotent_responses
from dealerflow.runtime.service import DEALERS_SUBSCRIPTION, ServiceDefinition
from dealerflow.runtime.settings import ServiceSettings

CUSTOMER = uuid.UUID("0b5f6f7e-3c1d-5d8e-9b2a-1c2d3e4f5a6b")


async def _erase(uc: Any, erasure: Erasure) -> dict[str, int]:
    return {}


def _definition(**kwargs: Any) -> ServiceDefinition[ServiceSettings]:
    return ServiceDefinition(
        name="erasuretest",
        title="t",
        settings_factory=ServiceSettings,
        migrations_package="dealerflow.runtime.sql",
        **kwargs,
    )


def test_only_a_service_with_an_eraser_consumes_erasure_requests() -> None:
    ctx: Any = None  # no service subscriptions: the context is not used
    assert _definition().all_subscriptions(ctx) == [DEALERS_SUBSCRIPTION]
    definition = _definition(eraser=_erase)
    subscriptions = definition.all_subscriptions(ctx)
    assert subscriptions[0] == DEALERS_SUBSCRIPTION
    erasure = subscriptions[1]
    assert (erasure.name, erasure.contexts) == ("erasure", ("leads",))
    assert erasure.router is not None
    assert list(erasure.router.handlers_for(CustomerErasureRequested))
    # built once: the running service and the catalogue checks see the same subscription
    assert definition.all_subscriptions(ctx)[1] is erasure


@pytest.mark.integration
async def test_stored_responses_naming_the_customer_go_at_that_dealer_only(
    pg_pool: asyncpg.Pool,
) -> None:
    async with pg_pool.acquire() as conn:
        assert await erase_idempotent_responses(conn, "D1", CUSTOMER) == 0  # no table
        await conn.execute(
            "CREATE TABLE idempotency_keys (dealer_id text, scope text, key text, response jsonb)"
        )
        rows = [
            ("D1", "a", {"customer_id": str(CUSTOMER), "phone": "+8613812345678"}),
            ("D1", "b", {"customer_id": str(uuid.uuid4())}),
            ("D1", "c", None),
            ("D2", "a", {"customer_id": str(CUSTOMER)}),
        ]
        for dealer, key, response in rows:
            await conn.execute(
                "INSERT INTO idempotency_keys VALUES ($1, 's', $2, $3::jsonb)",
                dealer,
                key,
                None if response is None else json.dumps(response),
            )
        assert await erase_idempotent_responses(conn, "D1", CUSTOMER) == 1
        assert await erase_idempotent_responses(conn, "D1", CUSTOMER) == 0
        left = await conn.fetch("SELECT dealer_id, key FROM idempotency_keys ORDER BY 1, 2")
    assert [(r["dealer_id"], r["key"]) for r in left] == [("D1", "b"), ("D1", "c"), ("D2", "a")]
