"""The parts reorder task: PartStockLow opens it for the dealer's parts manager,
replacing the part's open one; PartStockReplenished (a receipt lifted the part above its
reorder point) cancels the open one, no longer needed. Rules: :mod:`domain_parts`."""

from __future__ import annotations

from dealerflow.contracts.care_enums import TaskCancelReason
from dealerflow.notifier import domain_parts
from dealerflow.notifier import repository as repo
from dealerflow.notifier.domain_parts import StockLowFacts
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases_tasks import cancel_tasks, schedule_task
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]


async def on_part_stock_low(uc: Uc, facts: StockLowFacts) -> None:
    """The reorder task, once per crossing (a redelivery plans no second); an open
    reorder task of the same part from an earlier crossing is superseded."""
    planned = domain_parts.plan_reorder_task(facts)
    earlier = repo.TaskSelection(
        facts.dealer_id,
        key_prefix=domain_parts.reorder_task_prefix(facts.part_number),
        except_keys=(planned.key,),
    )
    await cancel_tasks(uc, earlier, TaskCancelReason.SUPERSEDED)
    await schedule_task(uc, planned)


async def on_part_stock_replenished(uc: Uc, dealer_id: str, part_number: str) -> None:
    """The part is back above its reorder point: its open reorder task is no longer
    needed (cancelled, TaskCancelled); nothing when none is open (a redelivery)."""
    open_ones = repo.TaskSelection(
        dealer_id, key_prefix=domain_parts.reorder_task_prefix(part_number)
    )
    await cancel_tasks(uc, open_ones, TaskCancelReason.NO_LONGER_NEEDED)
