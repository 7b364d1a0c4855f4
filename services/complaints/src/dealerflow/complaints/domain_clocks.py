"""Complaint SLA clocks, pause/resume and the escalation ladder.

Which clocks count what (defaults of `ComplaintPolicy`, each a per-dealer `SlaSpec`):

| clock | critical | high | normal |
|---|---|---|---|
| acknowledge | 30 min wall time | 2 business hours | 1 business day |
| first_update | 4 h wall time | 1 business day | 3 business days |
| resolve | 24 h wall time | 3 business days | 7 business days |
| inform | 7 statutory working days (all severities, the law) | | |

Tiers: a complaint takes the customer's tier (VIP / key / regular, from the notifier's
CustomerTierChanged; a customer never tiered is regular) when it is opened, and its
acknowledge, first-update and resolve SLAs are scaled by the dealer's
`complaints.tier_sla_factors` (default vip 0.5, key 0.75, regular 1) - also the resolve
clock of a reopening and every re-arm after a breach. The legal inform clock is not
scaled. Wall and business-hours SLAs scale exactly (to the second); day-counted SLAs
round to whole days, half up, at least one day (normal's 7 business days to resolve: 4
for a VIP, 5 for a key customer).

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
from decimal import ROUND_HALF_UP, Decimal

from dealerflow.contracts.care_enums import SlaClock
from dealerflow.policy import BusinessCalendar, ClockMode, ComplaintSla, DealerPolicy, SlaSpec


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


_DAY_MODES = frozenset({ClockMode.BUSINESS_DAYS, ClockMode.WORKING_DAYS})


def scaled_sla(sla: SlaSpec, factor: Decimal) -> SlaSpec:
    """`sla` shortened by a tier's `factor`: wall and business-hours durations exactly (to
    the second), day-counted ones to whole days, half up, at least one day."""
    if factor == 1:
        return sla
    if sla.mode in _DAY_MODES:
        days = (Decimal(sla.duration.days) * factor).quantize(Decimal(1), ROUND_HALF_UP)
        return _with_duration(sla, timedelta(days=max(int(days), 1)))
    seconds = (Decimal(str(sla.duration.total_seconds())) * factor).quantize(
        Decimal(1), ROUND_HALF_UP
    )
    return _with_duration(sla, timedelta(seconds=int(seconds)))


def _with_duration(sla: SlaSpec, duration: timedelta) -> SlaSpec:
    """`sla` with another duration (same mode)."""
    return SlaSpec(duration=duration, mode=sla.mode)


def _tier_factor(tier: str | None, policy: DealerPolicy) -> Decimal:
    """The dealer's SLA factor of a customer tier (no tier known: regular)."""
    wanted = tier or "regular"
    for name, factor in policy.complaints.tier_sla_factors.items():
        if name == wanted:
            return factor
    return Decimal(1)


def _sla_of(severity: str, policy: DealerPolicy, tier: str | None = None) -> ComplaintSla:
    """The severity's SLAs, the tier-scaled ones (not the legal inform) shortened."""
    for name, sla in policy.complaints.sla.items():
        if name == severity:
            factor = _tier_factor(tier, policy)
            return ComplaintSla(
                acknowledge=scaled_sla(sla.acknowledge, factor),
                resolve=scaled_sla(sla.resolve, factor),
                first_update=scaled_sla(sla.first_update, factor),
            )
    raise ValueError(f"no SLA configured for severity {severity!r}")


def sla_clocks(
    severity: str, opened_at: datetime, policy: DealerPolicy, tier: str | None = None
) -> list[Clock]:
    """The acknowledge, first-update, resolve and inform clocks of a complaint opened at
    `opened_at` for a customer of `tier` (None: regular)."""
    calendar = BusinessCalendar(policy)
    rules = policy.complaints
    sla = _sla_of(severity, policy, tier)
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
    severity: str,
    reopened_at: datetime,
    reopen_count: int,
    policy: DealerPolicy,
    tier: str | None = None,
) -> Clock:
    """A fresh resolve clock for a reopened complaint (a new timer key per reopening), of
    the tier the complaint took at opening."""
    sla = _sla_of(severity, policy, tier).resolve
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
