"""Which repair-order step may happen in which state."""

from __future__ import annotations

import pytest

from dealerflow.service_center.domain import (
    RepairOrderStatus,
    RepairOrderStep,
    status_after_decision,
    status_after_quality_check,
    step_refusal,
)

S = RepairOrderStatus
STEP = RepairOrderStep


@pytest.mark.parametrize(
    ("status", "step"),
    [
        (S.OPEN, STEP.DIAGNOSE),
        (S.OPEN, STEP.QUOTE),
        (S.OPEN, STEP.COMPLETE),  # quick job agreed at check-in
        (S.DIAGNOSED, STEP.QUOTE),
        (S.QUOTED, STEP.QUOTE),  # re-quote before the customer decides
        (S.QUOTED, STEP.DECIDE),
        (S.APPROVED, STEP.COMPLETE),
        (S.REWORK, STEP.COMPLETE),
        (S.COMPLETED, STEP.QUALITY_CHECK),
        (S.READY, STEP.HAND_OVER),
        (S.COMPLETED, STEP.HAND_OVER),  # allowed to ask; can_hand_over then refuses
    ],
)
def test_allowed_steps(status: RepairOrderStatus, step: RepairOrderStep) -> None:
    assert step_refusal(status, step) is None


@pytest.mark.parametrize(
    ("status", "step", "reason"),
    [
        (S.QUOTED, STEP.COMPLETE, "only after the customer approves"),
        (S.DECLINED, STEP.COMPLETE, "declined all quoted work"),
        (S.OPEN, STEP.QUALITY_CHECK, "needs completed work"),
        (S.READY, STEP.QUALITY_CHECK, "already passed"),
        (S.REWORK, STEP.QUALITY_CHECK, "complete the rework first"),
        (S.OPEN, STEP.DECIDE, "no quote"),
        (S.APPROVED, STEP.QUOTE, "cannot quote"),
        (S.HANDED_OVER, STEP.HAND_OVER, "already handed over"),
        (S.HANDED_OVER, STEP.COMPLETE, "already handed over"),
    ],
)
def test_refused_steps_say_why(
    status: RepairOrderStatus, step: RepairOrderStep, reason: str
) -> None:
    refusal = step_refusal(status, step)
    assert refusal is not None
    assert reason in refusal


def test_every_step_is_refused_after_handover() -> None:
    assert all(step_refusal(S.HANDED_OVER, step) for step in RepairOrderStep)


def test_next_states() -> None:
    assert status_after_quality_check(True) is S.READY
    assert status_after_quality_check(False) is S.REWORK
    assert status_after_decision(True) is S.APPROVED
    assert status_after_decision(False) is S.DECLINED
