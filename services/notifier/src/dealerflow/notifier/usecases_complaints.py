"""Reactions to the complaints topic: the handler's task and the customer's "we received
it" message when a complaint opens, the task following a new handler, the handler's
alert at a breach, escalation tasks for the rungs of the ladder, and the verification
callback once it is resolved. Rules: :mod:`domain_complaints`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from dealerflow.contracts.care_enums import RecordKind, TaskCancelReason
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.notifier import domain_complaints as rules
from dealerflow.notifier import repository as repo
from dealerflow.notifier import repository_messages as msgs
from dealerflow.notifier.channels import STAFF_CHANNEL
from dealerflow.notifier.domain_alerts import (
    OEM_WEBHOOK_CHANNEL,
    StaffAlert,
    escalation_alert,
    goes_to_oem_webhook,
    oem_escalation_alert,
    timer_key,
)
from dealerflow.notifier.domain_complaints import ComplaintBreachFacts, ComplaintOpenedFacts
from dealerflow.notifier.domain_task_texts import AlertText
from dealerflow.notifier.domain_types import (
    ComplaintEscalationFacts,
    ComplaintFinishedFacts,
    PlannedItem,
    RecordRef,
    StaffRole,
)
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases import apply_plan, remember_contact
from dealerflow.notifier.usecases_alerts import queue_staff_alert
from dealerflow.notifier.usecases_tasks import cancel_tasks, schedule_task
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]


def _about(dealer_id: str, complaint_id: str) -> repo.TaskSelection:
    return repo.TaskSelection(dealer_id, related=(RecordKind.COMPLAINT.value, complaint_id))


async def on_complaint_opened(
    uc: Uc, opened: ComplaintOpenedFacts, contact: ContactSnapshot | None
) -> None:
    """The handler's task at once, and the customer's "we received it" message (once
    per complaint: a redelivery finds both keys planned)."""
    await remember_contact(uc, opened.dealer_id, opened.customer_id, contact, opened.opened_at)
    policy = await uc.policy(opened.dealer_id)
    plan: list[PlannedItem] = [
        rules.plan_handling_task(opened),
        rules.plan_received_message(opened, policy, uc.now),
    ]
    await apply_plan(uc, plan, contact)


async def on_complaint_reopened(uc: Uc, reopened: ComplaintOpenedFacts) -> None:
    """The customer is not satisfied: a new handling task for the handler (one per
    reopening)."""
    await schedule_task(uc, rules.plan_handling_task(reopened))


async def on_complaint_acknowledged(uc: Uc, dealer_id: str, complaint_id: str) -> None:
    """Acknowledged: the escalation tasks the acknowledge clock raised are moot."""
    selected = repo.TaskSelection(dealer_id, key_prefix=rules.escalation_key_prefix(complaint_id))
    moot = [
        t.business_key
        for t in await repo.open_tasks(uc.conn, selected)
        if rules.is_acknowledge_escalation(t.business_key)
    ]
    for key in moot:
        await cancel_tasks(
            uc, repo.TaskSelection(dealer_id, key_prefix=key), TaskCancelReason.NO_LONGER_NEEDED
        )


async def on_complaint_assigned(uc: Uc, dealer_id: str, complaint_id: str, handler_id: str) -> None:
    """A new handler takes over the open handling tasks (escalation tasks stay with the
    managers)."""
    await repo.reassign_open_tasks(
        uc.conn,
        _about(dealer_id, complaint_id),
        StaffRole.COMPLAINT_HANDLER.value,
        handler_id,
        uc.now,
    )


async def on_complaint_breached(uc: Uc, breach: ComplaintBreachFacts) -> None:
    """A staff message to the handler; once per clock deadline."""
    stamp = breach.due_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    key = f"{rules.complaint_key(breach.complaint_id)}breach:{breach.clock}@{stamp}"
    if await msgs.notification_exists(uc.conn, breach.dealer_id, key):
        return  # the same breach published again under a new event id
    await queue_staff_alert(
        uc,
        dealer_id=breach.dealer_id,
        customer_id=breach.customer_id,
        recipient=breach.handler_id,
        business_key=key,
        kind="complaint_sla_breach",
        alert=rules.breach_alert(breach),
        related=RecordRef(RecordKind.COMPLAINT, breach.complaint_id),
    )


async def on_complaint_escalated(
    uc: Uc, escalation: ComplaintEscalationFacts, severity: str
) -> None:
    """An alert task for the manager of the level, and a staff message to them; on the
    OEM/region rung of a dealer with ``people.oem_region.webhook_url`` the message is the
    webhook document, POSTed there (the task stays: the dealer's record of the escalation).

    Once per escalation: a redelivered (or re-published) ComplaintEscalated finds the task
    of its business key and queues nothing.
    """
    planned = rules.plan_complaint_escalation_alert(escalation)
    task = await schedule_task(uc, planned)
    if task is None:
        return
    dealer = await uc.dealer(escalation.dealer_id)
    alert: StaffAlert | AlertText
    if goes_to_oem_webhook(escalation, dealer.people.oem_region.webhook_url):
        channel = OEM_WEBHOOK_CHANNEL
        alert = oem_escalation_alert(
            escalation, severity, dealer.display_name(escalation.dealer_id)
        )
    else:
        channel = STAFF_CHANNEL
        alert = escalation_alert(
            escalation.complaint_id, escalation.level, escalation.clock, severity
        )
    await queue_staff_alert(
        uc,
        dealer_id=task.dealer_id,
        customer_id=task.customer_id,
        recipient=task.assignee,
        business_key=task.business_key,
        kind="complaint_escalation",
        alert=alert,
        related=planned.related,
        channel=channel,
    )


async def on_complaint_finished(uc: Uc, finished: ComplaintFinishedFacts) -> None:
    """A resolved or closed complaint needs no more alerts: cancel its open tasks/timers
    (the handling task, escalation tasks, a verification callback not yet made)."""
    dealer_id, complaint_id = finished.dealer_id, finished.complaint_id
    await uc.cancel_timers(timer_key(dealer_id, rules.complaint_key(complaint_id)))
    await cancel_tasks(uc, _about(dealer_id, complaint_id), TaskCancelReason.NO_LONGER_NEEDED)


async def on_complaint_resolved(
    uc: Uc, finished: ComplaintFinishedFacts, customer_id: uuid.UUID, resolved_at: datetime
) -> None:
    """Resolved: the complaint's open work is done, and customer relations' verification
    callback is planned (its outcome closes or reopens the complaint in complaints)."""
    await on_complaint_finished(uc, finished)
    policy = await uc.policy(finished.dealer_id)
    await schedule_task(
        uc,
        rules.plan_verification_task(
            finished.dealer_id, customer_id, finished.complaint_id, resolved_at, policy
        ),
    )
