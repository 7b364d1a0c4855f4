"""The parts manager's reorder task (issue 12 item 3): opened by PartStockLow. Pure
rules, no I/O.

One open reorder task per part: a new crossing of the reorder point replaces the open
one (``usecases_parts``). The task is closed by the person who reorders (recording the
outcome), or cancelled when a receipt lifts the part above its reorder point
(PartStockReplenished)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from dealerflow.contracts.care_enums import RecordKind, TaskKind
from dealerflow.notifier.domain_task_texts import staff_text
from dealerflow.notifier.domain_types import PlannedTask, RecordRef, StaffRole


@dataclass(frozen=True, slots=True)
class StockLowFacts:
    """What the notifier needs of PartStockLow."""

    dealer_id: str
    customer_id: UUID  # the repair order's customer, or the dealer's house customer
    part_number: str
    description: str
    on_hand: int
    reorder_point: int
    detected_at: datetime


def reorder_task_prefix(part_number: str) -> str:
    """Business-key prefix of a part's reorder tasks."""
    return f"parts-reorder:{part_number}:"


def plan_reorder_task(facts: StockLowFacts) -> PlannedTask:
    """The parts manager's task, due at once (the dealer's holder of the role, else the
    placeholder ``parts-manager:<dealer>``). Keyed by the moment of detection: a
    redelivered event plans no second task."""
    detected = facts.detected_at.astimezone(UTC)
    return PlannedTask(
        key=f"{reorder_task_prefix(facts.part_number)}{detected.isoformat()}",
        kind=TaskKind.PARTS_REORDER,
        dealer_id=facts.dealer_id,
        customer_id=facts.customer_id,
        due_at=detected,
        assignee_role=StaffRole.PARTS_MANAGER,
        assignee_id=None,
        related=RecordRef(RecordKind.PART, facts.part_number),
        **staff_text(
            TaskKind.PARTS_REORDER,
            part_number=facts.part_number,
            description=facts.description,
            on_hand=facts.on_hand,
            reorder_point=facts.reorder_point,
        ),
    )
