"""Repair order use cases up to the customer's decision: check-in, diagnosis, quote,
approval. (Work, quality check and handover are in usecases_workshop.)

Each takes the request's connection (one transaction, committed by the endpoint) and the
service context, applies the domain rules, writes through the repository and enqueues
its events with ``ctx.publish`` in the same transaction. Illegal steps raise a 409
problem with the reason, broken rules a 422, before anything is published.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from dealerflow.contracts.events.service import (
    DiagnosisCompleted,
    RepairApproved,
    RepairItemDeclined,
    RepairOrderOpened,
    RepairQuoted,
)
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.idempotency import replayed_resource, request_key
from dealerflow.runtime.pagination import Page, decode_cursor, page_of
from dealerflow.runtime.service import ServiceContext
from dealerflow.service_center import domain
from dealerflow.service_center import repository as repo
from dealerflow.service_center.schemas import (
    DecisionIn,
    DiagnosisIn,
    OpenRepairOrderIn,
    RepairOrderDetail,
    RepairOrderSummary,
    RepairQuoteIn,
)
from dealerflow.service_center.support import (
    center_settings,
    conflict,
    customer_of,
    invalid,
    local_date,
    money,
    repair_order_not_found,
    require_step,
)
from dealerflow.service_center.views import (
    repair_items,
    repair_order_detail,
    repair_order_summary,
    repair_quote_of,
)

Row = dict[str, Any]


async def get_repair_order(
    conn: DbConnection, dealer_id: str, repair_order_id: uuid.UUID
) -> RepairOrderDetail:
    """The RO with its quote, checks and declined items (404 if not this dealer's)."""
    ro = await repo.get_repair_order(conn, dealer_id, repair_order_id)
    if ro is None:
        raise repair_order_not_found(repair_order_id)
    return await detail_of(conn, ro)


async def detail_of(conn: DbConnection, ro: Row) -> RepairOrderDetail:
    dealer_id, ro_id = ro["dealer_id"], ro["id"]
    return repair_order_detail(
        ro,
        quality_checks=await repo.list_quality_checks(conn, dealer_id, ro_id),
        declined_items=await repo.list_declined_items(conn, dealer_id, ro_id),
    )


async def locked(conn: DbConnection, dealer_id: str, repair_order_id: uuid.UUID) -> Row:
    """The RO, locked for the rest of the transaction (404 if not this dealer's)."""
    ro = await repo.get_repair_order(conn, dealer_id, repair_order_id, for_update=True)
    if ro is None:
        raise repair_order_not_found(repair_order_id)
    return ro


async def refreshed(conn: DbConnection, ro: Row) -> RepairOrderDetail:
    return await get_repair_order(conn, ro["dealer_id"], ro["id"])


async def list_repair_orders(
    conn: DbConnection,
    dealer_id: str,
    *,
    status: str | None = None,
    vin: str | None = None,
    advisor_id: str | None = None,
    customer_id: uuid.UUID | None = None,
    opened_from: datetime | None = None,
    opened_to: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[RepairOrderSummary]:
    """A page of the dealer's repair orders, newest first."""
    rows = await repo.list_repair_orders(
        conn,
        dealer_id,
        status=status,
        vin=vin.upper() if vin else None,
        advisor_id=advisor_id,
        customer_id=customer_id,
        opened_from=opened_from,
        opened_to=opened_to,
        after=decode_cursor(cursor, datetime, uuid.UUID),
        limit=limit + 1,
    )
    page, next_cursor = page_of(rows, limit, lambda r: (r["opened_at"], r["id"]))
    return Page[RepairOrderSummary](
        items=[repair_order_summary(r) for r in page], next_cursor=next_cursor
    )


async def open_repair_order(
    conn: DbConnection, ctx: ServiceContext[Any], cmd: OpenRepairOrderIn, idem_key: str | None
) -> tuple[RepairOrderDetail, bool]:
    """Check-in: classify the work (domain.classify_intake), RepairOrderOpened.
    (repair order, created); a retry with the same key or id opens nothing."""
    settings = center_settings(ctx)
    ro_id = cmd.repair_order_id or uuid.uuid4()
    earlier = await replayed_resource(
        conn,
        dealer_id=cmd.dealer_id,
        scope="repair-orders",
        key=request_key(idem_key, cmd.repair_order_id),
        body=cmd,
        resource_id=ro_id,
    )
    if earlier is not None:
        return await get_repair_order(conn, cmd.dealer_id, earlier), False
    customer_id, contact = customer_of(
        settings, cmd.customer, customer_id=cmd.customer_id, dealer_group=cmd.dealer_group
    )
    now = ctx.clock.now()
    under_warranty = cmd.warranty_start_on is not None and domain.is_under_warranty(
        cmd.warranty_start_on,
        cmd.mileage_km,
        local_date(settings, cmd.dealer_id, now),
        settings.warranty_months,
        settings.warranty_km,
    )
    intake = domain.classify_intake(cmd.concerns, under_warranty, cmd.work_type)
    raw_codes = cmd.concern_codes if cmd.concern_codes is not None else cmd.concerns
    codes = [c for c in dict.fromkeys(domain.normalise_concern(c) for c in raw_codes) if c]
    try:
        await repo.insert_repair_order(
            conn,
            {
                "dealer_id": cmd.dealer_id,
                "id": ro_id,
                "customer_id": customer_id,
                "service_appointment_id": cmd.service_appointment_id,
                "vin": cmd.vin,
                "model": cmd.model,
                "advisor_id": cmd.advisor_id,
                "work_type": intake.work_type.value,
                "under_warranty": under_warranty,
                "mileage_km": cmd.mileage_km,
                "concerns": cmd.concerns,
                "concern_codes": codes,
                "walk_around_findings": cmd.walk_around_findings,
                "contact": contact.model_dump(mode="json"),
                "opened_at": now,
            },
        )
    except asyncpg.UniqueViolationError:
        raise conflict(
            "Repair order id taken",
            f"repair order {ro_id} already exists (sent with another Idempotency-Key)",
            slug="repair-order-id-taken",
        ) from None
    await ctx.publish(
        conn,
        RepairOrderOpened(
            dealer_id=cmd.dealer_id,
            customer_id=customer_id,
            occurred_at=now,
            repair_order_id=str(ro_id),
            service_appointment_id=cmd.service_appointment_id,
            vin=cmd.vin,
            model=cmd.model,
            advisor_id=cmd.advisor_id,
            work_type=intake.work_type,
            mileage_km=cmd.mileage_km,
            concerns=cmd.concerns,
            concern_codes=codes,
            walk_around_findings=cmd.walk_around_findings,
            opened_at=now,
            contact=contact,
        ),
    )
    return await get_repair_order(conn, cmd.dealer_id, ro_id), True


async def record_diagnosis(
    conn: DbConnection, ctx: ServiceContext[Any], repair_order_id: uuid.UUID, cmd: DiagnosisIn
) -> RepairOrderDetail:
    """The technician's findings: DiagnosisCompleted."""
    ro = await locked(conn, cmd.dealer_id, repair_order_id)
    require_step(ro, domain.RepairOrderStep.DIAGNOSE)
    now = ctx.clock.now()
    diagnosis = {
        "technician_id": cmd.technician_id,
        "findings": cmd.findings,
        "completed_at": now.isoformat(),
    }
    await repo.update_repair_order(
        conn,
        cmd.dealer_id,
        repair_order_id,
        at=now,
        status=domain.RepairOrderStatus.DIAGNOSED.value,
        diagnosis=diagnosis,
    )
    await ctx.publish(
        conn,
        DiagnosisCompleted(
            dealer_id=cmd.dealer_id,
            customer_id=ro["customer_id"],
            occurred_at=now,
            repair_order_id=str(repair_order_id),
            technician_id=cmd.technician_id,
            findings=cmd.findings,
            completed_at=now,
        ),
    )
    return await refreshed(conn, ro)


async def quote_repair(
    conn: DbConnection, ctx: ServiceContext[Any], repair_order_id: uuid.UUID, cmd: RepairQuoteIn
) -> RepairOrderDetail:
    """Parts plus labour (standard hours x rate, domain.price_repair_quote): RepairQuoted.
    A new quote replaces an undecided one."""
    settings = center_settings(ctx)
    ro = await locked(conn, cmd.dealer_id, repair_order_id)
    require_step(ro, domain.RepairOrderStep.QUOTE)
    currency = cmd.currency or settings.default_currency
    stored: dict[str, Any] = {
        "quote_id": str(uuid.uuid4()),
        "currency": currency,
        "labour_rate": str(
            cmd.labour_rate if cmd.labour_rate is not None else settings.labour_rate_per_hour
        ),
        "lines": [line.model_dump(mode="json") for line in cmd.lines],
    }
    try:
        quote = repair_quote_of(stored)
    except domain.RepairQuoteError as exc:
        raise invalid("Quote refused", [str(exc)], slug="invalid-repair-quote") from None
    now = ctx.clock.now()
    await repo.update_repair_order(
        conn,
        cmd.dealer_id,
        repair_order_id,
        at=now,
        status=domain.RepairOrderStatus.QUOTED.value,
        quote=stored,
        currency=currency,
    )
    await ctx.publish(
        conn,
        RepairQuoted(
            dealer_id=cmd.dealer_id,
            customer_id=ro["customer_id"],
            occurred_at=now,
            repair_order_id=str(repair_order_id),
            quote_id=stored["quote_id"],
            items=repair_items(quote, currency),
            total=money(quote.total, currency),
            quoted_at=now,
        ),
    )
    return await refreshed(conn, ro)


async def record_decision(
    conn: DbConnection, ctx: ServiceContext[Any], repair_order_id: uuid.UUID, cmd: DecisionIn
) -> RepairOrderDetail:
    """The customer's answer to every quoted line: RepairApproved for what may be done,
    RepairItemDeclined for each declined line (kept, followed up after the policy delay)."""
    settings = center_settings(ctx)
    ro = await locked(conn, cmd.dealer_id, repair_order_id)
    require_step(ro, domain.RepairOrderStep.DECIDE)
    stored = ro["quote"]
    quote = repair_quote_of(stored)
    currency = stored["currency"]
    now = ctx.clock.now()
    policy = settings.dealer_policy(cmd.dealer_id)
    try:
        decision = domain.apply_customer_decision(
            quote,
            cmd.approved_item_ids,
            cmd.declined_item_ids,
            vin=ro["vin"],
            repair_order_id=str(repair_order_id),
            decided_at=now,
            follow_up_after=policy.service.declined_item_followup_after,
        )
    except domain.RepairQuoteError as exc:
        raise invalid("Decision refused", [str(exc)], slug="invalid-decision") from None
    if decision.undecided:
        undecided = [p.line.item_id for p in decision.undecided]
        raise invalid(
            "Decision incomplete",
            [f"approve or decline every quoted line; undecided: {', '.join(undecided)}"],
            slug="invalid-decision",
        )
    approved_ids = sorted(decision.approved_item_ids)
    await repo.update_repair_order(
        conn,
        cmd.dealer_id,
        repair_order_id,
        at=now,
        status=domain.status_after_decision(bool(approved_ids)).value,
        approved_item_ids=approved_ids,
        approved_total=decision.approved_total,
    )
    common = {"dealer_id": cmd.dealer_id, "customer_id": ro["customer_id"], "occurred_at": now}
    items = {item.item_id: item for item in repair_items(quote, currency)}
    if approved_ids:
        await ctx.publish(
            conn,
            RepairApproved(
                **common,
                repair_order_id=str(repair_order_id),
                quote_id=stored["quote_id"],
                approved_item_ids=approved_ids,
                approved_total=money(decision.approved_total, currency),
                method=cmd.method,
                approved_at=now,
            ),
        )
    for declined in decision.declined:
        follow_up_on = domain.follow_up_date(declined, policy.calendar.tz)
        await repo.insert_declined_item(
            conn,
            {
                "dealer_id": cmd.dealer_id,
                "repair_order_id": repair_order_id,
                "item_id": declined.item_id,
                "vin": declined.vin,
                "description": declined.description,
                "amount": declined.amount,
                "currency": currency,
                "declined_at": now,
                "follow_up_on": follow_up_on,
            },
        )
        await ctx.publish(
            conn,
            RepairItemDeclined(
                **common,
                repair_order_id=str(repair_order_id),
                quote_id=stored["quote_id"],
                item=items[declined.item_id],
                vin=ro["vin"],
                advisor_id=ro["advisor_id"],
                follow_up_on=follow_up_on,
                declined_at=now,
            ),
        )
    return await refreshed(conn, ro)
