from datetime import date

import pytest

from dealerflow.policy import ServicePolicy
from dealerflow.service_center.domain import (
    ServiceWorkType,
    SlotCapacity,
    can_book_slot,
    classify_concern,
    classify_intake,
    is_under_warranty,
    normalise_concern,
    slot_remaining,
)

W = ServiceWorkType
SERVICE = ServicePolicy()  # a dealer that set nothing (DOMAIN.md defaults)


@pytest.mark.parametrize(
    ("concern", "expected"),
    [
        ("首保", W.MAINTENANCE),
        ("5000公里保养", W.MAINTENANCE),
        ("Oil change and cabin filter", W.MAINTENANCE),
        ("左前门刮擦需要补漆", W.BODYWORK),
        ("Rear bumper dent after a collision", W.BODYWORK),
        ("全车镀膜", W.ACCESSORY_DETAILING),
        ("Ceramic COATING", W.ACCESSORY_DETAILING),
        ("底盘装甲", W.ACCESSORY_DETAILING),
        ("刹车异响", W.REPAIR),
        ("漏机油", W.REPAIR),  # an oil leak is a fault, not an oil change
        ("Instrument panel flickers", W.REPAIR),
        ("Audio system has no sound", W.REPAIR),
    ],
)
def test_concerns_are_classified_by_keyword(concern: str, expected: ServiceWorkType) -> None:
    assert classify_concern(concern) is expected


def test_faults_under_warranty_are_warranty_work() -> None:
    assert classify_concern("发动机故障灯亮", under_warranty=True) is W.WARRANTY
    # maintenance stays maintenance even under warranty
    assert classify_concern("保养", under_warranty=True) is W.MAINTENANCE


def test_visit_takes_the_most_demanding_kind() -> None:
    result = classify_intake(["保养", "打蜡", "空调不制冷"])
    assert result.work_type is W.REPAIR
    assert result.per_concern == (
        ("保养", W.MAINTENANCE),
        ("打蜡", W.ACCESSORY_DETAILING),
        ("空调不制冷", W.REPAIR),
    )
    assert classify_intake(["打蜡", "保养"]).work_type is W.MAINTENANCE
    assert classify_intake(["补漆", "保养"]).work_type is W.BODYWORK
    assert classify_intake(["noise", "保养"], under_warranty=True).work_type is W.WARRANTY


def test_visit_without_concerns_is_maintenance_and_advisor_choice_wins() -> None:
    assert classify_intake([]).work_type is W.MAINTENANCE
    assert classify_intake(["  "]).per_concern == ()
    chosen = classify_intake(["刹车异响"], requested=W.WARRANTY)
    assert chosen.work_type is W.WARRANTY
    assert chosen.per_concern == (("刹车异响", W.REPAIR),)


def test_concern_codes_ignore_case_spacing_punctuation_and_width() -> None:
    assert normalise_concern("Brake  noise!") == normalise_concern("brake noise")
    assert normalise_concern("刹车异响。") == normalise_concern("刹车 异响")
    assert normalise_concern("ＡＢＳ灯亮") == normalise_concern("abs灯亮")  # full width


def test_warranty_ends_at_the_anniversary_or_the_mileage_limit() -> None:
    start = date(2023, 5, 31)
    statutory = {"warranty_months": SERVICE.warranty_months, "warranty_km": SERVICE.warranty_km}
    assert is_under_warranty(start, 59_999, date(2026, 5, 30), **statutory)
    assert not is_under_warranty(start, 59_999, date(2026, 5, 31), **statutory)
    assert not is_under_warranty(start, 60_000, date(2024, 1, 1), **statutory)
    assert not is_under_warranty(start, 100, date(2023, 5, 30), **statutory)  # not started
    oem = {"warranty_months": 60, "warranty_km": 150_000}
    assert is_under_warranty(start, 120_000, date(2027, 1, 1), **oem)
    with pytest.raises(ValueError, match="negative"):
        is_under_warranty(start, -1, date(2024, 1, 1), **statutory)


def test_slot_capacity_is_the_scarcer_of_bays_and_technicians() -> None:
    slot = SlotCapacity(bays=4, technicians=3)
    assert slot_remaining(slot, 0) == 3
    assert can_book_slot(slot, 2)
    assert not can_book_slot(slot, 3)  # exactly full
    assert not can_book_slot(slot, 2, requested=2)
    assert slot_remaining(slot, 5) == 0  # overbooked by hand: never negative
    assert not can_book_slot(SlotCapacity(bays=0, technicians=5), 0)
    with pytest.raises(ValueError, match="negative"):
        SlotCapacity(bays=-1, technicians=1)
    with pytest.raises(ValueError, match="requested"):
        can_book_slot(slot, 0, requested=0)
