"""Which client-supplied times a service believes: ONE rule for consumed events and for
HTTP requests.

A time far ahead of the service's clock, or before ``consumer_min_event_time`` (2000),
cannot be true: a producer's broken clock or a typo (year 2999) would plan timers
decades away, put a contact in the future of every report, or sort a lead first forever.
A :class:`TimeBound` says how far ahead a time of one meaning may lie:

- :data:`EVENT_TIME`: ``consumer_max_event_lead_s`` (5 years). An event's ``time`` and
  ``occurred_at`` (the consumer dead-letters an event outside it,
  :func:`time_out_of_bounds`), a lead provider's ``requested_at``, and what is planned
  (an appointment, a due date, a delivery slot may be months ahead).
- :data:`PAST_TIME`: ``request_max_clock_skew_s`` (5 minutes). Something staff or a
  gateway record as having happened (contacted, arrived, inspected, signed): it cannot
  lie ahead of the clock beyond the skew between two machines' clocks.

Both refuse a time before ``consumer_min_event_time``. A calendar date (a due day, a
delivery day) is plausible when some moment of it, in some time zone, is: its day runs
from 10:00 UTC the day before (UTC+14) to 12:00 UTC the day after (UTC-12). Over HTTP the
bound is part of a field's type (``Annotated[UtcDatetime, PAST_TIME]``, the request types of
:mod:`dealerflow.runtime.request_models`): while a request is validated, the time is
compared with the service's clock (:func:`use_request_clock`, set for every request by
:func:`dealerflow.runtime.http.create_http_app`), and an implausible one is a 422
``validation-error`` whose error names the field (``["body", "contacted_at"]``, type
``implausible_time``) and the reason. Outside a request (a consumer or a timer building
the same models) the types check nothing: consumed events are checked by the consumer.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from fastapi.exceptions import RequestValidationError
from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from dealerflow.runtime.clock import Clock

if TYPE_CHECKING:
    from dealerflow.runtime.settings import ServiceSettings

__all__ = [
    "EVENT_TIME",
    "IMPLAUSIBLE_TIME",
    "PAST_TIME",
    "TimeBound",
    "check_request_time",
    "time_out_of_bounds",
    "use_request_clock",
]

#: The error type of an implausible time in a 422's ``errors``.
IMPLAUSIBLE_TIME = "implausible_time"

#: How far a day's moments lie from its 00:00 UTC: from UTC+14 to UTC-12 (a whole day).
_EARLIEST_ZONE = timedelta(hours=14)
_LATEST_ZONE = timedelta(days=1, hours=12)

#: The clock and settings requests are validated against (None: not in a request).
_REQUEST_CLOCK: ContextVar[tuple[Clock, ServiceSettings] | None] = ContextVar(
    "dealerflow_request_clock", default=None
)


@dataclass(frozen=True, slots=True)
class TimeBound:
    """Times of one meaning that are plausible: not before ``consumer_min_event_time``,
    not more than the setting ``max_lead_setting`` (seconds) ahead of the clock.

    Usable as pydantic metadata (``Annotated[UtcDatetime, PAST_TIME]``): the field is then
    checked while an HTTP request is validated (see the module docstring)."""

    max_lead_setting: str

    def max_lead(self, settings: ServiceSettings) -> timedelta:
        """How far ahead of the clock a time may lie, under ``settings``."""
        return timedelta(seconds=float(getattr(settings, self.max_lead_setting)))

    def refusal(
        self,
        value: datetime | date,
        now: datetime,
        settings: ServiceSettings,
        *,
        clock: str = "the service's clock",
    ) -> str | None:
        """Why ``value`` (a time, or a day) cannot be true at ``now`` (read on
        ``clock``), else None."""
        lead = self.max_lead(settings)
        earliest, latest = _moments(value)
        if earliest > now + lead:
            return (
                f"{value.isoformat()} is more than {lead.total_seconds():.0f} s ahead of "
                f"{clock} ({now.isoformat()}; {self.max_lead_setting})"
            )
        if latest < settings.consumer_min_event_time:
            return (
                f"{value.isoformat()} is before "
                f"{settings.consumer_min_event_time.isoformat()} (consumer_min_event_time)"
            )
        return None

    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._in_request, handler(source))

    def _in_request(self, value: Any) -> Any:
        if not isinstance(value, date) or (reason := _request_refusal(self, value)) is None:
            return value
        raise PydanticCustomError(IMPLAUSIBLE_TIME, "{reason}", {"reason": reason})


#: An event's time, an outside system's timestamp, or a plan: up to 5 years ahead.
EVENT_TIME = TimeBound("consumer_max_event_lead_s")
#: Something recorded as having happened: ahead of the clock by the clock skew at most.
PAST_TIME = TimeBound("request_max_clock_skew_s")


def _moments(value: datetime | date) -> tuple[datetime, datetime]:
    """The earliest and the latest moment ``value`` may mean."""
    if isinstance(value, datetime):
        return value, value
    midnight = datetime.combine(value, time(), UTC)
    earliest = midnight - _EARLIEST_ZONE if value > date.min else midnight
    latest = midnight + _LATEST_ZONE if value < date.max - timedelta(days=1) else midnight
    return earliest, latest


def time_out_of_bounds(
    name: str, value: datetime, now: datetime, settings: ServiceSettings
) -> str | None:
    """Why ``value`` (a time named ``name`` in a consumed record) cannot be true
    (:data:`EVENT_TIME` at ``now``, the consumer's clock); None when it is plausible."""
    reason = EVENT_TIME.refusal(value, now, settings, clock="the consumer's clock")
    return None if reason is None else f"event {name} {reason}"


def use_request_clock(clock: Clock, settings: ServiceSettings) -> None:
    """Validate the request times of the current context against ``clock`` and the
    bounds of ``settings`` (the HTTP app does this before every request's body is read)."""
    _REQUEST_CLOCK.set((clock, settings))


def _request_refusal(bound: TimeBound, value: datetime | date) -> str | None:
    current = _REQUEST_CLOCK.get()
    if current is None:
        return None
    clock, settings = current
    return bound.refusal(value, clock.now(), settings)


def check_request_time(loc: tuple[str, ...], value: datetime | None, bound: TimeBound) -> None:
    """Raise the 422 of an implausible request time ``value`` at ``loc`` (a value an
    endpoint parsed itself, e.g. a lead submission's ``requested_at``)."""
    if value is None or (reason := _request_refusal(bound, value)) is None:
        return
    raise RequestValidationError([{"loc": loc, "msg": reason, "type": IMPLAUSIBLE_TIME}])
