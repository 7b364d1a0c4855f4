"""The repair order's life: which step may happen in which state, and why not.

check-in (open) -> diagnosis -> quote -> customer decision -> work -> quality check ->
handover. A quick job (an oil change agreed at check-in) may go from open straight to
work; a failed quality check sends the vehicle back to work (rework). Whether the vehicle
may leave is decided by :func:`can_hand_over` over the RO's items; an RO whose work was
agreed at check-in without a quote counts as one approved item, :data:`WHOLE_JOB`, so the
quality check is required for it like for any quoted line.
"""

from __future__ import annotations

from enum import StrEnum


class RepairOrderStatus(StrEnum):
    OPEN = "open"  # checked in
    DIAGNOSED = "diagnosed"
    QUOTED = "quoted"  # waiting for the customer's decision
    APPROVED = "approved"  # work may start on the approved lines
    DECLINED = "declined"  # the customer declined every quoted line: nothing to do
    COMPLETED = "completed"  # work done, quality check pending
    REWORK = "rework"  # the quality check failed: back to work
    READY = "ready"  # quality check passed: ready for handover
    HANDED_OVER = "handed_over"


class RepairOrderStep(StrEnum):
    DIAGNOSE = "diagnose"
    QUOTE = "quote"
    DECIDE = "decide"  # the customer approves/declines quoted lines
    COMPLETE = "complete"
    QUALITY_CHECK = "quality_check"
    HAND_OVER = "hand_over"


#: The item id that stands for "the job agreed at check-in" when there is no quote.
WHOLE_JOB = "whole-job"

_S = RepairOrderStatus
_ALLOWED: dict[RepairOrderStep, frozenset[RepairOrderStatus]] = {
    RepairOrderStep.DIAGNOSE: frozenset({_S.OPEN, _S.DIAGNOSED}),
    RepairOrderStep.QUOTE: frozenset({_S.OPEN, _S.DIAGNOSED, _S.QUOTED}),
    RepairOrderStep.DECIDE: frozenset({_S.QUOTED}),
    RepairOrderStep.COMPLETE: frozenset({_S.OPEN, _S.DIAGNOSED, _S.APPROVED, _S.REWORK}),
    RepairOrderStep.QUALITY_CHECK: frozenset({_S.COMPLETED}),
    # Handover readiness itself is can_hand_over's call (work, QC, settlement, invoice).
    RepairOrderStep.HAND_OVER: frozenset(set(_S) - {_S.HANDED_OVER}),
}

# Why a step is refused, for the states where the general sentence would not help.
_REASONS: dict[tuple[RepairOrderStep, RepairOrderStatus], str] = {
    (RepairOrderStep.COMPLETE, _S.QUOTED): "work starts only after the customer approves the quote",
    (RepairOrderStep.COMPLETE, _S.DECLINED): "the customer declined all quoted work",
    (RepairOrderStep.COMPLETE, _S.COMPLETED): "the work is already completed; the quality "
    "check is next",
    (RepairOrderStep.QUALITY_CHECK, _S.READY): "the repair order already passed its quality check",
    (RepairOrderStep.QUALITY_CHECK, _S.REWORK): "the last quality check failed: complete "
    "the rework first",
    (RepairOrderStep.DECIDE, _S.OPEN): "there is no quote to decide on",
    (RepairOrderStep.DECIDE, _S.DIAGNOSED): "there is no quote to decide on",
}


def step_refusal(status: RepairOrderStatus, step: RepairOrderStep) -> str | None:
    """Why ``step`` may not happen to a repair order in ``status`` (None = it may)."""
    if status in _ALLOWED[step]:
        return None
    if status is RepairOrderStatus.HANDED_OVER:
        return "the vehicle was already handed over"
    specific = _REASONS.get((step, status))
    if specific:
        return specific
    if step is RepairOrderStep.QUALITY_CHECK:
        return f"a quality check needs completed work (the repair order is {status})"
    return f"a repair order that is {status} cannot {step.value.replace('_', ' ')}"


class BrokenRule(ValueError):
    """The request breaks a rule of the repair order; ``errors`` say which (a 422)."""

    def __init__(self, *errors: str) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors

    @property
    def problem_extensions(self) -> dict[str, object]:
        return {"errors": list(self.errors)}


class IllegalStep(Exception):
    """``step`` may not happen to a repair order in ``status``; the message says why."""

    def __init__(self, status: RepairOrderStatus, step: RepairOrderStep, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.step = step

    @property
    def problem_extensions(self) -> dict[str, object]:
        return {"repair_order_status": self.status.value, "step": self.step.value}


def require_step(status: RepairOrderStatus, step: RepairOrderStep) -> None:
    """Raise :class:`IllegalStep` with the reason when ``step`` is refused in ``status``."""
    reason = step_refusal(status, step)
    if reason is not None:
        raise IllegalStep(status, step, reason)


def status_after_quality_check(passed: bool) -> RepairOrderStatus:
    return RepairOrderStatus.READY if passed else RepairOrderStatus.REWORK


def status_after_decision(any_approved: bool) -> RepairOrderStatus:
    return RepairOrderStatus.APPROVED if any_approved else RepairOrderStatus.DECLINED
