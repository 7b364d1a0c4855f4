"""Timer handlers of the notifier: kind -> handler, closures over the ServiceContext.

Kinds: ``notifier.task_due`` (a task's due time: status due + TaskDue),
``notifier.task_watch`` (first-contact warning at 80 % / escalation at breach / reassign
after the second breach, acting only while the watched task is open),
``notifier.reminder_send`` (a customer message falls due: contact policy, then channel)
and ``notifier.staff_alert`` (deliver a queued staff message).
"""

from __future__ import annotations

from collections.abc import Mapping

from dealerflow.contracts.events.base import DomainEvent
from dealerflow.notifier import usecases, usecases_tasks
from dealerflow.notifier.channels import ChannelRegistry
from dealerflow.notifier.effects import REMINDER_SEND, STAFF_ALERT, TASK_DUE, TASK_WATCH, Effects
from dealerflow.notifier.settings import notifier_settings
from dealerflow.notifier.usecases_alerts import deliver_staff_alert
from dealerflow.notifier.usecases_messages import send_reminder
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.service import ServiceContext
from dealerflow.runtime.timers import Timer, TimerHandler


def handlers(
    ctx: ServiceContext, channels: ChannelRegistry | None = None
) -> Mapping[str, TimerHandler]:
    """The notifier's timer handlers; ``channels`` defaults to the configured drivers."""
    settings = notifier_settings(ctx.settings)
    registry = channels or ChannelRegistry.from_settings(settings)

    def effects(conn: DbConnection) -> Effects:
        async def publish(event: DomainEvent) -> str:
            return await ctx.publish(conn, event)

        return Effects(conn=conn, clock=ctx.clock, settings=settings, publish=publish)

    async def task_due(conn: DbConnection, timer: Timer) -> None:
        await usecases_tasks.fire_task_due(effects(conn), timer.dealer_id, timer.payload)

    async def task_watch(conn: DbConnection, timer: Timer) -> None:
        await usecases.fire_watch(effects(conn), timer.dealer_id, timer.payload)

    async def reminder_send(conn: DbConnection, timer: Timer) -> None:
        await send_reminder(effects(conn), registry, timer.dealer_id, timer.payload)

    async def staff_alert(conn: DbConnection, timer: Timer) -> None:
        await deliver_staff_alert(effects(conn), registry, timer.dealer_id, timer.payload)

    return {
        TASK_DUE: task_due,
        TASK_WATCH: task_watch,
        REMINDER_SEND: reminder_send,
        STAFF_ALERT: staff_alert,
    }
