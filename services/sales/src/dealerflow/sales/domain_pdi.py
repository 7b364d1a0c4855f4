"""The pre-delivery inspection (PDI): the items an inspector went through before the
handover, each passed or failed. Delivery needs a recorded PDI that covers the standard
items and has no failed item."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

#: The standard PDI items (docs/sales.md): a recorded PDI must name every one of them.
STANDARD_PDI_ITEMS: tuple[str, ...] = (
    "exterior",
    "interior",
    "engine_bay",
    "electrics",
    "tyres",
    "fluids",
    "road_test",
)


@dataclass(frozen=True)
class PdiItem:
    item: str
    passed: bool
    note: str | None = None


@dataclass(frozen=True)
class PdiRecord:
    """The contract's PDI as last recorded (a new one replaces it)."""

    dealer_id: str
    contract_id: str
    inspector_id: str
    inspected_at: datetime
    items: tuple[PdiItem, ...]
    recorded_at: datetime


def pdi_problems(
    items: Sequence[PdiItem], now: datetime, inspected_at: datetime
) -> tuple[str, ...]:
    """Why the PDI cannot be recorded (empty = it can): every standard item once, no item
    twice, not inspected in the future. Failed items may be recorded (they block delivery)."""
    problems: list[str] = []
    names = [i.item for i in items]
    missing = [s for s in STANDARD_PDI_ITEMS if s not in names]
    if missing:
        problems.append("standard PDI items missing: " + ", ".join(missing))
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        problems.append("PDI items recorded twice: " + ", ".join(twice))
    if inspected_at > now:
        problems.append("inspected_at cannot lie in the future")
    return tuple(problems)


def failed_items(record: PdiRecord | None) -> tuple[str, ...]:
    """The failed items of the PDI, in recorded order (none without a PDI)."""
    return () if record is None else tuple(i.item for i in record.items if not i.passed)


def pdi_passed(record: PdiRecord | None) -> bool:
    """A PDI is recorded and no item of it failed."""
    return record is not None and not failed_items(record)
