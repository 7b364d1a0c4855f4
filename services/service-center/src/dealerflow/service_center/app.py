"""Wiring of the service-center service (what it has; dealerflow.runtime.service runs it).

It consumes the sales topic (:mod:`consumers`: VehicleDelivered registers the owner's
vehicle), and the runtime subscribes it to the leads topic for CustomerErasureRequested,
which its eraser carries out. It runs the outbox relay (its events reach Kafka) and the
timer poller (:mod:`timers`: the maintenance reminder day, the daily retention scan,
planned at start-up for every dealer known here).
"""

from __future__ import annotations

from dealerflow.runtime.service import ServiceDefinition, Subscription
from dealerflow.service_center import api, api_appointments, api_parts, consumers, timers
from dealerflow.service_center.problems import PROBLEMS
from dealerflow.service_center.settings import ServiceCenterSettings
from dealerflow.service_center.usecases_erasure import erase_customer

DEFINITION = ServiceDefinition(
    name="service-center",
    title="dealerflow service-center",
    description="After-sales repair orders: check-in, diagnosis, quote, customer approval, "
    "work, quality check and handover. Publishes to the dealerflow.service topic through a "
    "transactional outbox.",
    settings_factory=ServiceCenterSettings,
    migrations_package="dealerflow.service_center.migrations",
    routers=lambda ctx: [
        api.router,
        api.vehicles_router,
        api_parts.router,
        api_appointments.router,
    ],
    problems=PROBLEMS,
    subscriptions=lambda ctx: [Subscription("reactions", consumers.CONTEXTS, consumers.router)],
    eraser=erase_customer,
    timer_handlers=timers.handlers,
    on_start=timers.plan_retention_scans,
)
