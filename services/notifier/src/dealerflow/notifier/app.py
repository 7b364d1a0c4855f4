"""The notifier service: wiring only (see dealerflow.runtime.service)."""

from __future__ import annotations

from dealerflow.notifier import (
    api,
    api_calendar,
    api_consent,
    api_receipts,
    api_surveys,
    api_task_actions,
    api_tiers,
    api_unsubscribe,
    api_weather,
    consumers,
    timers,
)
from dealerflow.notifier.problems import PROBLEMS
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases_erasure import erase_customer
from dealerflow.runtime.service import ServiceDefinition, Subscription

DEFINITION = ServiceDefinition(
    name="notifier",
    title="dealerflow notifier",
    description=(
        "Staff tasks (callbacks, follow-ups, escalations) and customer messages planned "
        "from the events of any producer on the leads, sales, service and complaints topics."
    ),
    settings_factory=NotifierSettings,
    migrations_package="dealerflow.notifier.migrations",
    routers=lambda ctx: [
        api.router,
        api_tiers.router,
        api_task_actions.router,
        api_consent.router,
        api_unsubscribe.router,
        api_surveys.router,
        api_receipts.router,
        api_weather.router,
        api_calendar.router,
    ],
    subscriptions=lambda ctx: [
        Subscription("reactions", ("leads", "sales", "service", "complaints"), consumers.router),
        Subscription("consent", ("notifier",), consumers.consent_router),
    ],
    timer_handlers=lambda ctx: timers.handlers(ctx),
    timer_batch_handlers=timers.batch_handlers,
    on_start=timers.plan_greetings,
    problems=PROBLEMS,
    eraser=erase_customer,
)
