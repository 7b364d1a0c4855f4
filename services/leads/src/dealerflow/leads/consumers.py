"""Reactions of the leads service to other contexts' events (topic ``<prefix>sales``).

ContractSigned -> the customer's lead becomes grade O (LeadGraded + LeadConverted);
VehicleDelivered -> grade D (closed). Works for events from any producer (an outside DMS
too): the lead is found by the event's lead_id, else by contract, else as the customer's
open lead; a sale without a lead (e.g. a walk-in never recorded) changes nothing.
"""

from __future__ import annotations

import logging
import uuid

from dealerflow.contracts.envelope import Envelope
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.events.sales import ContractSigned, VehicleDelivered
from dealerflow.leads import repository as repo
from dealerflow.leads import usecases_lifecycle as lifecycle
from dealerflow.leads.settings import LeadsSettings
from dealerflow.leads.usecases import LeadsContext
from dealerflow.runtime.consumer import EventRouter, HandlerContext
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.problems import Problem

_LOG = logging.getLogger("dealerflow.leads.consumers")

router = EventRouter()


def handler_context(hctx: HandlerContext) -> LeadsContext:
    """The use cases' view of a consumer handler: publish = the handler's publish
    (causation and correlation from the incoming event)."""
    settings = hctx.settings
    if not isinstance(settings, LeadsSettings):
        raise TypeError("the leads service needs LeadsSettings")

    async def publish(conn: DbConnection, event: DomainEvent) -> str:
        return await hctx.publish(event)

    return LeadsContext(settings=settings, clock=hctx.clock, publish=publish)


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None  # another system's lead id: not one of ours


@router.on(ContractSigned)
async def on_contract_signed(hctx: HandlerContext, env: Envelope[ContractSigned]) -> None:
    event = env.event
    lead = await repo.find_lead_for_sale(
        hctx.conn,
        event.dealer_id,
        event.customer_id,
        lead_id=_uuid_or_none(event.lead_id),
        contract_id=event.contract_id,
    )
    if lead is None:
        return
    try:
        await lifecycle.convert_lead(
            hctx.conn,
            handler_context(hctx),
            lead,
            contract_id=event.contract_id,
            converted_at=event.occurred_at,
        )
    except Problem as exc:  # e.g. a lost lead: the sale happened without it
        _LOG.info("ContractSigned %s leaves lead %s as is: %s", env.meta.id, lead.lead_id, exc)


@router.on(VehicleDelivered)
async def on_vehicle_delivered(hctx: HandlerContext, env: Envelope[VehicleDelivered]) -> None:
    event = env.event
    lead = await repo.find_lead_for_sale(
        hctx.conn, event.dealer_id, event.customer_id, contract_id=event.contract_id
    )
    if lead is None:
        return
    try:
        await lifecycle.mark_delivered(
            hctx.conn, handler_context(hctx), lead, contract_id=event.contract_id
        )
    except Problem as exc:
        _LOG.info("VehicleDelivered %s leaves lead %s as is: %s", env.meta.id, lead.lead_id, exc)
