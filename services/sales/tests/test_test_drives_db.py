"""The database itself refuses a double booking (migration 0004's exclusion constraint),
whatever a writer checked before."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from dealerflow.contracts.contact import ContactSnapshot

pytestmark = pytest.mark.integration

T0 = datetime(2025, 3, 4, 2, 0, tzinfo=UTC)
CONTACT = ContactSnapshot.model_validate(
    {
        "name": "王芳",
        "phone": "+8613800138000",
        "preferred_channel": "sms",
        "consent": {"service": True, "marketing": False},
    }
).model_dump_json()


async def _insert(
    pool: asyncpg.Pool,
    vehicle_id: str,
    start: datetime,
    end: datetime,
    *,
    blocked_until: datetime | None = None,
    dealer_id: str = "D001",
    cancelled: bool = False,
) -> None:
    await pool.execute(
        """
        INSERT INTO test_drives (dealer_id, id, customer_id, vehicle_id, model, consultant_id,
            starts_at, ends_at, licence_number, licence_expires, contact, created_at,
            cancelled, blocked_until)
        VALUES ($1, $2, $3, $4, 'Aurora X5', 'c-li', $5, $6, '****1234', '2030-01-01',
            $9::jsonb, $5, $7, $8)
        """,
        dealer_id,
        uuid.uuid4(),
        uuid.uuid4(),
        vehicle_id,
        start,
        end,
        cancelled,
        blocked_until or end,
        CONTACT,
    )


async def test_the_exclusion_constraint_refuses_overlapping_live_bookings(
    api: httpx.AsyncClient, pg_pool: asyncpg.Pool
) -> None:
    hour = timedelta(hours=1)
    await _insert(pg_pool, "TD-01", T0, T0 + hour)
    with pytest.raises(asyncpg.ExclusionViolationError):
        await _insert(pg_pool, "TD-01", T0 + hour / 2, T0 + 2 * hour)
    # half-open: back to back is fine; another car, another dealer, a cancelled one too
    await _insert(pg_pool, "TD-01", T0 + hour, T0 + 2 * hour)
    await _insert(pg_pool, "TD-02", T0, T0 + hour)
    await _insert(pg_pool, "TD-01", T0, T0 + hour, dealer_id="D002")
    await _insert(pg_pool, "TD-01", T0, T0 + hour, cancelled=True)
    # the turnaround kept after a drive is part of the blocked range
    await _insert(pg_pool, "TD-03", T0, T0 + hour, blocked_until=T0 + 90 * timedelta(minutes=1))
    with pytest.raises(asyncpg.ExclusionViolationError):
        await _insert(pg_pool, "TD-03", T0 + 80 * timedelta(minutes=1), T0 + 2 * hour)


async def test_cancelling_frees_the_slot_in_the_database(
    api: httpx.AsyncClient, pg_pool: asyncpg.Pool
) -> None:
    hour = timedelta(hours=1)
    await _insert(pg_pool, "TD-09", T0, T0 + hour)
    await pg_pool.execute("UPDATE test_drives SET cancelled = true WHERE vehicle_id = 'TD-09'")
    await _insert(pg_pool, "TD-09", T0, T0 + hour)
    rows: Any = await pg_pool.fetchval(
        "SELECT count(*) FROM test_drives WHERE vehicle_id = 'TD-09'"
    )
    assert rows == 2


async def test_a_booking_the_database_refuses_is_a_409_double_booking(
    api: httpx.AsyncClient, pg_pool: asyncpg.Pool, customer_body: Any
) -> None:
    """A booking kept free longer than today's turnaround (the dealer shortened it since)
    passes the service's own check; the constraint still refuses the overlap."""
    hour = timedelta(hours=1)
    await _insert(pg_pool, "TD-05", T0, T0 + hour, blocked_until=T0 + 2 * hour)
    person = {
        k: v for k, v in customer_body().items() if k not in ("address", "id_document_verified")
    }
    body = {
        "dealer_id": "D001",
        "customer": person,
        "vehicle_id": "TD-05",
        "model": "Aurora X5",
        "consultant_id": "consultant-li",
        "starts_at": (T0 + 90 * timedelta(minutes=1)).isoformat(),
        "ends_at": (T0 + 150 * timedelta(minutes=1)).isoformat(),
        "licence": {"number": "310101199001011234", "expires_on": "2030-01-01"},
    }
    refused = await api.post("/v1/test-drives", json=body)
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("test-drive-double-booking")
    assert refused.json()["conflicting_test_drive_ids"] == []
    body["starts_at"] = (T0 + 2 * hour).isoformat()
    body["ends_at"] = (T0 + 3 * hour).isoformat()
    assert (await api.post("/v1/test-drives", json=body)).status_code == 201
