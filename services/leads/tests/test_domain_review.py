"""Reopening a lead (the live grade it goes back to) and the review rules."""

import pytest

from dealerflow.leads.domain import Grade, LeadRejected
from dealerflow.leads.domain_review import (
    cancellation_note,
    check_review,
    fit_note,
    live_grade_before,
    reopen_grade,
)


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ([], Grade.A),  # nothing known: A
        ([Grade.N], Grade.A),  # never graded: A
        ([Grade.N, Grade.H], Grade.H),
        ([Grade.N, Grade.C, Grade.B, Grade.F], Grade.B),  # lost from B
        ([Grade.N, Grade.H, Grade.O], Grade.H),  # converted from H
        ([Grade.N, Grade.B, Grade.O, Grade.A, Grade.O], Grade.A),  # reopened at A, then O
    ],
)
def test_the_last_live_grade_of_the_history(history: list[Grade], expected: Grade) -> None:
    assert live_grade_before(history) is expected


def test_a_requested_grade_wins_when_live() -> None:
    assert reopen_grade(Grade.C, [Grade.H]) is Grade.C
    assert reopen_grade(None, [Grade.H]) is Grade.H


@pytest.mark.parametrize("grade", [Grade.N, Grade.O, Grade.D, Grade.F])
def test_a_reopened_lead_never_goes_to_a_grade_off_the_cadence(grade: Grade) -> None:
    with pytest.raises(LeadRejected, match="live grade"):
        reopen_grade(grade, [Grade.H])


def test_reopening_needs_a_note_and_approving_takes_no_grade() -> None:
    check_review("approve", None, None)
    check_review("reopen", "customer called back, still interested", Grade.A)
    with pytest.raises(LeadRejected, match="needs a note"):
        check_review("reopen", "  ", None)
    with pytest.raises(LeadRejected, match="keeps grade F"):
        check_review("approve", "fine", Grade.B)


def test_the_cancellation_note_fits_a_grade_note() -> None:
    assert (
        cancellation_note("k-9", " financing refused ")
        == "contract k-9 cancelled: financing refused"
    )
    long = cancellation_note("k-9", "x" * 4000)
    assert len(long) == 2000
    assert long.endswith("\u2026")


def test_a_note_from_another_context_is_cut_to_fit() -> None:
    assert fit_note("short") == "short"
    assert fit_note("x" * 2000) == "x" * 2000
    assert fit_note("x" * 2001) == "x" * 1999 + "\u2026"
