"""Prometheus metrics of the outbox relay, the timer poller and the dealer configuration
(default registry).

Every relay and timer metric carries a ``schema`` label (one schema per service), so one
process that runs several relays or tests that use many schemas keep their numbers apart.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "DEALER_CONFIGURATION_INVALID",
    "DEALER_CONFIGURATION_UNKNOWN",
    "OUTBOX_BACKLOG",
    "OUTBOX_OLDEST_AGE",
    "OUTBOX_PUBLISHED",
    "OUTBOX_PUBLISH_ERRORS",
    "OUTBOX_RELAY_LEADER",
    "TIMERS_FAILURES",
    "TIMERS_FIRED",
    "TIMERS_LATENESS",
    "TIMERS_PENDING",
]

OUTBOX_BACKLOG = Gauge(
    "dealerflow_outbox_backlog_rows",
    "Outbox rows not yet acknowledged by Kafka",
    ["schema"],
)
OUTBOX_OLDEST_AGE = Gauge(
    "dealerflow_outbox_oldest_unpublished_age_seconds",
    "Age of the oldest unpublished outbox row (0 when the backlog is empty)",
    ["schema"],
)
OUTBOX_PUBLISHED = Counter(
    "dealerflow_outbox_published",
    "Outbox rows acknowledged by Kafka and marked published",
    ["schema"],
)
OUTBOX_PUBLISH_ERRORS = Counter(
    "dealerflow_outbox_publish_errors",
    "Failed attempts to publish outbox rows (the rows are retried, never dropped)",
    ["schema"],
)
OUTBOX_RELAY_LEADER = Gauge(
    "dealerflow_outbox_relay_leader",
    "1 while this process holds the relay leadership for the schema",
    ["schema"],
)

TIMERS_FIRED = Counter(
    "dealerflow_timers_fired",
    "Timers whose handler succeeded and that were marked fired",
    ["schema", "kind"],
)
TIMERS_FAILURES = Counter(
    "dealerflow_timers_failures",
    "Timer handler failures (retried with backoff, then marked failed)",
    ["schema", "kind"],
)
TIMERS_LATENESS = Histogram(
    "dealerflow_timer_lateness_seconds",
    "How long after its due time (by the service clock) a timer fired",
    ["schema"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
TIMERS_PENDING = Gauge(
    "dealerflow_timers_pending",
    "Pending timers (refreshed periodically, not on every poll)",
    ["schema"],
)

DEALER_CONFIGURATION_INVALID = Counter(
    "dealerflow_dealer_configuration_invalid",
    "Stored dealer configurations this release does not accept (answered with the "
    "environment defaults until a newer version arrives), once per stored version",
    ["service"],
)
DEALER_CONFIGURATION_UNKNOWN = Counter(
    "dealerflow_dealer_configuration_unknown",
    "Look-ups of a dealer no DealerConfigured event has configured (answered with the "
    "environment defaults)",
    ["service"],
)
