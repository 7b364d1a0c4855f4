"""Event handlers of the complaints service (thin: the handler context is the use case's
context; one use case each).

Subscribed topics: notifier (TaskCompleted, SurveyResponded, ConsentChanged,
CustomerTierChanged), service
(QualityCheckFailed, RepairOrderOpened and VehicleHandedOver for repeat repairs and
investigations, contact snapshots), leads (contact snapshots) and sales (contact
snapshots; ContractSigned, VehicleDelivered and ContractCancelled for investigations).
Events with several handlers run them in registration order (the contact is remembered
first). The contact directory and the hot reactions (sales, repair orders) are batch
handlers: each run of consecutive events of one class in a Kafka batch is one use case
with one statement per table (`batches`); the rare reactions stay per event. A class has
handlers of one kind only, so every contact-carrying event's own reactions are batch
handlers too (the router refuses a mix at start-up).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from dealerflow.complaints import usecases_investigation as investigation
from dealerflow.complaints import usecases_repairs as repairs
from dealerflow.complaints import usecases_tiers as tiers
from dealerflow.complaints import usecases_triggers as triggers
from dealerflow.complaints.usecases import Run
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
from dealerflow.runtime.consumer import BatchContext, BatchHandler, EventRouter, HandlerContext

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


def _batch(use_case: Callable[[Run[Any]], Awaitable[None]]) -> BatchHandler:
    """The batch handler running ``use_case`` over the run's events, each with the
    use-case context of its own handling."""

    async def handle(ctx: BatchContext, envs: Sequence[Envelope[Any]]) -> None:
        await use_case(list(zip(ctx.event_contexts(), (env.event for env in envs), strict=True)))

    handle.__name__ = use_case.__name__
    return handle


router.on_batch(*CONTACT_EVENTS)(_batch(triggers.remember_contacts))


@router.on(ConsentChanged)
async def consent_changed(ctx: HandlerContext, env: Envelope[ConsentChanged]) -> None:
    await triggers.apply_consent_change(ctx, env.event)


@router.on(TaskCompleted)
async def task_completed(ctx: HandlerContext, env: Envelope[TaskCompleted]) -> None:
    await triggers.on_task_completed(ctx, env.event, consumed=ctx)


@router.on(SurveyResponded)
async def survey_responded(ctx: HandlerContext, env: Envelope[SurveyResponded]) -> None:
    await triggers.on_survey_responded(ctx, env.event, consumed=ctx)


# Per event: should QualityCheckFailed (or another trigger) ever carry a contact, it joins
# CONTACT_EVENTS and its handler must become a batch handler.
@router.on(QualityCheckFailed)
async def quality_check_failed(ctx: HandlerContext, env: Envelope[QualityCheckFailed]) -> None:
    await triggers.on_quality_check_failed(ctx, env.event, consumed=ctx)


# Registered after remember_contacts: the contact is remembered first.
router.on_batch(RepairOrderOpened)(_batch(repairs.on_repair_orders_opened))
router.on_batch(VehicleHandedOver)(_batch(repairs.on_vehicles_handed_over))
router.on_batch(ContractSigned)(_batch(investigation.on_contracts_signed))
router.on_batch(VehicleDelivered)(_batch(investigation.on_vehicles_delivered))


@router.on(ContractCancelled)
async def contract_cancelled(ctx: HandlerContext, env: Envelope[ContractCancelled]) -> None:
    await investigation.on_contract_cancelled(ctx, env.event)


@router.on(CustomerTierChanged)
async def customer_tier_changed(ctx: HandlerContext, env: Envelope[CustomerTierChanged]) -> None:
    await tiers.on_tier_changed(ctx, env.event)
