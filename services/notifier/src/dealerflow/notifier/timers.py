"""Timer handlers of the notifier: kind -> handler, closures over the ServiceContext.

Kinds: ``notifier.task_due`` (a task's due time: status due + TaskDue),
``notifier.task_watch`` (first-contact warning at 80 % / escalation at breach / reassign
after the second breach, acting only while the watched task is open),
``notifier.reminder_send`` (a customer message falls due: contact policy, then channel)
and ``notifier.staff_alert`` (deliver a queued staff message).
"""

from __future__ import annotations

from collections.abc import Mapping

from dealerflow.notifier import usecases, usecases_tasks
from dealerflow.notifier.channels import ChannelRegistry
from dealerflow.notifier.effects import REMINDER_SEND, STAFF_ALERT, TASK_DUE, TASK_WATCH, Effects
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases_alerts import deliver_staff_alert
from dealerflow.notifier.usecases_messages import send_reminder
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.service import ServiceContext, ServiceTimerHandler
from dealerflow.runtime.timers import Timer

Ctx = UseCaseContext[NotifierSettings]


def handlers(
    ctx: ServiceContext[NotifierSettings], channels: ChannelRegistry | None = None
) -> Mapping[str, ServiceTimerHandler]:
    """The notifier's timer handlers; ``channels`` defaults to the configured drivers."""
    registry = channels or ChannelRegistry.from_settings(ctx.settings)

    def effects(uc: Ctx) -> Effects:
        return Effects(conn=uc.conn, clock=uc.clock, settings=uc.settings, publish=uc.publish)

    async def task_due(uc: Ctx, timer: Timer) -> None:
        await usecases_tasks.fire_task_due(effects(uc), timer.dealer_id, timer.payload)

    async def task_watch(uc: Ctx, timer: Timer) -> None:
        await usecases.fire_watch(effects(uc), timer.dealer_id, timer.payload)

    async def reminder_send(uc: Ctx, timer: Timer) -> None:
        await send_reminder(effects(uc), registry, timer.dealer_id, timer.payload)

    async def staff_alert(uc: Ctx, timer: Timer) -> None:
        await deliver_staff_alert(effects(uc), registry, timer.dealer_id, timer.payload)

    return {
        TASK_DUE: task_due,
        TASK_WATCH: task_watch,
        REMINDER_SEND: reminder_send,
        STAFF_ALERT: staff_alert,
    }
