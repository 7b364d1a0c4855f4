"""The pre-delivery inspection rules: the standard items covered, failed items block."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dealerflow.sales.domain_pdi import (
    STANDARD_PDI_ITEMS,
    PdiItem,
    PdiRecord,
    failed_items,
    pdi_passed,
    pdi_problems,
)

NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)


def items(*failed: str) -> tuple[PdiItem, ...]:
    return tuple(PdiItem(i, i not in failed) for i in STANDARD_PDI_ITEMS)


def record(*failed: str) -> PdiRecord:
    return PdiRecord("D001", "c-1", "tech-7", NOW, items(*failed), NOW)


def test_a_pdi_covering_the_standard_items_may_be_recorded_even_with_failures() -> None:
    assert pdi_problems(items(), NOW, NOW) == ()
    assert pdi_problems(items("tyres"), NOW, NOW - timedelta(hours=1)) == ()
    extra = (*items(), PdiItem("paint_protection", True, "film applied"))
    assert pdi_problems(extra, NOW, NOW) == ()


def test_missing_or_repeated_items_and_a_future_inspection_are_refused() -> None:
    partial = tuple(i for i in items() if i.item not in ("fluids", "road_test"))
    assert pdi_problems((*partial, PdiItem("exterior", True)), NOW, NOW + timedelta(1)) == (
        "standard PDI items missing: fluids, road_test",
        "PDI items recorded twice: exterior",
        "inspected_at cannot lie in the future",
    )


def test_any_failed_item_fails_the_pdi_and_none_recorded_is_not_passed() -> None:
    assert pdi_passed(record())
    assert failed_items(record()) == ()
    assert not pdi_passed(record("electrics", "tyres"))
    assert failed_items(record("tyres", "electrics")) == ("electrics", "tyres")
    assert not pdi_passed(None)
    assert failed_items(None) == ()
