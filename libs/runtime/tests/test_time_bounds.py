"""The one rule for client-supplied times (dealerflow.runtime.time_bounds) and the shared
request types (HappenedAt, PlannedAt, AmountIn, MoneyIn): pure checks, then through an
HTTP app (no database: the checks run while FastAPI validates the body)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from pydantic import ValidationError

from dealerflow.contracts.types import Money
from dealerflow.devinfra.tokens import auth_header, tokens_auth_settings
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.consumer import time_out_of_bounds as consumer_rule
from dealerflow.runtime.http import create_http_app
from dealerflow.runtime.request_models import (
    MAX_AMOUNT,
    AmountIn,
    HappenedAt,
    MoneyIn,
    PlannedAt,
    RequestBody,
)
from dealerflow.runtime.settings import ServiceSettings
from dealerflow.runtime.time_bounds import (
    EVENT_TIME,
    PAST_TIME,
    check_request_time,
    time_out_of_bounds,
)

NOW = datetime(2025, 3, 5, 2, 0, tzinfo=UTC)
SETTINGS = ServiceSettings(service_name="boundstest", **tokens_auth_settings())


def test_event_times_may_lie_five_years_ahead_and_not_before_2000() -> None:
    lead = timedelta(seconds=SETTINGS.consumer_max_event_lead_s)
    assert EVENT_TIME.refusal(NOW + lead, NOW, SETTINGS) is None
    assert EVENT_TIME.refusal(datetime(2000, 1, 1, tzinfo=UTC), NOW, SETTINGS) is None
    ahead = EVENT_TIME.refusal(NOW + lead + timedelta(seconds=1), NOW, SETTINGS)
    assert ahead is not None
    assert "consumer_max_event_lead_s" in ahead
    before = EVENT_TIME.refusal(datetime(1999, 12, 31, 23, 59, tzinfo=UTC), NOW, SETTINGS)
    assert before is not None
    assert "consumer_min_event_time" in before


def test_past_times_may_lie_ahead_by_the_clock_skew_only() -> None:
    skew = timedelta(seconds=SETTINGS.request_max_clock_skew_s)
    assert skew == timedelta(minutes=5)
    assert PAST_TIME.refusal(NOW + skew, NOW, SETTINGS) is None
    ahead = PAST_TIME.refusal(NOW + skew + timedelta(seconds=1), NOW, SETTINGS)
    assert ahead is not None
    assert "request_max_clock_skew_s" in ahead
    assert PAST_TIME.refusal(datetime(1970, 1, 1, tzinfo=UTC), NOW, SETTINGS) is not None
    narrow = SETTINGS.model_copy(update={"request_max_clock_skew_s": 0.0})
    assert PAST_TIME.refusal(NOW + timedelta(seconds=1), NOW, narrow) is not None


def test_a_day_is_plausible_when_some_moment_of_it_is_in_some_time_zone() -> None:
    # the 6th of March begins first at UTC+14: at 10:00 UTC on the 5th
    assert PAST_TIME.refusal(date(2025, 3, 5), NOW, SETTINGS) is None
    assert PAST_TIME.refusal(date(2025, 3, 6), NOW, SETTINGS) is not None
    assert PAST_TIME.refusal(date(2025, 3, 6), NOW + timedelta(hours=8), SETTINGS) is None
    in_five_years = date(2030, 3, 4)
    assert EVENT_TIME.refusal(in_five_years, NOW, SETTINGS) is None
    assert EVENT_TIME.refusal(date(2031, 3, 5), NOW, SETTINGS) is not None
    assert EVENT_TIME.refusal(date(1999, 12, 31), NOW, SETTINGS) is None  # 2000 at UTC-12
    assert EVENT_TIME.refusal(date(1999, 12, 30), NOW, SETTINGS) is not None
    for extreme in (date.min, date.max):  # no overflow at the ends of the calendar
        assert EVENT_TIME.refusal(extreme, NOW, SETTINGS) is not None


def test_the_consumer_uses_the_same_rule_with_its_own_wording() -> None:
    assert consumer_rule is time_out_of_bounds
    far = datetime(2999, 1, 1, tzinfo=UTC)
    reason = time_out_of_bounds("occurred_at", far, NOW, SETTINGS)
    assert reason is not None
    assert reason.startswith("event occurred_at 2999-01-01T00:00:00+00:00 is more than")
    assert "ahead of the consumer's clock" in reason
    assert time_out_of_bounds("time", NOW, NOW, SETTINGS) is None


class Step(RequestBody):
    contacted_at: HappenedAt | None = None
    next_contact_at: PlannedAt | None = None
    price: MoneyIn | None = None
    discount: AmountIn | None = None


def test_outside_a_request_the_time_types_check_nothing() -> None:
    # a consumer or timer building the model: events are checked by the consumer
    step = Step(contacted_at="2999-01-01T08:00:00+08:00")
    assert step.contacted_at == datetime(2999, 1, 1, tzinfo=UTC)  # still normalised to UTC


def test_request_amounts_have_cents_a_ceiling_and_no_sign() -> None:
    assert MoneyIn(amount="999999999999.99", currency="CNY").amount == MAX_AMOUNT
    assert Step(discount="1500.5").discount == Decimal("1500.5")
    refused = {
        "1000000000000": "amount_too_large",
        "12.345": "amount_precision",
        "1.500": "amount_precision",  # three places written, even if the value has two
        "-1.00": "value_error",
        "1e3": "value_error",
    }
    for amount, kind in refused.items():
        with pytest.raises(ValidationError) as raised:
            MoneyIn(amount=amount, currency="CNY")
        assert [e["type"] for e in raised.value.errors()] == [kind], amount
    with pytest.raises(ValidationError):
        MoneyIn.model_validate({"amount": 12.5, "currency": "CNY"})  # a float
    with pytest.raises(ValidationError):
        MoneyIn.model_validate({"amount": "1", "currency": "CNY", "tax": "0"})  # unknown field


def test_request_money_is_the_contracts_money_on_the_wire() -> None:
    price = MoneyIn(amount="179800.00", currency="CNY")
    assert price.model_dump(mode="json") == {"amount": "179800.00", "currency": "CNY"}
    assert price.money() == Money(amount=Decimal("179800.00"), currency="CNY")
    assert type(price.money()) is Money


def _app(clock: ManualClock, seen: list[dict[str, Any]]) -> FastAPI:
    router = APIRouter(prefix="/v1")

    @router.post("/steps")
    async def step(body: Step) -> dict[str, str]:
        seen.append(body.model_dump(mode="json"))
        return {"status": "ok"}

    @router.post("/raw")
    async def raw(request: Request) -> dict[str, str]:  # parses its body by itself
        at = datetime.fromisoformat((await request.json())["requested_at"])
        check_request_time(("body", "requested_at"), at, EVENT_TIME)
        return {"status": "ok"}

    return create_http_app(
        title="bounds", version="1", settings=SETTINGS, routers=[router], clock=clock
    )


async def test_an_implausible_request_time_or_amount_is_422_with_the_field() -> None:
    clock = ManualClock(NOW)
    seen: list[dict[str, Any]] = []
    transport = httpx.ASGITransport(app=_app(clock, seen), raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers=auth_header()
    ) as client:
        future = await client.post("/v1/steps", json={"contacted_at": "2025-03-05T02:06:00Z"})
        ancient = await client.post("/v1/steps", json={"next_contact_at": "1970-01-01T00:00:00Z"})
        cents = await client.post(
            "/v1/steps", json={"price": {"amount": "1.001", "currency": "CNY"}}
        )
        raw = await client.post("/v1/raw", json={"requested_at": "2999-01-01T00:00:00+00:00"})
        clock.advance(timedelta(minutes=2))  # the service's clock, not the wall clock
        fine = await client.post(
            "/v1/steps",
            json={
                "contacted_at": "2025-03-05T02:06:00Z",
                "next_contact_at": "2029-03-05T02:00:00Z",
                "price": {"amount": "1.00", "currency": "CNY"},
            },
        )
        raw_fine = await client.post("/v1/raw", json={"requested_at": "2025-03-05T02:00:00+00:00"})
    for response, loc, kind in (
        (future, ["body", "contacted_at"], "implausible_time"),
        (ancient, ["body", "next_contact_at"], "implausible_time"),
        (cents, ["body", "price", "amount"], "amount_precision"),
        (raw, ["body", "requested_at"], "implausible_time"),
    ):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        [error] = response.json()["errors"]
        assert (error["loc"], error["type"]) == (loc, kind)
    assert "request_max_clock_skew_s" in future.json()["errors"][0]["msg"]
    assert "consumer_min_event_time" in ancient.json()["errors"][0]["msg"]
    assert "consumer_max_event_lead_s" in raw.json()["errors"][0]["msg"]
    assert fine.status_code == 200, fine.text
    assert raw_fine.status_code == 200, raw_fine.text
    assert seen == [
        {
            "contacted_at": "2025-03-05T02:06:00Z",
            "next_contact_at": "2029-03-05T02:00:00Z",
            "price": {"amount": "1.00", "currency": "CNY"},
            "discount": None,
        }
    ]
