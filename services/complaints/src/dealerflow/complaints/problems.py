"""The complaints service's domain exceptions as RFC 9457 problems (installed by the
runtime for every route: the detail is the exception's message)."""

from __future__ import annotations

from dealerflow.complaints.domain import IllegalTransition
from dealerflow.complaints.domain_analysis import PeriodInverted
from dealerflow.complaints.domain_improvements import (
    ActionAlreadyDone,
    DueInThePast,
    ImprovementActionNotFound,
    UnknownComplaints,
)
from dealerflow.complaints.usecases import (
    ActionNotAllowed,
    ComplaintNotFound,
    ContactUnknown,
    RequestConflict,
)
from dealerflow.runtime.problems import ProblemMap, ProblemSpec

_UNPROCESSABLE = "Unprocessable request"

PROBLEMS: ProblemMap = {
    ComplaintNotFound: ProblemSpec(404, "not-found", "Complaint not found"),
    # with the complaint's status and the action tried (IllegalTransition.problem_extensions)
    IllegalTransition: ProblemSpec(409, "illegal-transition", "Illegal transition"),
    ActionNotAllowed: ProblemSpec(409, "action-not-allowed", "Conflict"),
    RequestConflict: ProblemSpec(422, "idempotency-key-reused", _UNPROCESSABLE),
    ContactUnknown: ProblemSpec(422, "validation-error", _UNPROCESSABLE),
    PeriodInverted: ProblemSpec(422, "validation-error", _UNPROCESSABLE),
    ImprovementActionNotFound: ProblemSpec(404, "not-found", "Improvement action not found"),
    ActionAlreadyDone: ProblemSpec(409, "already-done", "Conflict"),
    DueInThePast: ProblemSpec(422, "validation-error", _UNPROCESSABLE),
    UnknownComplaints: ProblemSpec(422, "validation-error", _UNPROCESSABLE),
}
