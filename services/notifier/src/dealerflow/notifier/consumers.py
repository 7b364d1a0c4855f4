"""Reactions to the leads, sales, service and complaints topics (from any producer).

Handlers are thin: map the event to the planner's facts and call one use case with the
HandlerContext (the use-case context of the batch's transaction; events published through
it are caused by the incoming one). They only touch the database through it (the runtime
may re-run them).
"""

from __future__ import annotations

from typing import Any

from dealerflow.contracts.envelope import Envelope
from dealerflow.contracts.events.complaints import (
    ComplaintClosed,
    ComplaintEscalated,
    ComplaintResolved,
)
from dealerflow.contracts.events.leads import (
    LeadAssigned,
    LeadContacted,
    LeadConverted,
    LeadCreated,
    LeadLost,
)
from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.contracts.events.service import VehicleHandedOver
from dealerflow.notifier import usecases
from dealerflow.notifier.domain import (
    ComplaintEscalationFacts,
    DeliveryFacts,
    HandoverFacts,
    LeadFacts,
)
from dealerflow.runtime.consumer import EventRouter, HandlerContext

router = EventRouter()


@router.on(LeadCreated)
async def lead_created(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: LeadCreated = env.event
    facts = LeadFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        lead_id=event.lead_id,
        channel=event.channel.value,
        created_at=event.created_at,
        consultant_id=event.consultant_id,
    )
    await usecases.on_lead_created(hctx, facts, event.contact)


@router.on(LeadContacted)
async def lead_contacted(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: LeadContacted = env.event
    await usecases.on_lead_contacted(
        hctx,
        dealer_id=event.dealer_id,
        lead_id=event.lead_id,
        consultant_id=event.consultant_id,
        outcome=event.outcome,
        contacted_at=event.contacted_at,
    )


@router.on(LeadAssigned)
async def lead_assigned(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: LeadAssigned = env.event
    await usecases.on_lead_assigned(
        hctx,
        dealer_id=event.dealer_id,
        lead_id=event.lead_id,
        consultant_id=event.consultant_id,
    )


@router.on(LeadLost, LeadConverted)
async def lead_closed(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: LeadLost | LeadConverted = env.event
    await usecases.on_lead_closed(hctx, dealer_id=event.dealer_id, lead_id=event.lead_id)


@router.on(VehicleDelivered)
async def vehicle_delivered(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: VehicleDelivered = env.event
    facts = DeliveryFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        delivery_id=event.delivery_id,
        delivered_at=event.delivered_at,
        consultant_id=event.consultant_id,
        odometer_km=event.odometer_km,
    )
    await usecases.on_vehicle_delivered(hctx, facts, event.contact)


@router.on(VehicleHandedOver)
async def vehicle_handed_over(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: VehicleHandedOver = env.event
    facts = HandoverFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        repair_order_id=event.repair_order_id,
        handed_over_at=event.handed_over_at,
        advisor_id=event.advisor_id,
    )
    await usecases.on_vehicle_handed_over(hctx, facts, event.contact)


@router.on(ComplaintEscalated)
async def complaint_escalated(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: ComplaintEscalated = env.event
    facts = ComplaintEscalationFacts(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        complaint_id=event.complaint_id,
        level=event.level,
        role=event.to_role.value,
        clock=event.clock.value,
        escalated_at=event.escalated_at,
        to_staff_id=event.to_staff_id,
    )
    await usecases.on_complaint_escalated(hctx, facts, event.severity.value)


@router.on(ComplaintResolved, ComplaintClosed)
async def complaint_finished(hctx: HandlerContext, env: Envelope[Any]) -> None:
    event: ComplaintResolved | ComplaintClosed = env.event
    await usecases.on_complaint_finished(
        hctx, dealer_id=event.dealer_id, complaint_id=event.complaint_id
    )
