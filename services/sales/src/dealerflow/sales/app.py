"""Wiring of the sales service (what it has; dealerflow.runtime.service runs it).

Sales has no subscriptions of its own: the runtime subscribes it to the leads topic for
CustomerErasureRequested, which its eraser carries out. It runs the outbox relay (its
events reach Kafka) and the timer poller (none registered yet).
"""

from __future__ import annotations

from dealerflow.runtime.service import ServiceDefinition
from dealerflow.sales import (
    api,
    api_finance,
    api_pdi,
    api_quotes,
    api_showroom,
    api_test_drives,
    api_visits,
)
from dealerflow.sales.problems import PROBLEMS
from dealerflow.sales.settings import SalesSettings
from dealerflow.sales.usecases_erasure import erase_customer

DEFINITION = ServiceDefinition(
    name="sales",
    title="dealerflow sales",
    description="Quotes, test drives, contracts (versions, payments, invoice) and vehicle "
    "delivery. Publishes to the dealerflow.sales topic through a transactional outbox.",
    settings_factory=SalesSettings,
    migrations_package="dealerflow.sales.migrations",
    routers=lambda ctx: [
        api_quotes.router,
        api_showroom.router,
        api_test_drives.router,
        api_visits.router,
        api_finance.router,
        api_pdi.router,
        api.router,
    ],
    problems=PROBLEMS,
    eraser=erase_customer,
)
