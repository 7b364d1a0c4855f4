"""Event models: documentation on everything, value types, validation rules."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from dealerflow.contracts.care_enums import EscalationRole, SlaClock
from dealerflow.contracts.contact import ConsentSnapshot, ContactSnapshot
from dealerflow.contracts.events import (
    ALL_EVENTS,
    TOPIC_ADAPTERS,
    ComplaintEscalated,
    DomainEvent,
    LeadCreated,
    QuoteIssued,
    TaskCompleted,
    VehicleDelivered,
)
from dealerflow.contracts.examples import EXAMPLES, example_for
from dealerflow.contracts.types import Money, vin_check_digit_valid


def _undocumented(schema: dict[str, Any], where: str) -> list[str]:
    problems = []
    if not schema.get("description"):
        problems.append(where)
    for name, prop in schema.get("properties", {}).items():
        if not prop.get("description"):
            problems.append(f"{where}.{name}")
    return problems


@pytest.mark.parametrize("cls", ALL_EVENTS, ids=lambda c: c.__name__)
def test_every_model_and_field_is_documented(cls: type[DomainEvent]) -> None:
    schema = cls.model_json_schema()
    problems = _undocumented(schema, cls.__name__)
    for name, definition in schema.get("$defs", {}).items():
        if "properties" in definition or "enum" in definition:
            problems += _undocumented(definition, name)
    assert problems == []
    assert cls.doc.when
    assert cls.doc.emitted_by
    assert cls.doc.reacted_by


@pytest.mark.parametrize("cls", ALL_EVENTS, ids=lambda c: c.__name__)
def test_example_is_valid_and_json_round_trips(cls: type[DomainEvent]) -> None:
    event = EXAMPLES[cls]
    assert cls.model_validate_json(event.model_dump_json()) == event
    assert TOPIC_ADAPTERS[cls.context].validate_json(event.model_dump_json()) == event


def _delivered(**changes: Any) -> dict[str, Any]:
    payload = EXAMPLES[VehicleDelivered].model_dump(mode="json")
    payload.update(changes)
    return payload


def _error(payload: dict[str, Any], cls: type[BaseModel] = VehicleDelivered) -> str:
    with pytest.raises(ValidationError) as info:
        cls.model_validate(payload)
    return str(info.value)


def test_timestamps_must_be_aware_and_become_utc() -> None:
    assert "timezone" in _error(_delivered(delivered_at="2026-03-22T15:00:00"))
    beijing = timezone(timedelta(hours=8))
    event = VehicleDelivered.model_validate(
        _delivered(delivered_at=datetime(2026, 3, 22, 15, tzinfo=beijing))
    )
    assert event.delivered_at.utcoffset() == timedelta(0)
    assert event.delivered_at.hour == 7


@pytest.mark.parametrize(
    ("vin", "message"),
    [
        ("LGXC16DF3N012345", "17 characters, got 16"),
        ("LGXC16DF3N01234567", "17 characters, got 18"),
        ("LGXC16DF3N012345O", "I, O or Q (found O)"),
        ("IGXC16DF3N01234Q5", "I, O or Q (found I, Q)"),
        ("LGXC16DF3N01234-5", "only digits and the letters"),
    ],
)
def test_vin_rules(vin: str, message: str) -> None:
    assert message in _error(_delivered(vin=vin))


def test_vin_is_upper_cased_and_check_digit_is_optional() -> None:
    event = VehicleDelivered.model_validate(_delivered(vin="lgxc16df3n0123456"))
    assert event.vin == "LGXC16DF3N0123456"
    assert not vin_check_digit_valid(event.vin)  # accepted although the digit does not compute
    assert vin_check_digit_valid("1M8GDM9AXKP042788")  # the textbook North American example
    assert not vin_check_digit_valid("1M8GDM9A1KP042788")


def test_mileage_is_non_negative_whole_kilometres() -> None:
    assert "greater than or equal to 0" in _error(_delivered(odometer_km=-1))
    assert "integer" in _error(_delivered(odometer_km=12.5))


def test_money_is_a_decimal_string_with_currency() -> None:
    money = Money(amount=Decimal("179800.5"), currency="CNY")
    assert money.model_dump(mode="json") == {"amount": "179800.5", "currency": "CNY"}
    assert Money.model_validate({"amount": "0.00", "currency": "CNY"}).amount == Decimal("0.00")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"amount": 1.1, "currency": "CNY"}, "not a float"),
        ({"amount": "-5", "currency": "CNY"}, "non-negative decimal string"),
        ({"amount": "1e5", "currency": "CNY"}, "non-negative decimal string"),
        ({"amount": "1.23456", "currency": "CNY"}, "at most 4 decimal places"),
        ({"amount": "10", "currency": "cny"}, "pattern"),
        ({"amount": "10"}, "currency"),
    ]
    for bad, message in cases:
        assert message in _error(bad, Money)


def test_quote_rejects_float_prices() -> None:
    payload = EXAMPLES[QuoteIssued].model_dump(mode="json")
    payload["total"] = {"amount": 222100.0, "currency": "CNY"}
    assert "total.amount" in _error(payload, QuoteIssued)


def test_contact_snapshot_rules() -> None:
    consent = ConsentSnapshot(service=True, marketing=True)
    with pytest.raises(ValidationError, match=r"E\.164"):
        ContactSnapshot(name="李娜", phone="13800138000", consent=consent)
    with pytest.raises(ValidationError, match="at least one of phone, email"):
        ContactSnapshot(name="李娜", consent=consent)
    by_mail = ContactSnapshot(name="Anna", email="anna@example.com", consent=consent, locale="en")
    assert by_mail.phone is None
    assert by_mail.locale == "en"
    with pytest.raises(ValidationError, match="locale"):
        ContactSnapshot(name="Anna", email="anna@example.com", consent=consent, locale="de")


def test_grades_and_enums_reject_unknown_values() -> None:
    payload = EXAMPLES[LeadCreated].model_dump(mode="json")
    assert "channel" in _error({**payload, "channel": "carrier_pigeon"}, LeadCreated)
    payload = EXAMPLES[TaskCompleted].model_dump(mode="json")
    assert "outcome" in _error({**payload, "outcome": "meh"}, TaskCompleted)
    assert TaskCompleted.model_validate({**payload, "outcome": "dissatisfied"}).outcome == (
        "dissatisfied"
    )


def test_escalation_level_must_match_the_ladder() -> None:
    payload = EXAMPLES[ComplaintEscalated].model_dump(mode="json")
    for level, role in enumerate(EscalationRole, start=1):
        event = ComplaintEscalated.model_validate({**payload, "level": level, "to_role": role})
        assert event.to_role == role
    assert "goes to gm" in _error(
        {**payload, "level": 2, "to_role": "oem_region"}, ComplaintEscalated
    )
    assert "less than or equal to 3" in _error({**payload, "level": 4}, ComplaintEscalated)
    assert {c.value for c in SlaClock} == {"acknowledge", "resolve", "inform", "first_update"}


def test_common_fields_and_tolerant_reader() -> None:
    payload = _delivered(future_field="ignored by older consumers")
    event = VehicleDelivered.model_validate(payload)
    assert not hasattr(event, "future_field")
    assert isinstance(event.customer_id, uuid.UUID)
    assert "dealer_id" in _error(_delivered(dealer_id="bad dealer id"))
    assert "type" in _error(_delivered(type="LeadCreated"))
    # `type` may be omitted: the class (chosen from ce_type) knows its own name.
    assert (
        VehicleDelivered.model_validate({k: v for k, v in _delivered().items() if k != "type"}).type
        == "VehicleDelivered"
    )


def test_events_are_immutable() -> None:
    event = example_for(VehicleDelivered)
    with pytest.raises(ValidationError, match="frozen"):
        event.odometer_km = 5  # type: ignore[misc]


def test_union_needs_the_type_discriminator() -> None:
    payload = _delivered()
    del payload["type"]
    with pytest.raises(ValidationError, match="discriminator"):
        TOPIC_ADAPTERS["sales"].validate_python(payload)
