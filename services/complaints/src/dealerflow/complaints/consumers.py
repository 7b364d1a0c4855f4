"""Event handlers of the complaints service (thin: the handler context is the use case's
context; one use case each).

Subscribed topics: notifier (TaskCompleted, SurveyResponded, ConsentChanged,
CustomerTierChanged), service
(QualityCheckFailed, RepairOrderOpened and VehicleHandedOver for repeat repairs and
investigations, contact snapshots), leads (contact snapshots) and sales (contact
snapshots; ContractSigned, VehicleDelivered and ContractCancelled for investigations).
Events with several handlers run them in registration order (the contact is remembered
first).
"""

from __future__ import annotations

from typing import Any

from dealerflow.complaints import usecases_investigation as investigation
from dealerflow.complaints import usecases_repairs as repairs
from dealerflow.complaints import usecases_tiers as tiers
from dealerflow.complaints import usecases_triggers as triggers
from dealerflow.contracts.envelope import Envelope
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.events.notifier import (
    ConsentChanged,
    CustomerTierChanged,
    SurveyResponded,
    TaskCompleted,
)
from dealerflow.contracts.events.sales import ContractCancelled, ContractSigned, VehicleDelivered
from dealerflow.contracts.events.service import (
    QualityCheckFailed,
    RepairOrderOpened,
    VehicleHandedOver,
)
from dealerflow.contracts.registry import EVENT_TYPES
from dealerflow.runtime.consumer import EventRouter, HandlerContext

#: Topics (contexts) the complaints service consumes.
CONTEXTS = ("notifier", "service", "leads", "sales")

#: Events of other contexts that carry a contact snapshot (the contact directory's source).
CONTACT_EVENTS: tuple[type[DomainEvent], ...] = tuple(
    sorted(
        (
            cls
            for cls in EVENT_TYPES.values()
            if "contact" in cls.model_fields and cls.context != "complaints"
        ),
        key=lambda cls: cls.event_type,
    )
)

router = EventRouter()


@router.on(*CONTACT_EVENTS)
async def remember_contact(ctx: HandlerContext, env: Envelope[Any]) -> None:
    await triggers.remember_contact(ctx, env.event)


@router.on(ConsentChanged)
async def consent_changed(ctx: HandlerContext, env: Envelope[ConsentChanged]) -> None:
    await triggers.apply_consent_change(ctx, env.event)


@router.on(TaskCompleted)
async def task_completed(ctx: HandlerContext, env: Envelope[TaskCompleted]) -> None:
    await triggers.on_task_completed(ctx, env.event, consumed=ctx)


@router.on(SurveyResponded)
async def survey_responded(ctx: HandlerContext, env: Envelope[SurveyResponded]) -> None:
    await triggers.on_survey_responded(ctx, env.event, consumed=ctx)


# Registered after remember_contact: a QualityCheckFailed carrying a contact (a future
# optional field) is remembered first.
@router.on(QualityCheckFailed)
async def quality_check_failed(ctx: HandlerContext, env: Envelope[QualityCheckFailed]) -> None:
    await triggers.on_quality_check_failed(ctx, env.event, consumed=ctx)


@router.on(RepairOrderOpened)
async def repair_order_opened(ctx: HandlerContext, env: Envelope[RepairOrderOpened]) -> None:
    await repairs.on_repair_order_opened(ctx, env.event)


@router.on(VehicleHandedOver)
async def vehicle_handed_over(ctx: HandlerContext, env: Envelope[VehicleHandedOver]) -> None:
    await repairs.on_vehicle_handed_over(ctx, env.event)


# Registered after remember_contact: the sale's contact is remembered first.
@router.on(ContractSigned)
async def contract_signed(ctx: HandlerContext, env: Envelope[ContractSigned]) -> None:
    await investigation.on_contract_signed(ctx, env.event)


@router.on(VehicleDelivered)
async def vehicle_delivered(ctx: HandlerContext, env: Envelope[VehicleDelivered]) -> None:
    await investigation.on_vehicle_delivered(ctx, env.event)


@router.on(ContractCancelled)
async def contract_cancelled(ctx: HandlerContext, env: Envelope[ContractCancelled]) -> None:
    await investigation.on_contract_cancelled(ctx, env.event)


@router.on(CustomerTierChanged)
async def customer_tier_changed(ctx: HandlerContext, env: Envelope[CustomerTierChanged]) -> None:
    await tiers.on_tier_changed(ctx, env.event)
