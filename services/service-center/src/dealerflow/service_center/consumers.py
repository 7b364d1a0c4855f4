"""Event handlers of the service-center service (thin: one use case each).

Subscribed topics: sales (VehicleDelivered: the owner's vehicle is registered for its
first maintenance); notifier (ConsentChanged: the consent in the customer's stored
contact snapshots is refreshed, ``usecases_consent``). The runtime subscribes it to the
leads topic for erasure on its own.
"""

from __future__ import annotations

from typing import Any

from dealerflow.contracts.envelope import Envelope
from dealerflow.contracts.events.notifier import ConsentChanged
from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.runtime.consumer import EventRouter, HandlerContext
from dealerflow.service_center import usecases_consent as consent
from dealerflow.service_center import usecases_maintenance as maintenance

#: Topics (contexts) the service-center service consumes.
CONTEXTS = ("sales", "notifier")

router = EventRouter()


@router.on(VehicleDelivered)
async def vehicle_delivered(ctx: HandlerContext, env: Envelope[Any]) -> None:
    await maintenance.register_delivered_vehicle(ctx, env.event)


@router.on(ConsentChanged)
async def consent_changed(ctx: HandlerContext, env: Envelope[ConsentChanged]) -> None:
    await consent.refresh_contact_consent(ctx, env.event)
