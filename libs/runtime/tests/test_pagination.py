"""Keyset pagination: opaque cursors, the limit/cursor parameters, pages of limit+1 rows."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from fastapi import FastAPI

from dealerflow.runtime.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Cursor,
    InvalidCursor,
    Limit,
    Page,
    decode_cursor,
    encode_cursor,
    invalid_cursor,
    page_of,
    parse_cursor,
)
from dealerflow.runtime.problems import Problem

AT = datetime(2025, 3, 3, 2, 0, 0, 123456, tzinfo=UTC)
ID = uuid.UUID("5f0c7a0e-8a1b-4c2d-9e3f-0a1b2c3d4e5f")


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def test_a_cursor_round_trips_its_sort_key() -> None:
    cursor = encode_cursor(AT, ID)
    assert parse_cursor(cursor, datetime, uuid.UUID) == (AT, ID)
    assert parse_cursor(encode_cursor(3, AT, ID), int, datetime, uuid.UUID) == (3, AT, ID)
    assert parse_cursor(encode_cursor("b", 7), str, int) == ("b", 7)
    # the offset survives: an instant, not a wall-clock reading
    shanghai = AT.astimezone(timezone(timedelta(hours=8)))
    assert parse_cursor(encode_cursor(shanghai, ID), datetime, uuid.UUID)[0] == AT


def test_a_cursor_is_url_safe_base64_of_a_json_array_without_padding() -> None:
    cursor = encode_cursor(AT, ID)
    assert "=" not in cursor
    assert cursor == _b64(f'["{AT.isoformat()}", "{ID}"]')
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "garbage!",
        "nonsense",
        "W10",  # []
        "e30",  # {}
        encode_cursor(AT, ID)[:-3],  # truncated
        encode_cursor(AT),  # too short for the list
        encode_cursor(AT, ID, 1),  # too long
        encode_cursor(ID, AT),  # kinds swapped
        _b64(f'["{AT.replace(tzinfo=None).isoformat()}", "{ID}"]'),  # naive time
        _b64(f'{{"o": "{AT.isoformat()}", "i": "{ID}"}}'),  # an object, not an array
        _b64(f'["{AT.isoformat()}", "not-a-uuid"]'),
    ],
)
def test_anything_else_is_an_invalid_cursor(cursor: str) -> None:
    with pytest.raises(InvalidCursor, match="invalid cursor"):
        parse_cursor(cursor, datetime, uuid.UUID)


def test_integers_must_be_integers() -> None:
    for raw in ('[true, "x"]', '["1", "x"]', '[1.5, "x"]'):
        with pytest.raises(InvalidCursor):
            parse_cursor(_b64(raw), int, str)
    assert parse_cursor(_b64('[1, "x"]'), int, str) == (1, "x")


def test_decode_cursor_answers_with_an_invalid_cursor_problem() -> None:
    assert decode_cursor(None, datetime, uuid.UUID) is None
    assert decode_cursor("", datetime, uuid.UUID) is None
    assert decode_cursor(encode_cursor(AT, ID), datetime, uuid.UUID) == (AT, ID)
    with pytest.raises(Problem) as caught:
        decode_cursor("garbage!", datetime, uuid.UUID)
    assert caught.value.status == 422
    assert caught.value.type.endswith("/invalid-cursor")
    assert isinstance(caught.value.__cause__, InvalidCursor)
    assert invalid_cursor().to_body()["title"] == "Invalid cursor"


def test_page_of_cuts_the_extra_row_and_points_after_the_last_one() -> None:
    rows = [(AT - timedelta(minutes=i), uuid.uuid4()) for i in range(5)]

    def key(row: tuple[datetime, uuid.UUID]) -> tuple[datetime, uuid.UUID]:
        return row

    page, next_cursor = page_of(rows, 4, key)  # 4 + 1 fetched: there is more
    assert page == rows[:4]
    assert next_cursor is not None
    assert parse_cursor(next_cursor, datetime, uuid.UUID) == rows[3]
    assert page_of(rows[:4], 4, key) == (rows[:4], None)  # exactly full: the last page
    assert page_of(rows[:2], 4, key) == (rows[:2], None)
    assert page_of([], 4, key) == ([], None)


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/things", response_model=Page[int])
    async def things(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[int]:
        start = int(cursor or 0)
        items = list(range(start, start + limit))
        return Page[int](items=items, next_cursor=str(start + limit))

    return app


async def test_limit_and_cursor_parameters_and_the_page_body() -> None:
    app = _app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        first = await c.get("/things")
        assert first.status_code == 200
        assert len(first.json()["items"]) == DEFAULT_LIMIT == 50
        assert first.json()["next_cursor"] == "50"
        assert (await c.get("/things", params={"limit": MAX_LIMIT})).status_code == 200
        assert (await c.get("/things", params={"limit": MAX_LIMIT + 1})).status_code == 422
        assert (await c.get("/things", params={"limit": 0})).status_code == 422
        second = await c.get("/things", params={"limit": 2, "cursor": "50"})
        assert second.json() == {"items": [50, 51], "next_cursor": "52"}
    params = {p["name"]: p for p in app.openapi()["paths"]["/things"]["get"]["parameters"]}
    assert params["limit"]["schema"] == {
        "type": "integer",
        "maximum": 200,
        "minimum": 1,
        "default": 50,
        "title": "Limit",
        "description": "Page size (default 50, max 200).",
    }
    assert params["cursor"]["required"] is False
    page = app.openapi()["components"]["schemas"]["Page_int_"]
    assert page["required"] == ["items", "next_cursor"]
