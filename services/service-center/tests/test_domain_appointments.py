"""The workshop's slot grid and what a booked job takes of it (pure rules)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from dealerflow.contracts.enums import ServiceWorkType
from dealerflow.service_center.domain_appointments import (
    AppointmentClosed,
    AppointmentStatus,
    SlotNotOffered,
    Workshop,
    day_slots,
    free_slots,
    job_end,
    job_slots,
    per_slot_capacity,
    require_future,
    require_open,
    slots_needed,
)
from dealerflow.service_center.domain_intake import SlotCapacity

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2025, 3, 4)
MINUTES = {"maintenance": 60, "repair": 120, "bodywork": 240, "accessory_detailing": 90}


def workshop(bays: int = 3, technicians: int = 2) -> Workshop:
    return Workshop(
        tz=SHANGHAI,
        opens_at=time(8, 30),
        closes_at=time(17, 30),
        slot_length=timedelta(minutes=60),
        capacity=SlotCapacity(bays=bays, technicians=technicians),
        job_minutes=MINUTES,
    )


def local(hour: int, minute: int = 30) -> datetime:
    return datetime(2025, 3, 4, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def test_the_day_is_cut_into_slots_from_opening_to_closing() -> None:
    slots = day_slots(workshop(), DAY)
    assert len(slots) == 9
    assert slots[0] == local(8)
    assert slots[-1] == local(16)


def test_a_job_takes_its_duration_in_whole_slots() -> None:
    w = workshop()
    assert slots_needed(w, ServiceWorkType.MAINTENANCE) == 1
    assert slots_needed(w, ServiceWorkType.ACCESSORY_DETAILING) == 2  # 90 min rounded up
    assert slots_needed(w, ServiceWorkType.WARRANTY) == 1  # not listed: one slot
    assert job_slots(w, local(9), ServiceWorkType.REPAIR) == (local(9), local(10))
    assert job_end(w, job_slots(w, local(9), ServiceWorkType.REPAIR)) == local(11)


def test_a_job_must_start_on_a_slot_and_end_by_closing() -> None:
    w = workshop()
    with pytest.raises(SlotNotOffered, match="not an appointment slot"):
        job_slots(w, local(9, 0), ServiceWorkType.MAINTENANCE)
    with pytest.raises(SlotNotOffered, match="past closing"):
        job_slots(w, local(14), ServiceWorkType.BODYWORK)  # 14:30 + 4 h > 17:30
    assert len(job_slots(w, local(13), ServiceWorkType.BODYWORK)) == 4


def test_free_slots_count_the_scarcer_of_bays_and_technicians() -> None:
    w = workshop(bays=3, technicians=2)
    assert per_slot_capacity(w) == 2
    booked = {local(9): 2, local(10): 1}
    by_start = {s.slot_start: s for s in free_slots(w, DAY, ServiceWorkType.REPAIR, booked)}
    assert by_start[local(8)].remaining == 0
    assert not by_start[local(8)].bookable
    assert by_start[local(10)].remaining == 1
    assert by_start[local(10)].bookable
    assert by_start[local(11)].remaining == 2
    assert local(16) not in by_start  # a 2-hour job cannot start at 16:30


def test_past_starts_are_not_offered_and_cannot_be_booked() -> None:
    offered = free_slots(workshop(), DAY, ServiceWorkType.MAINTENANCE, {}, now=local(12))
    assert offered[0].slot_start == local(12)
    with pytest.raises(SlotNotOffered, match="begun"):
        require_future(local(9), local(12))


def test_only_a_booked_appointment_changes() -> None:
    require_open(AppointmentStatus.BOOKED)
    with pytest.raises(AppointmentClosed, match="cancelled"):
        require_open(AppointmentStatus.CANCELLED)
