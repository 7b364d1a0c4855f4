"""All SQL of the service-center service (asyncpg). Every statement is scoped by dealer_id.

Functions take the caller's connection (inside the use case's transaction) and read and
write the typed rows of :mod:`records`; JSON columns are encoded and decoded here only.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import RepairItemKind, ServiceWorkType
from dealerflow.runtime.db import DbConnection
from dealerflow.service_center.domain import (
    QualityCheckRecord,
    QuoteLine,
    RepairOrderStatus,
    VehicleVisit,
)
from dealerflow.service_center.records import (
    DeclinedItemRecord,
    Diagnosis,
    RecordedQualityCheck,
    RepairOrderRecord,
    StoredQuote,
)

_ORDER_COLUMNS = (
    "dealer_id, id, customer_id, service_appointment_id, vin, model, advisor_id, work_type, "
    "under_warranty, mileage_km, concerns::text AS concerns, concern_codes::text AS "
    "concern_codes, walk_around_findings::text AS walk_around_findings, contact::text AS "
    "contact, status, opened_at, updated_at, diagnosis::text AS diagnosis, quote::text AS "
    "quote, approved_item_ids::text AS approved_item_ids, approved_total, "
    "completed_item_ids::text AS completed_item_ids, technician_ids::text AS technician_ids, "
    "work_summary, labour_hours, completed_at, handed_over_at, handover_mileage_km, "
    "amount_paid, currency, invoice_number, next_maintenance_due_on, next_maintenance_due_km"
)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _strings(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


# -- JSON columns ----------------------------------------------------------------------------


def _quote_json(quote: StoredQuote) -> str:
    return _json(
        {
            "quote_id": quote.quote_id,
            "currency": quote.currency,
            "labour_rate": format(quote.labour_rate, "f"),
            "lines": [
                {
                    "item_id": line.item_id,
                    "kind": line.kind.value,
                    "description": line.description,
                    "labour_hours": _decimal_text(line.labour_hours),
                    "part_number": line.part_number,
                    "quantity": line.quantity,
                    "unit_price": _decimal_text(line.unit_price),
                }
                for line in quote.lines
            ],
        }
    )


def _quote(text: str) -> StoredQuote:
    stored = json.loads(text)
    return StoredQuote(
        quote_id=stored["quote_id"],
        currency=stored["currency"],
        labour_rate=Decimal(stored["labour_rate"]),
        lines=tuple(
            QuoteLine(
                item_id=line["item_id"],
                kind=RepairItemKind(line["kind"]),
                description=line["description"],
                labour_hours=_decimal(line.get("labour_hours")),
                part_number=line.get("part_number"),
                quantity=line.get("quantity", 1),
                unit_price=_decimal(line.get("unit_price")),
            )
            for line in stored["lines"]
        ),
    )


def _diagnosis_json(diagnosis: Diagnosis) -> str:
    return _json(
        {
            "technician_id": diagnosis.technician_id,
            "findings": list(diagnosis.findings),
            "completed_at": diagnosis.completed_at.isoformat(),
        }
    )


def _diagnosis(text: str) -> Diagnosis:
    stored = json.loads(text)
    return Diagnosis(
        technician_id=stored["technician_id"],
        findings=tuple(stored["findings"]),
        completed_at=datetime.fromisoformat(stored["completed_at"]),
    )


def _order(row: asyncpg.Record) -> RepairOrderRecord:
    data = dict(row)
    for name in (
        "concerns",
        "concern_codes",
        "walk_around_findings",
        "approved_item_ids",
        "completed_item_ids",
        "technician_ids",
    ):
        data[name] = _strings(data[name])
    data["work_type"] = ServiceWorkType(data["work_type"])
    data["status"] = RepairOrderStatus(data["status"])
    data["contact"] = ContactSnapshot.model_validate_json(data["contact"])
    data["diagnosis"] = _diagnosis(data["diagnosis"]) if data["diagnosis"] else None
    data["quote"] = _quote(data["quote"]) if data["quote"] else None
    return RepairOrderRecord(**data)


# -- repair orders ---------------------------------------------------------------------------


async def insert_repair_order(conn: DbConnection, ro: RepairOrderRecord) -> bool:
    """Insert a newly opened RO; False when its id is taken (nothing inserted)."""
    inserted = await conn.fetchval(
        """
        INSERT INTO repair_orders (dealer_id, id, customer_id, service_appointment_id, vin,
            model, advisor_id, work_type, under_warranty, mileage_km, concerns, concern_codes,
            walk_around_findings, contact, status, opened_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb, $13::jsonb,
            $14::jsonb, $15, $16, $17)
        ON CONFLICT (dealer_id, id) DO NOTHING
        RETURNING true
        """,
        ro.dealer_id,
        ro.id,
        ro.customer_id,
        ro.service_appointment_id,
        ro.vin,
        ro.model,
        ro.advisor_id,
        ro.work_type.value,
        ro.under_warranty,
        ro.mileage_km,
        _json(list(ro.concerns)),
        _json(list(ro.concern_codes)),
        _json(list(ro.walk_around_findings)),
        ro.contact.model_dump_json(),
        ro.status.value,
        ro.opened_at,
        ro.updated_at,
    )
    return bool(inserted)


async def get_repair_order(
    conn: DbConnection, dealer_id: str, repair_order_id: uuid.UUID, *, for_update: bool = False
) -> RepairOrderRecord | None:
    """The RO, or None; ``for_update`` locks it until the transaction ends so two steps
    on one RO (say, a quality check and a handover) never interleave."""
    sql = f"SELECT {_ORDER_COLUMNS} FROM repair_orders WHERE dealer_id = $1 AND id = $2"
    if for_update:
        sql += " FOR UPDATE"
    row = await conn.fetchrow(sql, dealer_id, repair_order_id)
    return _order(row) if row is not None else None


async def customer_repair_orders(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> list[RepairOrderRecord]:
    """Every RO of the customer at the dealer, oldest first, locked until the transaction
    ends (an erasure and a workflow step of one RO never interleave)."""
    rows = await conn.fetch(
        f"SELECT {_ORDER_COLUMNS} FROM repair_orders WHERE dealer_id = $1 AND customer_id = $2"
        " ORDER BY opened_at, id FOR UPDATE",
        dealer_id,
        customer_id,
    )
    return [_order(row) for row in rows]


async def save_repair_order(conn: DbConnection, ro: RepairOrderRecord) -> None:
    """Write what the workflow steps change (status, diagnosis, quote, decision, work,
    handover); what check-in recorded stays as it is."""
    await conn.execute(
        """
        UPDATE repair_orders SET status = $3, updated_at = $4, diagnosis = $5::jsonb,
            quote = $6::jsonb, approved_item_ids = $7::jsonb, approved_total = $8,
            completed_item_ids = $9::jsonb, technician_ids = $10::jsonb, work_summary = $11,
            labour_hours = $12, completed_at = $13, handed_over_at = $14,
            handover_mileage_km = $15, amount_paid = $16, currency = $17,
            invoice_number = $18, next_maintenance_due_on = $19, next_maintenance_due_km = $20
        WHERE dealer_id = $1 AND id = $2
        """,
        ro.dealer_id,
        ro.id,
        ro.status.value,
        ro.updated_at,
        _diagnosis_json(ro.diagnosis) if ro.diagnosis is not None else None,
        _quote_json(ro.quote) if ro.quote is not None else None,
        _json(list(ro.approved_item_ids)),
        ro.approved_total,
        _json(list(ro.completed_item_ids)),
        _json(list(ro.technician_ids)),
        ro.work_summary,
        ro.labour_hours,
        ro.completed_at,
        ro.handed_over_at,
        ro.handover_mileage_km,
        ro.amount_paid,
        ro.currency,
        ro.invoice_number,
        ro.next_maintenance_due_on,
        ro.next_maintenance_due_km,
    )


async def list_repair_orders(
    conn: DbConnection,
    dealer_id: str,
    *,
    status: RepairOrderStatus | None,
    vin: str | None,
    advisor_id: str | None,
    customer_id: uuid.UUID | None,
    opened_from: datetime | None,
    opened_to: datetime | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[RepairOrderRecord]:
    """ROs newest first; ``after`` is the (opened_at, id) of the previous page's last row."""
    rows = await conn.fetch(
        f"""
        SELECT {_ORDER_COLUMNS} FROM repair_orders
        WHERE dealer_id = $1
          AND ($2::text IS NULL OR status = $2)
          AND ($3::text IS NULL OR vin = $3)
          AND ($4::text IS NULL OR advisor_id = $4)
          AND ($5::uuid IS NULL OR customer_id = $5)
          AND ($6::timestamptz IS NULL OR opened_at >= $6)
          AND ($7::timestamptz IS NULL OR opened_at < $7)
          AND ($8::timestamptz IS NULL OR (opened_at, id) < ($8, $9::uuid))
        ORDER BY opened_at DESC, id DESC
        LIMIT $10
        """,
        dealer_id,
        status.value if status is not None else None,
        vin,
        advisor_id,
        customer_id,
        opened_from,
        opened_to,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [_order(row) for row in rows]


async def vehicle_history(
    conn: DbConnection, dealer_id: str, vin: str, *, exclude: uuid.UUID | None = None
) -> list[VehicleVisit]:
    """The vehicle's other repair orders at this dealer, oldest first (odometer history,
    the last maintenance)."""
    rows = await conn.fetch(
        """
        SELECT work_type, opened_at, mileage_km, handed_over_at, handover_mileage_km
        FROM repair_orders
        WHERE dealer_id = $1 AND vin = $2 AND ($3::uuid IS NULL OR id <> $3)
        ORDER BY opened_at
        """,
        dealer_id,
        vin,
        exclude,
    )
    return [
        VehicleVisit(
            work_type=ServiceWorkType(row["work_type"]),
            opened_at=row["opened_at"],
            mileage_km=row["mileage_km"],
            handed_over_at=row["handed_over_at"],
            handover_mileage_km=row["handover_mileage_km"],
        )
        for row in rows
    ]


# -- quality checks and declined items -------------------------------------------------------


async def insert_quality_check(
    conn: DbConnection, dealer_id: str, repair_order_id: uuid.UUID, qc: RecordedQualityCheck
) -> None:
    await conn.execute(
        """
        INSERT INTO quality_checks (dealer_id, repair_order_id, attempt, passed, reasons,
            repeat_failure, reached_customer, inspector_id, checked_at)
        VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9)
        """,
        dealer_id,
        repair_order_id,
        qc.check.attempt,
        qc.check.passed,
        _json(list(qc.check.reasons)),
        qc.check.repeat_failure,
        qc.reached_customer,
        qc.inspector_id,
        qc.check.checked_at,
    )


async def list_quality_checks(
    conn: DbConnection, dealer_id: str, repair_order_id: uuid.UUID
) -> list[RecordedQualityCheck]:
    """The RO's quality checks, first attempt first."""
    rows = await conn.fetch(
        "SELECT attempt, passed, checked_at, reasons::text AS reasons, repeat_failure,"
        " inspector_id, reached_customer FROM quality_checks"
        " WHERE dealer_id = $1 AND repair_order_id = $2 ORDER BY attempt",
        dealer_id,
        repair_order_id,
    )
    return [
        RecordedQualityCheck(
            check=QualityCheckRecord(
                attempt=row["attempt"],
                passed=row["passed"],
                checked_at=row["checked_at"],
                reasons=_strings(row["reasons"]),
                repeat_failure=row["repeat_failure"],
            ),
            inspector_id=row["inspector_id"],
            reached_customer=row["reached_customer"],
        )
        for row in rows
    ]


async def insert_declined_item(
    conn: DbConnection, dealer_id: str, item: DeclinedItemRecord
) -> None:
    await conn.execute(
        """
        INSERT INTO declined_items (dealer_id, repair_order_id, item_id, vin, description,
            amount, currency, declined_at, follow_up_on)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """,
        dealer_id,
        item.repair_order_id,
        item.item_id,
        item.vin,
        item.description,
        item.amount,
        item.currency,
        item.declined_at,
        item.follow_up_on,
    )


async def list_declined_items(
    conn: DbConnection, dealer_id: str, repair_order_id: uuid.UUID
) -> list[DeclinedItemRecord]:
    """The RO's declined lines, in the order they were declined."""
    rows = await conn.fetch(
        "SELECT repair_order_id, item_id, vin, description, amount, currency, declined_at,"
        " follow_up_on FROM declined_items WHERE dealer_id = $1 AND repair_order_id = $2"
        " ORDER BY declined_at, item_id",
        dealer_id,
        repair_order_id,
    )
    return [DeclinedItemRecord(**dict(row)) for row in rows]
