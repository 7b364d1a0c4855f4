"""Service intake: classifying the work, warranty cover, and appointment slot capacity."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from dealerflow.contracts.enums import ServiceWorkType
from dealerflow.policy import add_months

# Keywords (zh-CN and en, lower case, "|"-separated) that mark a concern as one type of
# work. A concern matching none is a fault to diagnose: a repair (or warranty repair).
# Words that also name a faulty part ("audio", "alarm", 机油 as in 漏机油 "oil leak")
# are left out on purpose: a fault must not be booked as detailing or maintenance.
_KEYWORDS: dict[ServiceWorkType, tuple[str, ...]] = {
    work_type: tuple(words.split("|"))
    for work_type, words in {
        ServiceWorkType.BODYWORK: "钣金|喷漆|补漆|事故|碰撞|刮擦|划痕|凹陷|剐蹭|追尾"
        "|bodywork|body work|body panel|paint|dent|scratch|collision|accident",
        ServiceWorkType.ACCESSORY_DETAILING: "打蜡|封釉|镀膜|镀晶|底盘装甲|贴膜|内饰清洗"
        "|内饰护理|洗车|美容|精品|加装|wax|glaze|coating|ceramic|detailing|underbody"
        "|undercoat|tint|window film|car wash|interior cleaning|accessory|install",
        ServiceWorkType.MAINTENANCE: "保养|首保|换机油|更换机油|机滤|空滤|空调滤|定保"
        "|maintenance|service interval|oil change|oil and filter|oil filter|air filter"
        "|cabin filter|scheduled service|periodic service",
    }.items()
}
# When one visit has several kinds of concern, the RO is classified by the most demanding:
# a fault needs diagnosis first; detailing is the least urgent.
_PRECEDENCE = (
    ServiceWorkType.WARRANTY,
    ServiceWorkType.REPAIR,
    ServiceWorkType.BODYWORK,
    ServiceWorkType.MAINTENANCE,
    ServiceWorkType.ACCESSORY_DETAILING,
)


def normalise_concern(text: str) -> str:
    """A comparable form of a concern: NFKC, lower case, punctuation and spaces removed.

    "Brake noise!" and "brake  noise" give the same code, as do full-width and half-width
    forms of the same Chinese text. Used as a concern code when the advisor gave none.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\W_]+", "", folded)


def concern_codes_of(concerns: Iterable[str], given: Iterable[str] | None = None) -> list[str]:
    """The visit's concern codes: the advisor's (``given``) or else the concerns, each
    normalised, blanks and duplicates dropped, in order."""
    raw = given if given is not None else concerns
    return [c for c in dict.fromkeys(normalise_concern(c) for c in raw) if c]


def classify_concern(concern: str, under_warranty: bool = False) -> ServiceWorkType:
    """The kind of work one customer concern asks for (keywords, zh-CN and en)."""
    text = unicodedata.normalize("NFKC", concern).casefold()
    for work_type in (
        ServiceWorkType.BODYWORK,
        ServiceWorkType.ACCESSORY_DETAILING,
        ServiceWorkType.MAINTENANCE,
    ):
        if any(keyword in text for keyword in _KEYWORDS[work_type]):
            return work_type
    return ServiceWorkType.WARRANTY if under_warranty else ServiceWorkType.REPAIR


@dataclass(frozen=True)
class IntakeClassification:
    work_type: ServiceWorkType  # of the visit as a whole
    per_concern: tuple[tuple[str, ServiceWorkType], ...]


def classify_intake(
    concerns: Iterable[str],
    under_warranty: bool = False,
    requested: ServiceWorkType | None = None,
) -> IntakeClassification:
    """Classify a visit from its concerns; an explicit choice by the advisor wins.

    Faults (no maintenance, bodywork or detailing keyword) are warranty work when the
    vehicle is under warranty, otherwise repairs. A visit without concerns is maintenance.
    """
    per_concern = tuple(
        (concern, classify_concern(concern, under_warranty))
        for concern in concerns
        if concern.strip()
    )
    if requested is not None:
        return IntakeClassification(requested, per_concern)
    kinds = {work_type for _, work_type in per_concern}
    overall = next((k for k in _PRECEDENCE if k in kinds), ServiceWorkType.MAINTENANCE)
    return IntakeClassification(overall, per_concern)


def is_under_warranty(
    warranty_start: date,
    mileage_km: int,
    on: date,
    warranty_months: int,
    warranty_km: int,
) -> bool:
    """Is the vehicle under warranty on `on` at `mileage_km`, whichever limit comes first?

    The limits are the dealer's (``DealerPolicy.service``: by default China's statutory
    minimum, 三包 3 years or 60,000 km; a dealer whose OEM gives more sets more). The
    period ends on the anniversary and at the mileage limit itself.
    """
    if mileage_km < 0:
        raise ValueError("mileage_km cannot be negative")
    return warranty_start <= on < add_months(warranty_start, warranty_months) and (
        mileage_km < warranty_km
    )


@dataclass(frozen=True)
class Intake:
    """What check-in decides about a visit."""

    work_type: ServiceWorkType
    under_warranty: bool
    concern_codes: tuple[str, ...]


def plan_intake(
    concerns: Sequence[str],
    *,
    today: date,
    mileage_km: int,
    warranty_start_on: date | None,
    warranty_months: int,
    warranty_km: int,
    work_type: ServiceWorkType | None = None,
    concern_codes: Sequence[str] | None = None,
) -> Intake:
    """Check-in: warranty cover (only with a warranty start), the work type
    (:func:`classify_intake`; the advisor's choice wins) and the concern codes
    (:func:`concern_codes_of`)."""
    under_warranty = warranty_start_on is not None and is_under_warranty(
        warranty_start_on, mileage_km, today, warranty_months, warranty_km
    )
    return Intake(
        work_type=classify_intake(concerns, under_warranty, work_type).work_type,
        under_warranty=under_warranty,
        concern_codes=tuple(concern_codes_of(concerns, concern_codes)),
    )


@dataclass(frozen=True)
class SlotCapacity:
    """What one appointment slot can take: a job needs a bay and a technician."""

    bays: int
    technicians: int

    def __post_init__(self) -> None:
        if self.bays < 0 or self.technicians < 0:
            raise ValueError("capacity cannot be negative")


def slot_remaining(capacity: SlotCapacity, booked: int) -> int:
    """Free places left in a slot: the scarcer of bays and technicians, minus bookings."""
    return max(min(capacity.bays, capacity.technicians) - booked, 0)


def can_book_slot(capacity: SlotCapacity, booked: int, requested: int = 1) -> bool:
    """True when `requested` more jobs fit into the slot."""
    if requested < 1:
        raise ValueError("requested must be at least 1")
    return slot_remaining(capacity, booked) >= requested
