"""Every client-supplied time and amount in a request body of the six services uses the
shared request types (issue 15's leftovers), so a new field cannot skip the bounds:

- a datetime or a date is bounded by a :class:`~dealerflow.runtime.time_bounds.TimeBound`
  (``HappenedAt``, ``PlannedAt`` or ``PlannedOn`` of :mod:`dealerflow.runtime.request_models`)
  unless it is named below with the rule that bounds it instead;
- an amount is ``MoneyIn`` or ``AmountIn`` (never the contracts' ``Money``), and a bare
  decimal is an ``AmountIn`` unless it is named below as not money.

The apps are built without connecting (as ``dealerflow-<svc> openapi`` does) and their
body models walked through their annotations. Bodies an endpoint parses itself are not
FastAPI body models; they are listed with how they are bounded.
"""

from __future__ import annotations

import functools
import importlib
import types
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import AwareDatetime, BaseModel, NaiveDatetime, WithJsonSchema

from dealerflow.contracts.types import Money
from dealerflow.runtime.request_models import AMOUNT_PATTERN, MoneyIn
from dealerflow.runtime.service import ServiceDefinition, build_app
from dealerflow.runtime.time_bounds import TimeBound

SERVICES = ("leads", "sales", "service_center", "complaints", "notifier", "dealers")

#: What a datetime field is annotated with (pydantic's are markers, not subclasses).
TIMES = (datetime, AwareDatetime, NaiveDatetime, date)
#: Dates a TimeBound does not fit, and why.
NOT_BOUNDED = {
    "expires_on": "a driving licence may run 10 years and more ahead (or be long-term)",
    "warranty_start_on": "an old vehicle's warranty may have started before 2000",
    "holidays": "dealers: dates of the path's year, itself 2000-2100",
    "makeup_working_days": "dealers: dates of the path's year, itself 2000-2100",
}
#: Decimals in request bodies that are not amounts of money.
NOT_MONEY = {"annual_rate_percent", "labour_hours", "standard_hours"}

#: Bodies parsed by the endpoint itself, and how their times are bounded there.
SELF_PARSED = {
    ("leads", "POST /v1/leads"): "LeadSubmission: requested_at by check_request_time",
}


def _walk(tp: Any, loc: tuple[str, ...], seen: set[type]) -> Iterator[tuple[str, str]]:
    """(where, what is wrong) for each unbounded time or amount inside ``tp``."""
    origin = get_origin(tp)
    if origin is Annotated:
        base, *meta = get_args(tp)
        if base in TIMES:
            if not any(isinstance(m, TimeBound) for m in meta) and loc[-1] not in NOT_BOUNDED:
                yield ".".join(loc), "a time without a TimeBound"
            return
        if base is Decimal:
            is_amount = any(
                isinstance(m, WithJsonSchema)
                and (m.json_schema or {}).get("pattern") == AMOUNT_PATTERN
                for m in meta
            )
            if not is_amount and loc[-1] not in NOT_MONEY:
                yield ".".join(loc), "a decimal that is not an AmountIn"
            return
        yield from _walk(base, loc, seen)
    elif origin in (Union, types.UnionType, list, tuple, set, frozenset):
        for arg in get_args(tp):
            if arg is not Ellipsis:
                yield from _walk(arg, loc, seen)
    elif origin is dict:
        yield from _walk(get_args(tp)[1], (*loc, "*"), seen)
    elif tp in TIMES and loc[-1] not in NOT_BOUNDED:
        yield ".".join(loc), "a time without a TimeBound"
    elif tp is Decimal and loc[-1] not in NOT_MONEY:
        yield ".".join(loc), "a decimal that is not an AmountIn"
    elif isinstance(tp, type) and issubclass(tp, BaseModel) and tp not in seen:
        if issubclass(tp, Money):
            yield ".".join(loc), "the contracts' Money, not MoneyIn"
            return
        seen.add(tp)
        for name, field in tp.model_fields.items():
            yield from _walk(field.rebuild_annotation(), (*loc, name), seen)


@functools.cache
def _operations(service: str) -> tuple[tuple[str, APIRoute], ...]:
    """("METHOD /path", route) of every API route of the service's app."""
    definition: ServiceDefinition[Any] = importlib.import_module(
        f"dealerflow.{service}.app"
    ).DEFINITION
    app = build_app(definition, definition.settings_factory(), run_background=False)
    return tuple(
        (f"{method} {context.path}", context.route)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.route, APIRoute)
        for method in sorted(context.methods or ())
    )


def _bodies(service: str) -> Iterator[tuple[str, Any]]:
    for operation, route in _operations(service):
        for param in route.dependant.body_params:
            info = param.field_info
            meta = tuple(info.metadata)
            yield operation, Annotated[info.annotation, *meta] if meta else info.annotation


@pytest.mark.parametrize("service", SERVICES)
def test_every_request_time_and_amount_uses_the_shared_request_types(service: str) -> None:
    found = [
        f"{operation}: body.{where} is {what}"
        for operation, annotation in _bodies(service)
        for where, what in _walk(annotation, ("body",), set())
    ]
    assert found == []


def test_the_walk_finds_an_unbounded_time_and_plain_money() -> None:
    class Careless(BaseModel):
        at: datetime
        aware: AwareDatetime | None = None
        on: list[date]
        expires_on: date
        price: Money | None = None
        fee: Decimal
        labour_hours: Decimal
        fine: MoneyIn

    assert sorted(_walk(Careless, ("body",), set())) == [
        ("body.at", "a time without a TimeBound"),
        ("body.aware", "a time without a TimeBound"),
        ("body.fee", "a decimal that is not an AmountIn"),
        ("body.on", "a time without a TimeBound"),
        ("body.price", "the contracts' Money, not MoneyIn"),
    ]


def test_the_self_parsed_bodies_are_still_there() -> None:
    # a body FastAPI does not validate is bounded by its endpoint (its tests say so)
    for (service, operation), how in SELF_PARSED.items():
        assert operation in dict(_operations(service)), how
