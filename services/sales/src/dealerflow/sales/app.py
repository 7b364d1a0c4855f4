"""Wiring of the sales service (what it has; dealerflow.runtime.service runs it).

Sales reacts to no events, so it has no subscriptions; it still runs the outbox relay
(its events reach Kafka) and the timer poller (none registered yet).
"""

from __future__ import annotations

from dealerflow.runtime.service import ServiceDefinition
from dealerflow.sales import api, api_showroom
from dealerflow.sales.problems import PROBLEMS
from dealerflow.sales.settings import SalesSettings

DEFINITION = ServiceDefinition(
    name="sales",
    title="dealerflow sales",
    description="Quotes, test drives, contracts (versions, payments, invoice) and vehicle "
    "delivery. Publishes to the dealerflow.sales topic through a transactional outbox.",
    settings_factory=SalesSettings,
    migrations_package="dealerflow.sales.migrations",
    routers=lambda ctx: [api_showroom.router, api.router],
    problems=PROBLEMS,
)
