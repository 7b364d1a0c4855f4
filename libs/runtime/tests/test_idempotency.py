"""Idempotency keys on real PostgreSQL: claims, fingerprints, stored responses, races."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import asyncpg
import pytest
from pydantic import BaseModel

from dealerflow.runtime.db import transaction
from dealerflow.runtime.idempotency import (
    KEY_REUSED_PROBLEM,
    EarlierRequest,
    IdempotencyKeyReused,
    claim,
    fingerprint_of,
    record_response,
    replayed_resource,
    request_fingerprint,
    request_key,
)

pytestmark = pytest.mark.integration

# The table as the module docstring documents it (services create it in their migrations).
TABLE = """
CREATE TABLE idempotency_keys (
    dealer_id    text        NOT NULL,
    scope        text        NOT NULL,
    key          text        NOT NULL,
    request_hash text,
    resource_id  text,
    status_code  integer,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dealer_id, scope, key)
)
"""


class Order(BaseModel):
    model: str
    price: int


@pytest.fixture
async def db(pg_pool: asyncpg.Pool) -> asyncpg.Pool:
    await pg_pool.execute(TABLE)
    return pg_pool


def test_keys_come_from_the_header_else_the_client_id() -> None:
    client_id = uuid.UUID("0b5b4d4e-5f3a-4e47-9a55-6d1f1c2b3a4d")
    assert request_key("abc", client_id) == "key:abc"
    assert request_key(None, client_id) == f"id:{client_id}"
    assert request_key("", client_id) == f"id:{client_id}"
    assert request_key(None, None) is None


def test_the_fingerprint_is_the_body_not_the_object() -> None:
    first = request_fingerprint(Order(model="X5", price=1))
    assert first == request_fingerprint(Order(model="X5", price=1))
    assert first != request_fingerprint(Order(model="X5", price=2))
    assert len(first) == 64


async def _create(
    db: asyncpg.Pool,
    body: BaseModel,
    *,
    key: str | None = "key:a",
    dealer_id: str = "D1",
    scope: str = "orders",
    resource_id: uuid.UUID | None = None,
) -> uuid.UUID | None:
    """One create request's idempotency step, in a transaction of its own."""
    async with transaction(db) as conn:
        return await replayed_resource(
            conn,
            dealer_id=dealer_id,
            scope=scope,
            key=key,
            body=body,
            resource_id=resource_id or uuid.uuid4(),
        )


async def test_the_first_claim_wins_and_a_retry_sees_its_resource(db: asyncpg.Pool) -> None:
    body, first_id = Order(model="X5", price=1), uuid.uuid4()
    assert await _create(db, body, resource_id=first_id) is None
    assert await _create(db, body) == first_id
    # other dealers and other scopes have keys of their own
    assert await _create(db, body, dealer_id="D2") is None
    assert await _create(db, body, scope="payments:1") is None
    # no key: nothing to deduplicate, nothing stored
    assert await _create(db, body, key=None, resource_id=first_id) is None
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys") == 3


async def test_the_same_key_with_another_body_is_a_422(db: asyncpg.Pool) -> None:
    await _create(db, Order(model="X5", price=1))
    with pytest.raises(IdempotencyKeyReused) as caught:
        await _create(db, Order(model="X5", price=2))
    assert str(caught.value) == "key 'key:a' was already used for a different orders request"
    problem = KEY_REUSED_PROBLEM.problem(caught.value)
    assert (problem.status, problem.type) == (
        422,
        "https://dealerflow.dev/problems/idempotency-key-reused",
    )
    assert problem.detail == "key 'key:a' was already used for a different orders request"


def test_commands_fingerprint_by_value() -> None:
    @dataclass(frozen=True)
    class RecordPayment:
        contract_id: uuid.UUID
        amount: str

    contract = uuid.UUID("0b5b4d4e-5f3a-4e47-9a55-6d1f1c2b3a4d")
    assert fingerprint_of(RecordPayment(contract, "10.00")) == fingerprint_of(
        {"amount": "10.00", "contract_id": str(contract)}
    )
    assert fingerprint_of(RecordPayment(contract, "10.00")) != fingerprint_of(
        RecordPayment(contract, "10.01")
    )


async def test_a_claim_rolls_back_with_the_work(db: asyncpg.Pool) -> None:
    async def claim_then_fail() -> None:
        async with transaction(db) as conn:
            await claim(conn, dealer_id="D1", scope="s", key="k", fingerprint="f1")
            raise RuntimeError("work failed")

    with pytest.raises(RuntimeError, match="work failed"):
        await claim_then_fail()
    async with transaction(db) as conn:  # the retry does the work after all
        assert await claim(conn, dealer_id="D1", scope="s", key="k", fingerprint="f1") is None


async def test_a_stored_response_is_replayed(db: asyncpg.Pool) -> None:
    body = {"lead_id": "L1", "created": True, "name": "王芳"}
    async with transaction(db) as conn:
        assert await claim(conn, dealer_id="D1", scope="submit", key="k", fingerprint=None) is None
        await record_response(
            conn, dealer_id="D1", scope="submit", key="k", status_code=201, response=body
        )
    async with transaction(db) as conn:
        earlier = await claim(conn, dealer_id="D1", scope="submit", key="k", fingerprint="other")
    assert earlier == EarlierRequest(resource_id=None, status_code=201, response=body)


async def test_concurrent_requests_with_one_key_do_the_work_once(db: asyncpg.Pool) -> None:
    first_in = asyncio.Event()
    release = asyncio.Event()
    done: list[str] = []

    async def request(name: str) -> EarlierRequest | None:
        async with transaction(db) as conn:
            earlier = await claim(conn, dealer_id="D1", scope="s", key="k", fingerprint="f")
            if earlier is None:
                first_in.set()
                await release.wait()  # the second request now waits on the row
                done.append(name)
                await record_response(
                    conn, dealer_id="D1", scope="s", key="k", status_code=201, response=name
                )
            return earlier

    first = asyncio.create_task(request("first"))
    await first_in.wait()
    second = asyncio.create_task(request("second"))
    await asyncio.sleep(0.2)
    assert not second.done()
    release.set()
    assert await first is None
    assert await second == EarlierRequest(resource_id=None, status_code=201, response="first")
    assert done == ["first"]


async def test_mixing_resources_and_responses_in_one_scope_is_a_bug(db: asyncpg.Pool) -> None:
    async with transaction(db) as conn:
        await claim(conn, dealer_id="D1", scope="orders", key="key:a", fingerprint=None)
    with pytest.raises(RuntimeError, match="mixes resources and responses"):
        await _create(db, Order(model="X5", price=1))
