"""What every notifier use case works with: the transaction's connection, the clock, the
settings, how to publish, and the dealer's policy (loaded once per use case run)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError

from dealerflow.contracts.events.base import DomainEvent
from dealerflow.notifier import repository as repo
from dealerflow.notifier.policies import effective_policy
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.policy import DealerPolicy
from dealerflow.runtime.clock import Clock
from dealerflow.runtime.db import DbConnection

log = logging.getLogger("dealerflow.notifier")

Publish = Callable[[DomainEvent], Awaitable[str]]

# Timer kinds of the notifier (kind -> handler in dealerflow.notifier.timers).
TASK_DUE = "notifier.task_due"
TASK_WATCH = "notifier.task_watch"
REMINDER_SEND = "notifier.reminder_send"
STAFF_ALERT = "notifier.staff_alert"


@dataclass
class Effects:
    """Dependencies of one use case run, all bound to one transaction."""

    conn: DbConnection
    clock: Clock
    settings: NotifierSettings
    publish: Publish
    source_event_id: str | None = None
    _policies: dict[str, DealerPolicy] = field(default_factory=dict)

    def now(self) -> datetime:
        """The current time by the service's clock."""
        return self.clock.now()

    async def policy(self, dealer_id: str) -> DealerPolicy:
        """The dealer's effective policy. Stored overrides that no longer validate (e.g.
        after a service-wide change) are logged and ignored rather than blocking events."""
        if dealer_id not in self._policies:
            stored = await repo.get_policy_overrides(self.conn, dealer_id)
            try:
                policy = effective_policy(self.settings.policy_overrides, stored)
            except ValidationError:
                log.exception("stored policy of dealer %s is invalid; using defaults", dealer_id)
                policy = effective_policy(self.settings.policy_overrides, None)
            self._policies[dealer_id] = policy
        return self._policies[dealer_id]
