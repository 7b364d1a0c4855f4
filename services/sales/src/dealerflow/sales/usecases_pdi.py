"""The pre-delivery inspection of a contract's vehicle: record (replace) it and read it.
Delivery (:mod:`usecases_delivery`) reads the recorded PDI instead of a checkbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from dealerflow.runtime.context import UseCaseContext
from dealerflow.sales import domain
from dealerflow.sales import repository as repo
from dealerflow.sales import repository_pdi as repo_pdi
from dealerflow.sales.domain_pdi import PdiItem, PdiRecord, pdi_problems
from dealerflow.sales.settings import SalesSettings
from dealerflow.sales.usecases import (
    ContractNotFound,
    RequestRefused,
    locked_contract,
    require_active,
)
from dealerflow.sales.usecases_delivery import AlreadyDelivered


class PdiRefused(RequestRefused):
    """The PDI does not cover the standard items (or names one twice, or lies ahead)."""


class PdiNotFound(Exception):
    """No PDI is recorded for the contract."""


@dataclass(frozen=True)
class RecordPdi:
    """The inspection as the inspector went through it; replaces an earlier one."""

    dealer_id: str
    contract_id: uuid.UUID
    inspector_id: str
    inspected_at: datetime
    items: tuple[PdiItem, ...]


async def record_pdi(uc: UseCaseContext[SalesSettings], cmd: RecordPdi) -> PdiRecord:
    """Record the PDI of an active, not yet delivered contract (PdiRefused lists what the
    record lacks). Failed items are recorded: they block the delivery until a new PDI."""
    contract = await locked_contract(uc, cmd.dealer_id, cmd.contract_id)
    if contract.status is domain.ContractStatus.DELIVERED:
        raise AlreadyDelivered(f"contract {contract.id} was delivered already")
    require_active(contract, "take a PDI")
    if problems := pdi_problems(cmd.items, uc.now, cmd.inspected_at):
        raise PdiRefused(problems)
    pdi = PdiRecord(
        dealer_id=cmd.dealer_id,
        contract_id=str(cmd.contract_id),
        inspector_id=cmd.inspector_id,
        inspected_at=cmd.inspected_at,
        items=cmd.items,
        recorded_at=uc.now,
    )
    await repo_pdi.put_pdi(uc.conn, pdi)
    return pdi


async def get_pdi(
    uc: UseCaseContext[SalesSettings], dealer_id: str, contract_id: uuid.UUID
) -> PdiRecord:
    """The contract's recorded PDI (ContractNotFound / PdiNotFound otherwise); a read, so
    the contract is not locked."""
    if await repo.get_contract(uc.conn, dealer_id, contract_id) is None:
        raise ContractNotFound(contract_id)
    pdi = await repo_pdi.get_pdi(uc.conn, dealer_id, contract_id)
    if pdi is None:
        raise PdiNotFound(f"no PDI recorded for contract {contract_id}")
    return pdi
