"""The dealers service's domain exceptions as RFC 9457 problems (installed by the runtime
for every route: the detail is the exception's message, ``errors`` / the current
``configuration_version`` come from the exception's ``problem_extensions``)."""

from __future__ import annotations

from dealerflow.dealers.domain import InvalidConfiguration
from dealerflow.dealers.usecases import PreconditionFailed
from dealerflow.runtime.problems import ProblemMap, ProblemSpec

PROBLEMS: ProblemMap = {
    InvalidConfiguration: ProblemSpec(422, "validation-error", "Invalid configuration"),
    PreconditionFailed: ProblemSpec(412, "precondition-failed", "Configuration changed meanwhile"),
}
