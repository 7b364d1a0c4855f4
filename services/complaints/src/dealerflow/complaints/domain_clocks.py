"""Complaint SLA clocks, pause/resume and the escalation ladder.

Which clocks count what (defaults of `ComplaintPolicy`, each a per-dealer `SlaSpec`):

| clock | critical | high | normal |
|---|---|---|---|
| acknowledge | 30 min wall time | 2 business hours | 1 business day |
| first_update | 4 h wall time | 1 business day | 3 business days |
| resolve | 24 h wall time | 3 business days | 7 business days |
| inform | 7 statutory working days (all severities, the law) | | |

The first-update clock is the dealer's own promise, tighter than the law's inform clock:
the first time the customer is told how the complaint is handled (recording that the
customer was informed, or resolving) meets both. It runs once, from opening: a reopened
complaint gets a fresh resolve clock only.

Critical complaints (safety, injury, media, regulator) run on wall time because they
cannot wait for opening hours; the others count the store's opening hours/days so that a
complaint received at night or before a holiday closure is not breached while nobody can
act. "Business day" deadlines fall at the same local time on the n-th open day (clamped to
closing); "working days" are statutory (Mon-Fri minus holidays plus make-up days).

Pausing (waiting on the customer) keeps the remaining time - real time for wall clocks,
business time otherwise - and re-applies it on resume. The legal inform clock does not
pause unless the dealer sets `complaints.inform_clock_pausable`.

Escalation: a complaint starts at level 0 (its handler). Each breach of any clock moves it
one rung up the ladder (1 department manager, 2 GM, 3 OEM/region) and re-arms the breached
clock for another SLA period, until the top rung is reached; after that nothing re-arms.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from dealerflow.contracts.care_enums import SlaClock
from dealerflow.policy import BusinessCalendar, ComplaintSla, DealerPolicy, SlaSpec


@dataclass(frozen=True, slots=True)
class Clock:
    """One SLA clock of a complaint.

    `reopen_count` counts reopenings (a reopened complaint gets a fresh resolve clock), `attempt`
    counts re-arms after breaches; both are part of the timer key so every arming is a
    distinct timer. While paused, `due_at` is None and `remaining` holds what is left.
    """

    kind: SlaClock
    sla: SlaSpec
    started_at: datetime
    due_at: datetime | None
    pausable: bool = True
    reopen_count: int = 0
    attempt: int = 0
    paused_at: datetime | None = None
    remaining: timedelta | None = None

    @property
    def paused(self) -> bool:
        """True while the clock is stopped waiting on the customer."""
        return self.paused_at is not None

    def key(self, complaint_id: str) -> str:
        """Business key of this arming's timer."""
        return (
            f"complaint:{complaint_id}:clock:{self.kind.value}:{self.reopen_count}.{self.attempt}"
        )

    def is_breached(self, now: datetime) -> bool:
        """True when the running clock's deadline has passed (a paused clock never is)."""
        return self.due_at is not None and now >= self.due_at


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """The rung a breach moves the complaint to."""

    level: int
    role: str  # EscalationRole value: department_manager, gm, oem_region


@dataclass(frozen=True, slots=True)
class BreachOutcome:
    """What a breach causes: the escalation (None at the top) and the re-armed clock."""

    escalation: EscalationStep | None
    rearmed: Clock | None


def _clock(
    kind: SlaClock,
    sla: SlaSpec,
    start: datetime,
    calendar: BusinessCalendar,
    *,
    pausable: bool = True,
    reopen_count: int = 0,
    attempt: int = 0,
) -> Clock:
    return Clock(
        kind=kind,
        sla=sla,
        started_at=start.astimezone(UTC),
        due_at=calendar.due(start, sla),
        pausable=pausable,
        reopen_count=reopen_count,
        attempt=attempt,
    )


def _sla_of(severity: str, policy: DealerPolicy) -> ComplaintSla:
    for name, sla in policy.complaints.sla.items():
        if name == severity:
            return sla
    raise ValueError(f"no SLA configured for severity {severity!r}")


def sla_clocks(severity: str, opened_at: datetime, policy: DealerPolicy) -> list[Clock]:
    """The acknowledge, first-update, resolve and inform clocks of a complaint opened at
    `opened_at`."""
    calendar = BusinessCalendar(policy)
    rules = policy.complaints
    sla = _sla_of(severity, policy)
    return [
        _clock(SlaClock.ACKNOWLEDGE, sla.acknowledge, opened_at, calendar),
        _clock(SlaClock.FIRST_UPDATE, sla.first_update, opened_at, calendar),
        _clock(SlaClock.RESOLVE, sla.resolve, opened_at, calendar),
        _clock(
            SlaClock.INFORM,
            rules.inform_customer,
            opened_at,
            calendar,
            pausable=rules.inform_clock_pausable,
        ),
    ]


def resolve_clock_on_reopen(
    severity: str, reopened_at: datetime, reopen_count: int, policy: DealerPolicy
) -> Clock:
    """A fresh resolve clock for a reopened complaint (a new timer key per reopening)."""
    sla = _sla_of(severity, policy).resolve
    return _clock(
        SlaClock.RESOLVE, sla, reopened_at, BusinessCalendar(policy), reopen_count=reopen_count
    )


def pause(clock: Clock, at: datetime, policy: DealerPolicy) -> Clock:
    """Stop a clock while waiting on the customer, keeping what is left of it.

    A clock that is not pausable (the legal inform clock by default) or already paused is
    returned unchanged.
    """
    if not clock.pausable or clock.paused or clock.due_at is None:
        return clock
    left = BusinessCalendar(policy).remaining(clock.sla.mode, at, clock.due_at)
    return replace(clock, due_at=None, paused_at=at.astimezone(UTC), remaining=left)


def resume(clock: Clock, at: datetime, policy: DealerPolicy) -> Clock:
    """Restart a paused clock at `at` with the time it had left; a running clock is
    returned unchanged."""
    if not clock.paused or clock.remaining is None:
        return clock
    due = BusinessCalendar(policy).extend(clock.sla.mode, at, clock.remaining)
    return replace(clock, due_at=due, paused_at=None, remaining=None)


def time_left(clock: Clock, now: datetime, policy: DealerPolicy) -> timedelta:
    """What is left of a clock at `now` as it counts - real time for wall clocks, business
    (or statutory working) time otherwise: the time a paused clock kept, else the time
    until its deadline (zero once the deadline has passed)."""
    if clock.paused:
        return clock.remaining if clock.remaining is not None else timedelta(0)
    if clock.due_at is None:
        return timedelta(0)
    return BusinessCalendar(policy).remaining(clock.sla.mode, now, clock.due_at)


def escalation_step(level: int, policy: DealerPolicy) -> EscalationStep | None:
    """The next rung above `level` (0 = handler), or None at the top of the ladder."""
    if level < 0:
        raise ValueError("escalation level cannot be negative")
    ladder = policy.complaints.escalation_ladder
    following = level + 1
    if following >= len(ladder):
        return None
    return EscalationStep(level=following, role=ladder[following])


def on_breach(
    clock: Clock, level: int, breached_at: datetime, policy: DealerPolicy
) -> BreachOutcome:
    """Escalate one rung and re-arm the breached clock for another SLA period from
    `breached_at`, as long as a further rung remains to escalate to."""
    step = escalation_step(level, policy)
    if step is None:
        return BreachOutcome(escalation=None, rearmed=None)
    rearmed = None
    if escalation_step(step.level, policy) is not None:
        rearmed = _clock(
            clock.kind,
            clock.sla,
            breached_at,
            BusinessCalendar(policy),
            pausable=clock.pausable,
            reopen_count=clock.reopen_count,
            attempt=clock.attempt + 1,
        )
    return BreachOutcome(escalation=step, rearmed=rearmed)
