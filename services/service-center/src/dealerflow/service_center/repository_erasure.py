"""SQL of a customer's erasure (:mod:`usecases_erasure`): write back what the erasure
leaves of a repair order and its quality checks. Every statement is scoped by
``dealer_id = $1``, the customer (``customer_id = $2``) and the row.
"""

from __future__ import annotations

from dealerflow.runtime.db import DbConnection
from dealerflow.service_center.records import RepairOrderRecord


async def save_erased_order(conn: DbConnection, ro: RepairOrderRecord) -> None:
    """Write the contact and the free text of an erased RO (the diagnosis keeps its
    technician and time, only its findings change); nothing else."""
    await conn.execute(
        """
        UPDATE repair_orders
        SET contact = $4::jsonb, concerns = to_jsonb($5::text[]),
            concern_codes = to_jsonb($6::text[]), walk_around_findings = to_jsonb($7::text[]),
            diagnosis = CASE WHEN diagnosis IS NULL THEN NULL
                             ELSE jsonb_set(diagnosis, '{findings}', to_jsonb($8::text[])) END,
            work_summary = $9
        WHERE dealer_id = $1 AND customer_id = $2 AND id = $3
        """,
        ro.dealer_id,
        ro.customer_id,
        ro.id,
        ro.contact.model_dump_json(),
        list(ro.concerns),
        list(ro.concern_codes),
        list(ro.walk_around_findings),
        list(ro.diagnosis.findings) if ro.diagnosis is not None else [],
        ro.work_summary,
    )


async def save_quality_check_reasons(
    conn: DbConnection, ro: RepairOrderRecord, attempt: int, reasons: tuple[str, ...]
) -> None:
    """Write the reasons of one quality check of ``ro`` (a check of the customer's RO)."""
    await conn.execute(
        """
        UPDATE quality_checks q SET reasons = to_jsonb($4::text[])
        FROM repair_orders r
        WHERE r.dealer_id = $1 AND r.customer_id = $2 AND r.id = $3
          AND q.dealer_id = r.dealer_id AND q.repair_order_id = r.id AND q.attempt = $5
        """,
        ro.dealer_id,
        ro.customer_id,
        ro.id,
        list(reasons),
        attempt,
    )
