"""Dealer configuration in every service: materialised from ``DealerConfigured`` events.

The dealers service is the one owner of dealer configuration; each change publishes a
``DealerConfigured`` (the full effective `DealerSettings` and its version) on the
compacted ``<prefix>dealers`` topic, keyed by dealer id. Every service keeps its own copy:

- :data:`router` handles ``DealerConfigured``; the runtime subscribes every service to
  the dealers topic with it (``ServiceDefinition.all_subscriptions``; consumer group
  ``<prefix><service>.dealers``, reading from the earliest offset when it has none, so a
  new service replays the compacted topic). A configuration that is not a valid
  `DealerSettings` raises :class:`~dealerflow.runtime.consumer.UnprocessableEvent`: it is
  dead-lettered at once with the cause and the partition moves on.
- :func:`upsert_configuration` writes the runtime-owned ``dealer_configurations`` table
  (migration ``0004``) and only ever replaces an older version: a late, replayed or
  repeated event changes nothing.
- :class:`MaterialisedDealerConfiguration` is every service's default
  :class:`~dealerflow.runtime.context.DealerConfiguration`: the materialised row, or, for
  a dealer no event has configured, the environment defaults (counted in
  ``dealerflow_dealer_configuration_unknown_total{service}`` and logged once per dealer).
  A stored configuration this release no longer accepts (written by an older one) is
  answered with the defaults too, logged as an error and counted in
  ``dealerflow_dealer_configuration_invalid_total{service}``, once per stored version.
  It keeps each dealer's validated configuration in the process and, for
  ``fresh_for_s`` seconds after a look-up (``dealer_configuration_cache_s``), answers
  from that copy without a statement: a configuration is read on every use case of
  every request, and changes a few times a year. :func:`materialise` tells it at once
  when this process stores a newer version (:meth:`MaterialisedDealerConfiguration.changed`),
  so the next use case reads it; a version another replica of the service stored (each
  ``DealerConfigured`` reaches one replica of a consumer group) or a row written
  directly is seen within ``fresh_for_s``.

A materialised configuration is complete (the dealers service applied the defaults and
the group's settings), so a service's own ``policy_overrides`` only shape the defaults of
unknown dealers. With ``unknown_dealers="refuse"`` (the default) consumers dead-letter an
event of an unknown dealer before its handlers run (:mod:`dealerflow.runtime.consumer`),
so there the defaults answer only HTTP requests and ``unknown_dealers="defaults"``.

``dealer_configurations`` has ``dealer_id``, so row-level security applies: a look-up
sees the row only when the transaction acts for that dealer (or ``*``), and
``DealerConfigured`` is materialised in a transaction acting for its dealer.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from dealerflow.contracts.envelope import Envelope
from dealerflow.contracts.events.dealers import DealerConfigured
from dealerflow.policy import DealerSettings
from dealerflow.runtime.consumer import EventRouter, HandlerContext, UnprocessableEvent
from dealerflow.runtime.context import EnvironmentDealerConfiguration
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.metrics import DEALER_CONFIGURATION_INVALID, DEALER_CONFIGURATION_UNKNOWN

__all__ = [
    "MaterialisedDealerConfiguration",
    "StoredConfiguration",
    "configuration_of",
    "configured_dealers",
    "router",
    "upsert_configuration",
]

log = logging.getLogger("dealerflow.dealers")

#: Unknown dealers logged by one process at most (then only the counter moves).
_MAX_LOGGED_UNKNOWN = 10_000


@dataclass(frozen=True)
class StoredConfiguration:
    """One row of ``dealer_configurations``: a dealer's configuration at a version."""

    dealer_id: str
    group_id: str | None
    configuration_version: int
    configuration: dict[str, Any]
    configured_at: datetime


_UPSERT = """
INSERT INTO dealer_configurations
    (dealer_id, group_id, configuration_version, configuration, configured_at)
VALUES ($1, $2, $3, $4::jsonb, $5)
ON CONFLICT (dealer_id) DO UPDATE SET
    group_id = EXCLUDED.group_id,
    configuration_version = EXCLUDED.configuration_version,
    configuration = EXCLUDED.configuration,
    configured_at = EXCLUDED.configured_at,
    received_at = now()
WHERE dealer_configurations.configuration_version < EXCLUDED.configuration_version
RETURNING configuration_version
"""

# The document only when it is not the version the caller already holds: a look-up of a
# cached configuration moves one integer, not the whole JSON.
_READ = """
SELECT configuration_version,
       CASE WHEN configuration_version IS DISTINCT FROM $2::bigint
            THEN configuration::text END AS configuration
FROM dealer_configurations
WHERE dealer_id = $1
"""


async def upsert_configuration(conn: DbConnection, stored: StoredConfiguration) -> bool:
    """Store ``stored`` unless the dealer's row already has this or a newer version;
    True when it was written."""
    written = await conn.fetchval(
        _UPSERT,
        stored.dealer_id,
        stored.group_id,
        stored.configuration_version,
        json.dumps(stored.configuration, ensure_ascii=False),
        stored.configured_at,
    )
    return written is not None


async def configuration_of(
    conn: DbConnection, dealer_id: str, *, known_version: int | None = None
) -> tuple[int, dict[str, Any] | None] | None:
    """``(version, configuration)`` of ``dealer_id``, None for an unknown dealer; the
    configuration is None when its version is ``known_version`` (the caller has it)."""
    row = await conn.fetchrow(_READ, dealer_id, known_version)
    if row is None:
        return None
    raw = row["configuration"]
    return row["configuration_version"], (json.loads(raw) if raw is not None else None)


async def configured_dealers(conn: DbConnection) -> list[str]:
    """The dealers a ``DealerConfigured`` has named here, by id (the rows the
    transaction's dealer scope sees: act for ``*`` to list them all)."""
    rows = await conn.fetch("SELECT dealer_id FROM dealer_configurations ORDER BY dealer_id")
    return [row["dealer_id"] for row in rows]


router = EventRouter()


@router.on(DealerConfigured)
async def materialise(ctx: HandlerContext, env: Envelope[DealerConfigured]) -> None:
    """Store the dealer's configuration if it is valid and newer than the stored one."""
    event = env.event
    try:
        DealerSettings.model_validate(event.configuration)
    except ValidationError as exc:
        raise UnprocessableEvent(
            f"dealer {event.dealer_id} configuration version {event.configuration_version} "
            f"is not a valid DealerSettings: {exc}"
        ) from exc
    written = await upsert_configuration(
        ctx.conn,
        StoredConfiguration(
            dealer_id=event.dealer_id,
            group_id=event.group_id,
            configuration_version=event.configuration_version,
            configuration=event.configuration,
            configured_at=event.occurred_at,
        ),
    )
    if written:
        if isinstance(ctx.dealers, MaterialisedDealerConfiguration):
            ctx.dealers.changed(event.dealer_id, event.configuration_version)
    else:
        log.info(
            "dealer %s configuration version %d is not newer than the stored one; ignored",
            event.dealer_id,
            event.configuration_version,
            extra={"dealer_id": event.dealer_id, "event_id": env.meta.id},
        )


#: The version a dealer with no stored configuration is cached under.
_UNKNOWN_VERSION = 0


@dataclass(frozen=True)
class _Cached:
    version: int
    settings: DealerSettings
    #: ``monotonic()`` of the look-up that read the version from the database
    checked_at: float


@dataclass
class MaterialisedDealerConfiguration:
    """The dealer's materialised configuration (module docstring), ``defaults`` for a
    dealer no ``DealerConfigured`` has named.

    Validated configurations are kept per process by dealer and version, so a
    configuration is validated once per change. Within ``fresh_for_s`` of the last
    version check a look-up costs no statement (0: every look-up reads the version, one
    integer); :meth:`changed` ends that at once for the dealer.
    """

    defaults: EnvironmentDealerConfiguration
    #: the ``service`` label of the unknown-dealer counter
    service: str = "dealerflow"
    #: seconds a checked configuration is answered without reading its version again
    fresh_for_s: float = 0.0
    #: the clock of ``fresh_for_s`` (real seconds; tests pass their own)
    monotonic: Callable[[], float] = time.monotonic
    _cache: dict[str, _Cached] = field(default_factory=dict, repr=False)
    #: the newest version this process stored per dealer (:meth:`changed`)
    _stored: dict[str, int] = field(default_factory=dict, repr=False)
    _logged_unknown: set[str] = field(default_factory=set, repr=False)

    def changed(self, dealer_id: str, version: int) -> None:
        """This process stored ``version`` of the dealer's configuration (in a
        transaction that may not have committed yet): look-ups read the database again
        until they find that version or a newer one."""
        self._stored[dealer_id] = max(version, self._stored.get(dealer_id, version))

    def fresh(self, dealer_id: str) -> DealerSettings | None:
        """What :meth:`settings` answers now without a statement, if it would (None: a
        look-up must read the database)."""
        cached = self._cache.get(dealer_id)
        if cached is None or not self._fresh(dealer_id, cached, self.monotonic()):
            return None
        return cached.settings

    async def settings(self, conn: DbConnection, dealer_id: str) -> DealerSettings:
        """The dealer's materialised configuration, or the environment defaults."""
        cached = self._cache.get(dealer_id)
        now = self.monotonic()
        if cached is not None and self._fresh(dealer_id, cached, now):
            if cached.version == _UNKNOWN_VERSION:
                return self._unknown(dealer_id)
            return cached.settings
        known = cached.version if cached and cached.version != _UNKNOWN_VERSION else None
        found = await configuration_of(conn, dealer_id, known_version=known)
        if found is None:
            self._cache[dealer_id] = _Cached(_UNKNOWN_VERSION, self.defaults.defaults, now)
            return self._unknown(dealer_id)
        version, configuration = found
        if configuration is None:
            assert cached is not None  # only the cached version comes back without a body
            self._cache[dealer_id] = _Cached(version, cached.settings, now)
            return cached.settings
        try:
            settings = DealerSettings.model_validate(configuration)
        except ValidationError as exc:
            # Stored by an older release that accepted what this one refuses: answering
            # every use case of the dealer with an error would stop its work (5xx, dead
            # letters); the defaults keep it going, loudly, until the dealers service
            # publishes a version this release accepts.
            DEALER_CONFIGURATION_INVALID.labels(self.service).inc()
            log.error(
                "dealer %s: stored configuration version %d is not valid here; using the "
                "environment defaults until a newer version arrives: %s",
                dealer_id,
                version,
                exc,
                extra={"dealer_id": dealer_id, "service": self.service},
            )
            settings = self.defaults.defaults
        self._cache[dealer_id] = _Cached(version, settings, now)
        return settings

    def _fresh(self, dealer_id: str, cached: _Cached, now: float) -> bool:
        if now - cached.checked_at >= self.fresh_for_s:
            return False
        # a version this process stored and this copy predates: read it (once committed)
        return cached.version >= self._stored.get(dealer_id, cached.version)

    def _unknown(self, dealer_id: str) -> DealerSettings:
        DEALER_CONFIGURATION_UNKNOWN.labels(self.service).inc()
        if dealer_id not in self._logged_unknown and len(self._logged_unknown) < (
            _MAX_LOGGED_UNKNOWN
        ):
            self._logged_unknown.add(dealer_id)
            log.warning(
                "dealer %s has no configuration (no DealerConfigured seen); using the "
                "environment defaults",
                dealer_id,
                extra={"dealer_id": dealer_id, "service": self.service},
            )
        return self.defaults.defaults
