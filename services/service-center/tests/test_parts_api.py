"""The parts catalogue through the HTTP API on real PostgreSQL: create and replace an
entry (stock kept), the list with on hand / reserved / available / low / over-stocked,
paginated; contradicting limits refused; the stock CHECK refuses negative stock."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from dealerflow.devinfra.tokens import auth_header

pytestmark = pytest.mark.integration

OIL_FILTER = {
    "dealer_id": "D001",
    "description": "机油滤清器 Oil filter",
    "category": "common",
    "unit_price": {"amount": "68.00", "currency": "CNY"},
    "reorder_point": 5,
    "over_stock_limit": 40,
}


async def test_catalogue_entry_created_then_replaced(api: httpx.AsyncClient) -> None:
    created = await api.put("/v1/parts/OF-1001", json=OIL_FILTER)
    assert created.status_code == 201, created.text
    part = created.json()
    assert part["part_number"] == "OF-1001"
    assert part["unit_price"] == {"amount": "68.00", "currency": "CNY"}
    assert (part["on_hand"], part["reserved"], part["available"]) == (0, 0, 0)
    assert part["low"] is True
    assert part["over_stocked"] is False

    replaced = await api.put("/v1/parts/OF-1001", json={**OIL_FILTER, "reorder_point": 8})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["reorder_point"] == 8

    one = await api.get("/v1/parts/OF-1001", params={"dealer_id": "D001"})
    assert one.status_code == 200
    assert one.json()["reorder_point"] == 8
    missing = await api.get("/v1/parts/NOPE", params={"dealer_id": "D001"})
    assert missing.status_code == 404, missing.text


async def test_list_is_paginated_by_part_number(api: httpx.AsyncClient) -> None:
    for number in ("C-3", "A-1", "B-2"):
        assert (await api.put(f"/v1/parts/{number}", json=OIL_FILTER)).status_code == 201
    await api.put("/v1/parts/S-9", json={**OIL_FILTER, "category": "seasonal"})

    first = (await api.get("/v1/parts", params={"dealer_id": "D001", "limit": 2})).json()
    assert [p["part_number"] for p in first["items"]] == ["A-1", "B-2"]
    rest = await api.get(
        "/v1/parts", params={"dealer_id": "D001", "limit": 2, "cursor": first["next_cursor"]}
    )
    assert [p["part_number"] for p in rest.json()["items"]] == ["C-3", "S-9"]
    seasonal = await api.get("/v1/parts", params={"dealer_id": "D001", "category": "seasonal"})
    assert [p["part_number"] for p in seasonal.json()["items"]] == ["S-9"]


async def test_contradicting_limits_are_refused(api: httpx.AsyncClient) -> None:
    refused = await api.put(
        "/v1/parts/OF-1001", json={**OIL_FILTER, "reorder_point": 10, "over_stock_limit": 10}
    )
    assert refused.status_code == 422, refused.text


async def test_a_consultant_may_read_but_not_edit(api: httpx.AsyncClient) -> None:
    reader = auth_header(roles=["consultant"], dealers=["D001"], sub="consultant-1")
    edit = await api.put("/v1/parts/OF-1001", json=OIL_FILTER, headers=reader)
    assert edit.status_code == 403, edit.text
    listed = await api.get("/v1/parts", params={"dealer_id": "D001"}, headers=reader)
    assert listed.status_code == 200, listed.text


async def test_stock_never_goes_negative_in_sql(
    api: httpx.AsyncClient, pg_pool: asyncpg.Pool, pg_schema: str
) -> None:
    assert (await api.put("/v1/parts/OF-1001", json=OIL_FILTER)).status_code == 201
    async with pg_pool.acquire() as conn:
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                f"UPDATE {pg_schema}.parts SET reserved = 1 WHERE part_number = 'OF-1001'"
            )
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                f"UPDATE {pg_schema}.parts SET on_hand = -1 WHERE part_number = 'OF-1001'"
            )


async def test_a_quantity_beyond_the_columns_is_refused(api: httpx.AsyncClient) -> None:
    # schemathesis (tests/api) found a reorder point above 2**31 answered 500
    refused = await api.put("/v1/parts/OF-1001", json={**OIL_FILTER, "reorder_point": 2**33})
    assert refused.status_code == 422, refused.text


async def test_a_price_beyond_the_columns_is_refused(api: httpx.AsyncClient) -> None:
    # schemathesis (tests/api) found a unit price of 14 digits answered 500
    price = {"amount": "62180929100255", "currency": "CNY"}
    refused = await api.put("/v1/parts/OF-1001", json={**OIL_FILTER, "unit_price": price})
    assert refused.status_code == 422, refused.text
