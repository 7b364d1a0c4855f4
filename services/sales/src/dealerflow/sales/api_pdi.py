"""A contract's pre-delivery inspection (/v1/contracts/{id}/pdi): the showroom records
(replaces) it before the handover, every staff member reads it (conventions and roles as
:mod:`api`). A PUT replaces the record, so it needs no Idempotency-Key."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from dealerflow.runtime.auth import Role, allow
from dealerflow.sales import usecases_pdi
from dealerflow.sales.api import CONFLICT, INVALID, NOT_FOUND, READERS, SHOWROOM, Ctx, DealerQuery
from dealerflow.sales.schemas_pdi import PdiIn, PdiOut

router = APIRouter(prefix="/v1")


@router.put(
    "/contracts/{contract_id}/pdi",
    response_model=PdiOut,
    responses={**NOT_FOUND, **INVALID, **CONFLICT},
    tags=["contracts"],
    summary="Record the pre-delivery inspection (replaces an earlier one)",
    dependencies=[allow(*SHOWROOM, Role.INTEGRATION)],
)
async def put_pdi(contract_id: uuid.UUID, body: PdiIn, ctx: Ctx) -> PdiOut:
    """Every standard item must be listed; a failed item blocks the delivery until a new
    PDI passes it."""
    cmd = body.command(contract_id)
    return PdiOut.of(await ctx.run_in_transaction(lambda uc: usecases_pdi.record_pdi(uc, cmd)))


@router.get(
    "/contracts/{contract_id}/pdi",
    response_model=PdiOut,
    responses={**NOT_FOUND},
    tags=["contracts"],
    summary="The contract's recorded pre-delivery inspection",
    dependencies=[allow(*READERS, Role.INTEGRATION)],
)
async def get_pdi(contract_id: uuid.UUID, dealer_id: DealerQuery, ctx: Ctx) -> PdiOut:
    return PdiOut.of(
        await ctx.run_in_transaction(lambda uc: usecases_pdi.get_pdi(uc, dealer_id, contract_id))
    )
