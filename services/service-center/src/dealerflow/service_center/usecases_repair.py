"""Repair order use cases before the work: diagnosis, quote, the customer's decision.
Same rules as :mod:`usecases`: one transaction, the domain's exceptions for an illegal
step or a broken rule, events through the outbox, a retried request done once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from decimal import Decimal

from dealerflow.contracts.enums import ApprovalMethod
from dealerflow.contracts.events.service import (
    DiagnosisCompleted,
    RepairApproved,
    RepairItemDeclined,
    RepairQuoted,
)
from dealerflow.contracts.money import money
from dealerflow.runtime.context import UseCaseContext
from dealerflow.service_center import domain, usecases_parts
from dealerflow.service_center import repository as repo
from dealerflow.service_center.domain import RepairOrderStatus, RepairOrderStep
from dealerflow.service_center.records import (
    DeclinedItemRecord,
    Diagnosis,
    RepairOrderDetails,
    RepairOrderRecord,
    StoredQuote,
)
from dealerflow.service_center.settings import ServiceCenterSettings
from dealerflow.service_center.usecases import RepairOrderCommand, begin_step, get_repair_order
from dealerflow.service_center.usecases_detailing import require_detailing_authorised


@dataclass(frozen=True, kw_only=True)
class RecordDiagnosis(RepairOrderCommand):
    technician_id: str
    findings: tuple[str, ...]


async def record_diagnosis(
    uc: UseCaseContext[ServiceCenterSettings], cmd: RecordDiagnosis
) -> RepairOrderDetails:
    """The technician's findings: DiagnosisCompleted."""
    ro = await begin_step(uc, cmd, RepairOrderStep.DIAGNOSE)
    if ro is not None:
        diagnosis = Diagnosis(cmd.technician_id, cmd.findings, uc.now)
        await repo.save_repair_order(
            uc.conn,
            replace(
                ro,
                status=RepairOrderStatus.DIAGNOSED,
                diagnosis=diagnosis,
                updated_at=uc.now,
            ),
        )
        await uc.publish(
            DiagnosisCompleted(
                dealer_id=ro.dealer_id,
                customer_id=ro.customer_id,
                occurred_at=uc.now,
                repair_order_id=str(ro.id),
                technician_id=cmd.technician_id,
                findings=list(cmd.findings),
                completed_at=uc.now,
            )
        )
    return await get_repair_order(uc, cmd.dealer_id, cmd.repair_order_id)


@dataclass(frozen=True, kw_only=True)
class QuoteRepair(RepairOrderCommand):
    lines: tuple[domain.QuoteLine, ...]
    labour_rate: Decimal | None = None  # default: the dealer's rate
    currency: str | None = None  # default: the service's currency


async def quote_repair(
    uc: UseCaseContext[ServiceCenterSettings], cmd: QuoteRepair
) -> RepairOrderDetails:
    """Parts plus labour (standard hours x rate, domain.price_repair_quote): RepairQuoted.
    A new quote replaces an undecided one."""
    ro = await begin_step(uc, cmd, RepairOrderStep.QUOTE)
    if ro is not None:
        rate = cmd.labour_rate
        if rate is None:
            rate = (await uc.policy(ro.dealer_id)).service.labour_rate_per_hour
        stored = StoredQuote(
            quote_id=str(uuid.uuid4()),
            currency=cmd.currency or uc.settings.default_currency,
            labour_rate=rate,
            lines=cmd.lines,
        )
        quote = stored.priced()  # RepairQuoteError before anything is written
        await repo.save_repair_order(
            uc.conn,
            replace(
                ro,
                status=RepairOrderStatus.QUOTED,
                quote=stored,
                currency=stored.currency,
                updated_at=uc.now,
            ),
        )
        await uc.publish(
            RepairQuoted(
                dealer_id=ro.dealer_id,
                customer_id=ro.customer_id,
                occurred_at=uc.now,
                repair_order_id=str(ro.id),
                quote_id=stored.quote_id,
                items=domain.repair_items(quote, stored.currency),
                total=money(quote.total, stored.currency),
                quoted_at=uc.now,
            )
        )
    return await get_repair_order(uc, cmd.dealer_id, cmd.repair_order_id)


@dataclass(frozen=True, kw_only=True)
class RecordDecision(RepairOrderCommand):
    """The customer's answer to the quote: every line approved or declined."""

    approved_item_ids: tuple[str, ...] = ()
    declined_item_ids: tuple[str, ...] = ()
    method: ApprovalMethod


async def record_decision(
    uc: UseCaseContext[ServiceCenterSettings], cmd: RecordDecision
) -> RepairOrderDetails:
    """The customer's answer to every quoted line: RepairApproved for what may be done,
    RepairItemDeclined for each declined line (kept, followed up after the policy delay)."""
    ro = await begin_step(uc, cmd, RepairOrderStep.DECIDE)
    if ro is not None:
        if cmd.approved_item_ids:  # the work is to start
            await require_detailing_authorised(uc, ro)
        await _apply_decision(uc, ro, cmd)
    return await get_repair_order(uc, cmd.dealer_id, cmd.repair_order_id)


async def _apply_decision(
    uc: UseCaseContext[ServiceCenterSettings], ro: RepairOrderRecord, cmd: RecordDecision
) -> None:
    stored = ro.quote
    assert stored is not None  # DECIDE is only allowed on a quoted repair order
    quote = stored.priced()
    policy = await uc.policy(ro.dealer_id)
    decision = domain.apply_customer_decision(
        quote,
        cmd.approved_item_ids,
        cmd.declined_item_ids,
        vin=ro.vin,
        repair_order_id=str(ro.id),
        decided_at=uc.now,
        follow_up_after=policy.service.declined_item_followup_after,
    )
    decision.require_every_line_decided()
    approved_ids = sorted(decision.approved_item_ids)
    await repo.save_repair_order(
        uc.conn,
        replace(
            ro,
            status=domain.status_after_decision(bool(approved_ids)),
            approved_item_ids=tuple(approved_ids),
            approved_total=decision.approved_total,
            updated_at=uc.now,
        ),
    )
    currency = stored.currency
    if approved_ids:
        await uc.publish(
            RepairApproved(
                dealer_id=ro.dealer_id,
                customer_id=ro.customer_id,
                occurred_at=uc.now,
                repair_order_id=str(ro.id),
                quote_id=stored.quote_id,
                approved_item_ids=approved_ids,
                approved_total=money(decision.approved_total, currency),
                method=cmd.method,
                approved_at=uc.now,
            )
        )
    lines = domain.repair_items(quote, currency)
    if approved_ids:
        await usecases_parts.reserve_for_approval(uc, ro, lines, approved_ids)
    items = {item.item_id: item for item in lines}
    for declined in decision.declined:
        follow_up_on = domain.follow_up_date(declined, policy.calendar.tz)
        await repo.insert_declined_item(
            uc.conn,
            ro.dealer_id,
            DeclinedItemRecord(
                repair_order_id=ro.id,
                item_id=declined.item_id,
                vin=declined.vin,
                description=declined.description,
                amount=declined.amount,
                currency=currency,
                declined_at=uc.now,
                follow_up_on=follow_up_on,
            ),
        )
        await uc.publish(
            RepairItemDeclined(
                dealer_id=ro.dealer_id,
                customer_id=ro.customer_id,
                occurred_at=uc.now,
                repair_order_id=str(ro.id),
                quote_id=stored.quote_id,
                item=items[declined.item_id],
                vin=ro.vin,
                advisor_id=ro.advisor_id,
                follow_up_on=follow_up_on,
                declined_at=uc.now,
            )
        )
