"""Finance's steps on a contract: confirming a payment a salesperson entered. Same shape
as :mod:`usecases`: a command in, the contract file out, refusals as exceptions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.idempotency import RequestKey
from dealerflow.sales import domain, domain_finance, repository_finance
from dealerflow.sales import repository as repo
from dealerflow.sales.records import ContractFile
from dealerflow.sales.settings import SalesSettings
from dealerflow.sales.usecases import locked_contract, step_replayed


class PaymentNotFound(LookupError):
    """No such payment on that contract."""

    def __init__(self, payment_id: uuid.UUID) -> None:
        super().__init__(f"No payment with id {payment_id} on this contract")


class RefundNotConfirmable(Exception):
    """A refund counts as soon as it is recorded; it has no confirmation step."""


@dataclass(frozen=True)
class ConfirmPayment:
    """Finance confirms that the money of an entered payment arrived."""

    dealer_id: str
    contract_id: uuid.UUID
    payment_id: uuid.UUID
    confirmed_by: str
    request: RequestKey | None = None


async def confirm_payment(uc: UseCaseContext[SalesSettings], cmd: ConfirmPayment) -> ContractFile:
    """Mark the payment confirmed (who, when): from now on it counts towards the balance.
    Confirming a confirmed payment changes nothing (the first confirmation stays)."""
    contract = await locked_contract(uc, cmd.dealer_id, cmd.contract_id)
    if (
        done := await step_replayed(uc, contract, cmd.request, f"confirm:{cmd.payment_id}")
    ) is not None:
        return done
    payments = await repo.list_payments(uc.conn, cmd.dealer_id, cmd.contract_id)
    payment = next((p for p in payments if p.id == cmd.payment_id), None)
    if payment is None:
        raise PaymentNotFound(cmd.payment_id)
    if payment.kind is domain.PaymentKind.REFUND:
        raise RefundNotConfirmable("a refund counts when it is recorded; nothing to confirm")
    confirmation = domain_finance.confirm(payment.confirmed, cmd.confirmed_by, uc.now)
    if confirmation is not None:
        await repository_finance.confirm_payment(
            uc.conn,
            cmd.dealer_id,
            payment.id,
            confirmed_by=confirmation.confirmed_by,
            confirmed_at=confirmation.confirmed_at,
        )
    return await repo.contract_file(uc.conn, contract)
