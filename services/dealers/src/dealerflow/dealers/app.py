"""Wiring of the dealers service (nothing connects here)."""

from __future__ import annotations

from dealerflow.dealers import api, api_groups, timers
from dealerflow.dealers.problems import PROBLEMS
from dealerflow.dealers.settings import DealersSettings
from dealerflow.runtime.service import ServiceDefinition

DEFINITION = ServiceDefinition(
    name="dealers",
    title="dealerflow dealers",
    description=(
        "The one owner of dealer configuration: each store's profile, business calendar, "
        "rules and people, dealer groups whose settings the stores inherit, versions and "
        "history; every change is published as DealerConfigured on the dealers topic."
    ),
    settings_factory=DealersSettings,
    migrations_package="dealerflow.dealers.migrations",
    routers=lambda ctx: [api.router, api_groups.router],
    timer_handlers=timers.handlers,
    problems=PROBLEMS,
)
