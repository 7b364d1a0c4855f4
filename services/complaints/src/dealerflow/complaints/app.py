"""Wiring of the complaints service (nothing connects here)."""

from __future__ import annotations

from dealerflow.complaints import (
    api,
    api_actions,
    api_analysis,
    api_clocks,
    api_improvements,
    api_investigation,
    consumers,
    timers,
)
from dealerflow.complaints.problems import PROBLEMS
from dealerflow.complaints.settings import ComplaintsSettings
from dealerflow.complaints.usecases_erasure import erase_customer
from dealerflow.runtime.service import ServiceDefinition, Subscription

DEFINITION = ServiceDefinition(
    name="complaints",
    title="dealerflow complaints",
    description=(
        "Customer complaints: recording, SLA clocks (acknowledge, resolve, inform) as "
        "durable timers, the escalation ladder, automatic complaints from dissatisfied "
        "callbacks, low survey scores and failed quality checks."
    ),
    settings_factory=ComplaintsSettings,
    migrations_package="dealerflow.complaints.migrations",
    routers=lambda ctx: [
        api_analysis.router,
        api.router,
        api_actions.router,
        api_clocks.router,
        api_investigation.router,
        api_improvements.router,
    ],
    subscriptions=lambda ctx: [Subscription("reactions", consumers.CONTEXTS, consumers.router)],
    timer_handlers=timers.handlers,
    problems=PROBLEMS,
    eraser=erase_customer,
)
