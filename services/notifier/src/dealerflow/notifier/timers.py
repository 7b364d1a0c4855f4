"""Timer handlers of the notifier: kind -> handler, each given the use-case context of the
poller's transaction (``uc``) and the timer (a batch handler: all due timers of its kind
in a claimed batch).

Kinds: ``notifier.task_due`` (a task's due time: status due + TaskDue, then the overdue
escalation's timer; a batch handler, :func:`batch_handlers`, as it falls due in bulk),
``notifier.task_watch`` (first-contact warning at 80 % / escalation at breach / reassign
after the second breach, acting only while the watched task is open),
``notifier.reminder_send`` (a customer message falls due: contact policy, then channel),
``notifier.staff_alert`` (deliver a queued staff message), ``notifier.task_overdue`` (a
task still open the dealer's ``task_overdue_escalate_after`` past its due time: a task and
an alert for the manager) and ``notifier.tier_review``
(counted service spend leaves a customer's tier window: review the tier) and
``notifier.survey_expiry`` (a survey link expires: the satisfaction callback if the survey
is unanswered) and ``notifier.holiday_greeting`` (the day before a dealer's holiday: a
greeting for every owner, then the next greeting's timer; :func:`plan_greetings` is the
app's ``on_start``) and ``notifier.weather_warning`` (a staff weather warning: a tip to
every owner not tipped lately).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from dealerflow.notifier import (
    usecases,
    usecases_greetings,
    usecases_surveys,
    usecases_task_actions,
    usecases_tasks,
    usecases_tiers,
    usecases_weather,
)
from dealerflow.notifier.channels import ChannelRegistry
from dealerflow.notifier.domain_alerts import REMINDER_SEND, STAFF_ALERT, TASK_DUE, TASK_WATCH
from dealerflow.notifier.domain_greetings import HOLIDAY_GREETING
from dealerflow.notifier.domain_surveys import SURVEY_EXPIRY
from dealerflow.notifier.domain_tiers import TIER_REVIEW
from dealerflow.notifier.domain_weather import WEATHER_WARNING
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases_alerts import deliver_staff_alert
from dealerflow.notifier.usecases_messages import send_reminder
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.db import ALL_DEALERS
from dealerflow.runtime.service import (
    ServiceBatchTimerHandler,
    ServiceContext,
    ServiceTimerHandler,
)
from dealerflow.runtime.timers import Timer

Uc = UseCaseContext[NotifierSettings]
log = logging.getLogger("dealerflow.notifier.timers")


def handlers(
    ctx: ServiceContext[NotifierSettings], channels: ChannelRegistry | None = None
) -> Mapping[str, ServiceTimerHandler]:
    """The notifier's timer handlers; ``channels`` defaults to the configured drivers."""
    registry = channels or ChannelRegistry.from_settings(ctx.settings)

    async def task_overdue(uc: Uc, timer: Timer) -> None:
        await usecases_task_actions.fire_overdue_escalation(uc, timer.dealer_id, timer.payload)

    async def task_watch(uc: Uc, timer: Timer) -> None:
        await usecases.fire_watch(uc, timer.dealer_id, timer.payload)

    async def reminder_send(uc: Uc, timer: Timer) -> None:
        await send_reminder(uc, registry, timer.dealer_id, timer.payload)

    async def staff_alert(uc: Uc, timer: Timer) -> None:
        await deliver_staff_alert(uc, registry, timer.dealer_id, timer.payload)

    async def survey_expiry(uc: Uc, timer: Timer) -> None:
        await usecases_surveys.fire_survey_expiry(uc, timer.dealer_id, timer.payload)

    async def tier_review(uc: Uc, timer: Timer) -> None:
        await usecases_tiers.fire_tier_review(uc, timer.dealer_id, timer.payload)

    async def holiday_greeting(uc: Uc, timer: Timer) -> None:
        await usecases_greetings.fire_holiday_greeting(uc, timer.dealer_id, timer.payload)

    async def weather_warning(uc: Uc, timer: Timer) -> None:
        await usecases_weather.fire_weather_warning(uc, timer.dealer_id, timer.payload)

    return {
        TASK_WATCH: task_watch,
        REMINDER_SEND: reminder_send,
        STAFF_ALERT: staff_alert,
        TIER_REVIEW: tier_review,
        usecases_task_actions.TASK_OVERDUE: task_overdue,
        SURVEY_EXPIRY: survey_expiry,
        HOLIDAY_GREETING: holiday_greeting,
        WEATHER_WARNING: weather_warning,
    }


def batch_handlers(ctx: ServiceContext[NotifierSettings]) -> Mapping[str, ServiceBatchTimerHandler]:
    """The notifier's hot timer kinds, a claimed batch at a time: one statement per table
    for all of a batch's timers of the kind (``notifier.task_due``: the tasks, the TaskDue
    outbox rows, the overdue escalations' timers)."""

    async def tasks_due(uc: Uc, due: Sequence[Timer]) -> None:
        tasks = await usecases_tasks.fire_tasks_due(uc, [(t.dealer_id, t.payload) for t in due])
        await usecases_task_actions.arm_overdue_escalations(uc, tasks)

    return {TASK_DUE: tasks_due}


async def plan_greetings(ctx: ServiceContext[NotifierSettings]) -> None:
    """At start-up: the next holiday greeting of every dealer known here that has none
    pending, in one transaction acting for every dealer."""
    planned = await ctx.run_in_transaction(
        usecases_greetings.plan_known_dealers_greetings, dealers=ALL_DEALERS
    )
    if planned:
        log.info("holiday greeting planned at start-up for %d dealer(s)", len(planned))
