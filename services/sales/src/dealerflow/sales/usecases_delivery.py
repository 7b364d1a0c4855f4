"""Contract use cases from money to keys: payments, invoice, delivery appointment and the
handover itself (VehicleDelivered). Same rules as :mod:`usecases`: one transaction,
problems before anything is published, events through the outbox."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import DeliveryDocument
from dealerflow.contracts.events.sales import (
    DeliveryScheduled,
    InvoiceIssued,
    PaymentReceived,
    VehicleDelivered,
)
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.idempotency import replayed_resource, request_key
from dealerflow.runtime.service import ServiceContext
from dealerflow.sales import domain
from dealerflow.sales import repository as repo
from dealerflow.sales.schemas import (
    ContractDetail,
    DeliverIn,
    InvoiceIn,
    PaymentIn,
    ScheduleDeliveryIn,
)
from dealerflow.sales.support import (
    conflict,
    invalid,
    money,
    sales_settings,
)
from dealerflow.sales.usecases import detail_of, get_contract_detail, locked, require_active
from dealerflow.sales.views import ledger_of


async def record_payment(
    conn: DbConnection,
    ctx: ServiceContext[Any],
    contract_id: uuid.UUID,
    cmd: PaymentIn,
    idem_key: str | None,
) -> tuple[ContractDetail, bool]:
    """A payment into the ledger and PaymentReceived; a retry records nothing."""
    payment_id = cmd.payment_id or uuid.uuid4()
    contract = await locked(conn, cmd.dealer_id, contract_id)
    earlier = await replayed_resource(
        conn,
        dealer_id=cmd.dealer_id,
        scope=f"payments:{contract_id}",
        key=request_key(idem_key, cmd.payment_id),
        body=cmd,
        resource_id=payment_id,
    )
    if earlier is not None:
        return await detail_of(conn, contract), False
    require_active(contract, "take payments")
    if cmd.amount.currency != contract["currency"]:
        raise invalid("Wrong currency", [f"the contract is in {contract['currency']}"])
    now = ctx.clock.now()
    ledger = ledger_of(contract, await repo.list_payments(conn, cmd.dealer_id, contract_id))
    try:
        ledger.record(
            domain.LedgerEntry(
                kind=domain.PaymentKind(cmd.kind.value),
                amount=cmd.amount.amount,
                at=now,
                confirmed=cmd.confirmed_by_finance,
            )
        )
    except domain.LedgerError as exc:
        raise invalid("Payment refused", [str(exc)], slug="invalid-payment") from None
    try:
        await repo.insert_payment(
            conn,
            {
                "dealer_id": cmd.dealer_id,
                "id": payment_id,
                "contract_id": contract_id,
                "kind": cmd.kind.value,
                "method": cmd.method.value,
                "amount": cmd.amount.amount,
                "currency": cmd.amount.currency,
                "confirmed": cmd.confirmed_by_finance,
                "reason": None,
                "recorded_at": now,
            },
        )
    except asyncpg.UniqueViolationError:
        raise conflict(
            "Payment id taken", f"payment {payment_id} already exists", slug="payment-id-taken"
        ) from None
    await ctx.publish(
        conn,
        PaymentReceived(
            dealer_id=cmd.dealer_id,
            customer_id=contract["customer_id"],
            occurred_at=now,
            payment_id=str(payment_id),
            contract_id=str(contract_id),
            kind=cmd.kind,
            method=cmd.method,
            amount=cmd.amount,
            confirmed_by_finance=cmd.confirmed_by_finance,
            received_at=now,
        ),
    )
    return await detail_of(conn, contract), True


async def issue_invoice(
    conn: DbConnection, ctx: ServiceContext[Any], contract_id: uuid.UUID, cmd: InvoiceIn
) -> ContractDetail:
    """The vehicle invoice (VAT included) and InvoiceIssued; one per contract. Repeating
    the same invoice number is a no-op, a different one is a conflict."""
    settings = sales_settings(ctx)
    contract = await locked(conn, cmd.dealer_id, contract_id)
    existing = await repo.get_invoice(conn, cmd.dealer_id, contract_id)
    if existing is not None:
        if existing["invoice_number"] == cmd.invoice_number:
            return await detail_of(conn, contract)
        raise conflict(
            "Already invoiced",
            f"contract {contract_id} was invoiced as {existing['invoice_number']}",
            slug="already-invoiced",
        )
    if contract["status"] == domain.ContractStatus.CANCELLED:
        raise conflict(
            "Contract cancelled",
            "a cancelled contract cannot be invoiced",
            slug="contract-not-active",
        )
    if await repo.invoice_number_taken(conn, cmd.dealer_id, cmd.invoice_number):
        raise conflict(
            "Invoice number taken",
            f"invoice number {cmd.invoice_number} is used by another contract",
            slug="invoice-number-taken",
        )
    currency = contract["currency"]
    amount = cmd.amount or money(contract["price"], currency)
    if amount.currency != currency:
        raise invalid("Wrong currency", [f"the contract is in {currency}"])
    vat_rate = settings.dealer_policy(cmd.dealer_id).sales.vat_rate
    tax = domain.round_money(amount.amount - amount.amount / (1 + vat_rate))
    now = ctx.clock.now()
    invoice_id = uuid.uuid4()
    await repo.insert_invoice(
        conn,
        {
            "dealer_id": cmd.dealer_id,
            "id": invoice_id,
            "contract_id": contract_id,
            "invoice_number": cmd.invoice_number,
            "invoice_title": cmd.invoice_title,
            "tax_number": cmd.tax_number,
            "amount": amount.amount,
            "tax_amount": tax,
            "currency": currency,
            "issued_at": now,
        },
    )
    await ctx.publish(
        conn,
        InvoiceIssued(
            dealer_id=cmd.dealer_id,
            customer_id=contract["customer_id"],
            occurred_at=now,
            invoice_id=str(invoice_id),
            contract_id=str(contract_id),
            invoice_number=cmd.invoice_number,
            invoice_title=cmd.invoice_title,
            tax_number=cmd.tax_number,
            amount=amount,
            tax_amount=money(tax, currency),
            issued_at=now,
        ),
    )
    return await detail_of(conn, contract)


async def schedule_delivery(
    conn: DbConnection, ctx: ServiceContext[Any], contract_id: uuid.UUID, cmd: ScheduleDeliveryIn
) -> ContractDetail:
    """Agree (or move) the handover appointment: DeliveryScheduled."""
    contract = await locked(conn, cmd.dealer_id, contract_id)
    require_active(contract, "be scheduled for delivery")
    if contract["vin"] is None:
        raise conflict(
            "No vehicle allocated",
            "allocate a VIN (amend the contract) before scheduling the delivery",
            slug="vin-not-assigned",
            missing=[domain.DeliveryBlocker.VIN_NOT_ASSIGNED.value],
        )
    now = ctx.clock.now()
    if cmd.scheduled_for <= now:
        raise invalid("Delivery in the past", ["scheduled_for must be in the future"])
    delivery_id = await repo.schedule_delivery(
        conn,
        dealer_id=cmd.dealer_id,
        delivery_id=uuid.uuid4(),
        contract_id=contract_id,
        scheduled_for=cmd.scheduled_for,
        location=cmd.location,
    )
    await ctx.publish(
        conn,
        DeliveryScheduled(
            dealer_id=cmd.dealer_id,
            customer_id=contract["customer_id"],
            occurred_at=now,
            delivery_id=str(delivery_id),
            contract_id=str(contract_id),
            vin=contract["vin"],
            model=contract["model"],
            scheduled_for=cmd.scheduled_for,
            location=cmd.location,
            consultant_id=contract["consultant_id"],
            contact=ContactSnapshot.model_validate(contract["contact"]),
        ),
    )
    return await detail_of(conn, contract)


async def deliver_vehicle(
    conn: DbConnection, ctx: ServiceContext[Any], contract_id: uuid.UUID, cmd: DeliverIn
) -> ContractDetail:
    """Hand the car over if domain.can_deliver passes: VehicleDelivered, owner care starts.

    Otherwise a 409 problem lists every missing item (``missing``) and nothing changes.
    An invoice issued here counts as the invoice document even if the checklist omits it.
    """
    contract = await locked(conn, cmd.dealer_id, contract_id)
    if contract["status"] == domain.ContractStatus.DELIVERED:
        raise conflict(
            "Already delivered",
            f"contract {contract_id} was delivered at {contract['delivered_at'].isoformat()}",
            slug="already-delivered",
        )
    ledger = ledger_of(contract, await repo.list_payments(conn, cmd.dealer_id, contract_id))
    documents = set(cmd.checklist.documents)
    if await repo.get_invoice(conn, cmd.dealer_id, contract_id) is not None:
        documents.add(DeliveryDocument.INVOICE)
    readiness = domain.can_deliver(
        domain.DeliveryChecklist(cmd.checklist.pdi_passed, frozenset(documents)),
        balance_due=ledger.balance_due,
        contract_status=domain.ContractStatus(contract["status"]),
        vin=contract["vin"],
    )
    if not readiness.ready:
        missing = [m.value for m in readiness.missing]
        raise conflict(
            "Vehicle not ready for delivery",
            "missing: " + ", ".join(missing),
            slug="delivery-not-ready",
            missing=missing,
            balance_due=money(ledger.balance_due, contract["currency"]).model_dump(mode="json"),
        )
    now = ctx.clock.now()
    handed_over = sorted(documents, key=list(DeliveryDocument).index)
    delivery_id = await repo.record_delivery(
        conn,
        dealer_id=cmd.dealer_id,
        delivery_id=uuid.uuid4(),
        contract_id=contract_id,
        delivered_at=now,
        odometer_km=cmd.odometer_km,
        checklist={"pdi_passed": True, "documents": [d.value for d in handed_over]},
    )
    await repo.mark_contract_delivered(conn, cmd.dealer_id, contract_id, at=now)
    await ctx.publish(
        conn,
        VehicleDelivered(
            dealer_id=cmd.dealer_id,
            customer_id=contract["customer_id"],
            occurred_at=now,
            delivery_id=str(delivery_id),
            contract_id=str(contract_id),
            vin=contract["vin"],
            model=contract["model"],
            delivered_at=now,
            consultant_id=contract["consultant_id"],
            odometer_km=cmd.odometer_km,
            pdi_passed=True,
            documents=handed_over,
            contact=ContactSnapshot.model_validate(contract["contact"]),
        ),
    )
    return await get_contract_detail(conn, cmd.dealer_id, contract_id)
