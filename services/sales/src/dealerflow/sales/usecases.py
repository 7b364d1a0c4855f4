"""Contract use cases: sign, amend, cancel, read (payments and delivery: usecases_delivery).

Each takes the request's connection (one transaction, committed by the endpoint) and the
service context, applies the domain rules, writes through the repository and enqueues
its events with ``ctx.publish`` in the same transaction. Failures raise
:class:`~dealerflow.runtime.problems.Problem` before anything is published.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

import asyncpg

from dealerflow.contracts.events.sales import (
    ContractAmended,
    ContractCancelled,
    ContractSigned,
    RefundIssued,
)
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.idempotency import replayed_resource, request_key
from dealerflow.runtime.pagination import Page, decode_cursor, page_of
from dealerflow.runtime.service import ServiceContext
from dealerflow.sales import domain
from dealerflow.sales import repository as repo
from dealerflow.sales import repository_showroom as showroom_repo
from dealerflow.sales.schemas import (
    AmendContractIn,
    CancelContractIn,
    ContractDetail,
    ContractSummary,
    SignContractIn,
)
from dealerflow.sales.support import (
    conflict,
    contact_snapshot,
    contract_not_found,
    customer_of,
    invalid,
    local_today,
    money,
    sales_settings,
)
from dealerflow.sales.views import (
    contract_detail,
    contract_summary,
    ledger_of,
    payment_of,
    payment_terms,
    vehicle_of,
    version_of,
)

Row = dict[str, Any]

# Contract term (domain name) -> the API/event field it is published as.
_PUBLIC_FIELD = {
    "model": "vehicle.model",
    "configuration": "vehicle.configuration",
    "colour": "vehicle.colour",
    "vin": "vehicle.vin",
    "price": "price",
    "payment_plan": "payment",
    "payment_terms": "payment",
    "delivery_date": "planned_delivery_on",
    "address": "address",
}


async def get_contract_detail(
    conn: DbConnection, dealer_id: str, contract_id: uuid.UUID
) -> ContractDetail:
    """The contract with its ledger, payments, invoice, delivery and versions (404 if the
    dealer has no such contract)."""
    contract = await repo.get_contract(conn, dealer_id, contract_id)
    if contract is None:
        raise contract_not_found(contract_id)
    return await detail_of(conn, contract)


async def detail_of(conn: DbConnection, contract: Row) -> ContractDetail:
    dealer_id, contract_id = contract["dealer_id"], contract["id"]
    return contract_detail(
        contract,
        payments=await repo.list_payments(conn, dealer_id, contract_id),
        versions=await repo.list_contract_versions(conn, dealer_id, contract_id),
        invoice=await repo.get_invoice(conn, dealer_id, contract_id),
        delivery=await repo.get_delivery(conn, dealer_id, contract_id),
    )


async def locked(conn: DbConnection, dealer_id: str, contract_id: uuid.UUID) -> Row:
    contract = await repo.get_contract(conn, dealer_id, contract_id, for_update=True)
    if contract is None:
        raise contract_not_found(contract_id)
    return contract


def require_active(contract: Row, action: str) -> None:
    if contract["status"] != domain.ContractStatus.ACTIVE:
        raise conflict(
            "Contract not active",
            f"a {contract['status']} contract cannot {action}",
            slug="contract-not-active",
            status=contract["status"],
        )


async def list_contracts(
    conn: DbConnection,
    dealer_id: str,
    *,
    status: str | None = None,
    consultant_id: str | None = None,
    customer_id: uuid.UUID | None = None,
    vin: str | None = None,
    signed_from: datetime | None = None,
    signed_to: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ContractSummary]:
    """A page of the dealer's contracts, newest first."""
    rows = await repo.list_contracts(
        conn,
        dealer_id,
        status=status,
        consultant_id=consultant_id,
        customer_id=customer_id,
        vin=vin.upper() if vin else None,
        signed_from=signed_from,
        signed_to=signed_to,
        after=decode_cursor(cursor, datetime, uuid.UUID),
        limit=limit + 1,
    )
    page, next_cursor = page_of(rows, limit, lambda r: (r["signed_at"], r["id"]))
    return Page[ContractSummary](items=[contract_summary(r) for r in page], next_cursor=next_cursor)


async def sign_contract(
    conn: DbConnection, ctx: ServiceContext[Any], cmd: SignContractIn, idem_key: str | None
) -> tuple[ContractDetail, bool]:
    """Version 1 of a contract and ContractSigned; (contract, created). A retry with the
    same Idempotency-Key or contract_id returns the first contract and publishes nothing."""
    settings = sales_settings(ctx)
    contract_id = cmd.contract_id or uuid.uuid4()
    earlier = await replayed_resource(
        conn,
        dealer_id=cmd.dealer_id,
        scope="contracts",
        key=request_key(idem_key, cmd.contract_id),
        body=cmd,
        resource_id=contract_id,
    )
    if earlier is not None:
        return await get_contract_detail(conn, cmd.dealer_id, earlier), False

    customer_id, phone = customer_of(
        settings,
        customer_id=cmd.customer_id,
        dealer_group=cmd.dealer_group,
        raw_phone=cmd.customer.phone,
    )
    if (
        cmd.quote_id is not None
        and await showroom_repo.get_quote(conn, cmd.dealer_id, cmd.quote_id) is None
    ):
        raise invalid("Unknown quote", [f"no quote {cmd.quote_id} at this dealer"])
    now = ctx.clock.now()
    terms = domain.ContractTerms(
        model=cmd.vehicle.model,
        configuration=cmd.vehicle.configuration or "",
        colour=cmd.vehicle.colour or "",
        customer_name=cmd.customer.name,
        id_document_verified=cmd.customer.id_document_verified,
        phone=phone,
        address=cmd.customer.address,
        price=cmd.price.amount,
        payment_plan=domain.PaymentPlan(cmd.payment.method),
        delivery_date=cmd.planned_delivery_on,
        vin=cmd.vehicle.vin,
        payment_terms=payment_terms(cmd.payment),
    )
    problems = domain.validate_contract_terms(terms, local_today(settings, cmd.dealer_id, now))
    if problems:
        raise invalid("Contract cannot be signed", problems, slug="invalid-contract")
    contact = contact_snapshot(cmd.customer, phone)
    try:
        await repo.insert_contract(
            conn,
            {
                "dealer_id": cmd.dealer_id,
                "id": contract_id,
                "customer_id": customer_id,
                "quote_id": cmd.quote_id,
                "lead_id": cmd.lead_id,
                "consultant_id": cmd.consultant_id,
                "contact": contact.model_dump(mode="json"),
                "address": cmd.customer.address,
                "identity_verified": cmd.customer.id_document_verified,
                "model": terms.model,
                "configuration": terms.configuration,
                "colour": terms.colour,
                "vin": terms.vin,
                "price": cmd.price.amount,
                "currency": cmd.price.currency,
                "payment": cmd.payment.model_dump(mode="json"),
                "planned_delivery_on": cmd.planned_delivery_on,
                "signed_at": now,
            },
        )
    except asyncpg.UniqueViolationError:
        raise conflict(
            "Contract id taken",
            f"contract {contract_id} already exists (sent with another Idempotency-Key)",
            slug="contract-id-taken",
        ) from None
    await repo.insert_contract_version(
        conn,
        dealer_id=cmd.dealer_id,
        contract_id=contract_id,
        version=1,
        status="active",
        terms=cmd.model_dump(mode="json", exclude={"customer"}),
        changed_fields=[],
        reason=None,
        effective_at=now,
    )
    await ctx.publish(
        conn,
        ContractSigned(
            dealer_id=cmd.dealer_id,
            customer_id=customer_id,
            occurred_at=now,
            contract_id=str(contract_id),
            contract_version=1,
            quote_id=str(cmd.quote_id) if cmd.quote_id else None,
            lead_id=cmd.lead_id,
            consultant_id=cmd.consultant_id,
            vehicle=cmd.vehicle,
            price=cmd.price,
            payment=cmd.payment,
            planned_delivery_on=cmd.planned_delivery_on,
            identity_verified=cmd.customer.id_document_verified,
            signed_at=now,
            contact=contact,
        ),
    )
    return await get_contract_detail(conn, cmd.dealer_id, contract_id), True


async def amend_contract(
    conn: DbConnection, ctx: ServiceContext[Any], contract_id: uuid.UUID, cmd: AmendContractIn
) -> ContractDetail:
    """A new version with the changed terms (both sides agreed) and ContractAmended."""
    contract = await locked(conn, cmd.dealer_id, contract_id)
    require_active(contract, "be amended")
    if cmd.price is not None and cmd.price.currency != contract["currency"]:
        raise invalid("Currency cannot change", [f"the contract is in {contract['currency']}"])
    current = version_of(contract)
    vehicle = cmd.vehicle or vehicle_of(contract)
    payment = cmd.payment or payment_of(contract)
    new_terms = replace(
        current.terms,
        model=vehicle.model,
        configuration=vehicle.configuration or "",
        colour=vehicle.colour or "",
        vin=vehicle.vin,
        price=cmd.price.amount if cmd.price else current.terms.price,
        payment_plan=domain.PaymentPlan(payment.method),
        payment_terms=payment_terms(payment),
        delivery_date=cmd.planned_delivery_on or current.terms.delivery_date,
        address=cmd.address or current.terms.address,
    )
    now = ctx.clock.now()
    try:
        amended = domain.amend_contract(
            current,
            new_terms,
            customer_agreed=cmd.customer_agreed,
            dealer_agreed=cmd.dealer_agreed,
            at=now,
        )
    except domain.ContractError as exc:
        raise invalid("Amendment refused", str(exc).split("; "), slug="invalid-amendment") from None
    changed = list(
        dict.fromkeys(_PUBLIC_FIELD[f] for f in domain.changed_fields(current.terms, new_terms))
    )
    await repo.update_contract_terms(
        conn,
        cmd.dealer_id,
        contract_id,
        version=amended.version,
        model=new_terms.model,
        configuration=new_terms.configuration,
        colour=new_terms.colour,
        vin=new_terms.vin,
        price=new_terms.price,
        payment=payment.model_dump(mode="json"),
        planned_delivery_on=new_terms.delivery_date,
        address=new_terms.address,
        at=now,
    )
    await repo.insert_contract_version(
        conn,
        dealer_id=cmd.dealer_id,
        contract_id=contract_id,
        version=amended.version,
        status="active",
        terms=cmd.model_dump(mode="json", exclude_none=True),
        changed_fields=changed,
        reason=cmd.reason,
        effective_at=now,
    )
    await ctx.publish(
        conn,
        ContractAmended(
            dealer_id=cmd.dealer_id,
            customer_id=contract["customer_id"],
            occurred_at=now,
            contract_id=str(contract_id),
            contract_version=amended.version,
            changed_fields=changed,
            vehicle=vehicle,
            price=money(new_terms.price, contract["currency"]),
            payment=payment,
            planned_delivery_on=new_terms.delivery_date,
            reason=cmd.reason,
            amended_at=now,
        ),
    )
    return await get_contract_detail(conn, cmd.dealer_id, contract_id)


async def cancel_contract(
    conn: DbConnection, ctx: ServiceContext[Any], contract_id: uuid.UUID, cmd: CancelContractIn
) -> ContractDetail:
    """Cancel per policy: ContractCancelled with the refund due, and RefundIssued when
    anything is paid back (recorded in the ledger in the same transaction)."""
    settings = sales_settings(ctx)
    contract = await locked(conn, cmd.dealer_id, contract_id)
    require_active(contract, "be cancelled")
    payments = await repo.list_payments(conn, cmd.dealer_id, contract_id)
    ledger = ledger_of(contract, payments)
    try:
        refund = domain.cancellation_refund(
            ledger,
            domain.CancelledBy(cmd.cancelled_by),
            domain.CancellationPolicy(settings.forfeit_deposit_on_customer_cancellation),
            cmd.non_refundable_costs if cmd.non_refundable_costs is not None else 0,
        )
    except (TypeError, ValueError) as exc:
        raise invalid("Cancellation refused", [str(exc)]) from None
    now = ctx.clock.now()
    cancelled = domain.cancel_contract(version_of(contract), now)
    await repo.mark_contract_cancelled(
        conn, cmd.dealer_id, contract_id, version=cancelled.version, reason=cmd.reason, at=now
    )
    await repo.insert_contract_version(
        conn,
        dealer_id=cmd.dealer_id,
        contract_id=contract_id,
        version=cancelled.version,
        status="cancelled",
        terms=cmd.model_dump(mode="json", exclude_none=True),
        changed_fields=["status"],
        reason=cmd.reason,
        effective_at=now,
    )
    currency = contract["currency"]
    common = {
        "dealer_id": cmd.dealer_id,
        "customer_id": contract["customer_id"],
        "occurred_at": now,
    }
    await ctx.publish(
        conn,
        ContractCancelled(
            **common,
            contract_id=str(contract_id),
            reason=cmd.reason,
            refund_due=money(refund, currency),
            cancelled_at=now,
        ),
    )
    if refund > 0:
        refund_id = uuid.uuid4()
        await repo.insert_payment(
            conn,
            {
                "dealer_id": cmd.dealer_id,
                "id": refund_id,
                "contract_id": contract_id,
                "kind": domain.PaymentKind.REFUND.value,
                "method": None,
                "amount": refund,
                "currency": currency,
                "confirmed": True,
                "reason": cmd.reason,
                "recorded_at": now,
            },
        )
        await ctx.publish(
            conn,
            RefundIssued(
                **common,
                refund_id=str(refund_id),
                contract_id=str(contract_id),
                amount=money(refund, currency),
                reason=f"contract cancelled: {cmd.reason}",
                refunded_at=now,
            ),
        )
    return await get_contract_detail(conn, cmd.dealer_id, contract_id)


__all__ = [
    "amend_contract",
    "cancel_contract",
    "detail_of",
    "get_contract_detail",
    "list_contracts",
    "locked",
    "require_active",
    "sign_contract",
]
