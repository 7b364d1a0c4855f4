"""Stored rows -> API responses and domain objects (no SQL, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import RepairItemKind
from dealerflow.contracts.events.service import RepairItem
from dealerflow.service_center import domain
from dealerflow.service_center.schemas import (
    DeclinedItemOut,
    DiagnosisOut,
    QualityCheckOut,
    QuoteOut,
    RepairOrderDetail,
    RepairOrderSummary,
)
from dealerflow.service_center.support import money

Row = Mapping[str, Any]


def quote_lines(stored: Mapping[str, Any]) -> list[domain.QuoteLine]:
    """The domain's quote lines from a stored quote."""
    return [
        domain.QuoteLine(
            item_id=line["item_id"],
            kind=RepairItemKind(line["kind"]),
            description=line["description"],
            labour_hours=None
            if line.get("labour_hours") is None
            else Decimal(line["labour_hours"]),
            part_number=line.get("part_number"),
            quantity=line.get("quantity", 1),
            unit_price=None if line.get("unit_price") is None else Decimal(line["unit_price"]),
        )
        for line in stored["lines"]
    ]


def repair_quote_of(stored: Mapping[str, Any]) -> domain.RepairQuote:
    """Re-price a stored quote (deterministic: same lines, same rate, same amounts)."""
    return domain.price_repair_quote(quote_lines(stored), Decimal(stored["labour_rate"]))


def repair_items(quote: domain.RepairQuote, currency: str) -> list[RepairItem]:
    """The quote's lines as the events carry them."""
    return [
        RepairItem(
            item_id=p.line.item_id,
            kind=p.line.kind,
            description=p.line.description,
            labour_hours=p.line.labour_hours,
            part_number=p.line.part_number,
            quantity=p.line.quantity,
            amount=money(p.amount, currency),
        )
        for p in quote.lines
    ]


def quote_out(stored: Mapping[str, Any]) -> QuoteOut:
    quote = repair_quote_of(stored)
    currency = stored["currency"]
    return QuoteOut(
        quote_id=stored["quote_id"],
        items=repair_items(quote, currency),
        labour_rate=money(quote.labour_rate, currency),
        parts_total=money(quote.parts_total, currency),
        labour_total=money(quote.labour_total, currency),
        total=money(quote.total, currency),
    )


def quality_check_records(checks: Sequence[Row]) -> tuple[domain.QualityCheckRecord, ...]:
    return tuple(
        domain.QualityCheckRecord(
            attempt=c["attempt"],
            passed=c["passed"],
            checked_at=c["checked_at"],
            reasons=tuple(c["reasons"]),
            repeat_failure=c["repeat_failure"],
        )
        for c in checks
    )


def repair_order_summary(ro: Row) -> RepairOrderSummary:
    return RepairOrderSummary(
        repair_order_id=ro["id"],
        dealer_id=ro["dealer_id"],
        customer_id=ro["customer_id"],
        vin=ro["vin"],
        model=ro["model"],
        advisor_id=ro["advisor_id"],
        work_type=ro["work_type"],
        status=ro["status"],
        mileage_km=ro["mileage_km"],
        opened_at=ro["opened_at"],
        updated_at=ro["updated_at"],
        handed_over_at=ro["handed_over_at"],
    )


def repair_order_detail(
    ro: Row, *, quality_checks: Sequence[Row], declined_items: Sequence[Row]
) -> RepairOrderDetail:
    currency = ro["currency"] or (ro["quote"] or {}).get("currency")
    return RepairOrderDetail(
        **repair_order_summary(ro).model_dump(),
        service_appointment_id=ro["service_appointment_id"],
        under_warranty=ro["under_warranty"],
        concerns=ro["concerns"],
        concern_codes=ro["concern_codes"],
        walk_around_findings=ro["walk_around_findings"],
        contact=ContactSnapshot.model_validate(ro["contact"]),
        diagnosis=None if ro["diagnosis"] is None else DiagnosisOut.model_validate(ro["diagnosis"]),
        quote=None if ro["quote"] is None else quote_out(ro["quote"]),
        approved_item_ids=ro["approved_item_ids"],
        approved_total=None
        if ro["approved_total"] is None or currency is None
        else money(ro["approved_total"], currency),
        completed_item_ids=ro["completed_item_ids"],
        technician_ids=ro["technician_ids"],
        work_summary=ro["work_summary"],
        labour_hours=ro["labour_hours"],
        completed_at=ro["completed_at"],
        quality_checks=[
            QualityCheckOut(
                attempt=c["attempt"],
                passed=c["passed"],
                reasons=c["reasons"],
                repeat_failure=c["repeat_failure"],
                reached_customer=c["reached_customer"],
                inspector_id=c["inspector_id"],
                checked_at=c["checked_at"],
            )
            for c in quality_checks
        ],
        declined_items=[
            DeclinedItemOut(
                item_id=d["item_id"],
                description=d["description"],
                amount=money(d["amount"], d["currency"]),
                declined_at=d["declined_at"],
                follow_up_on=d["follow_up_on"],
            )
            for d in declined_items
        ],
        handover_mileage_km=ro["handover_mileage_km"],
        amount_paid=None
        if ro["amount_paid"] is None or currency is None
        else money(ro["amount_paid"], currency),
        invoice_number=ro["invoice_number"],
        next_maintenance_due_on=ro["next_maintenance_due_on"],
        next_maintenance_due_km=ro["next_maintenance_due_km"],
    )
