"""Timer handlers of the dealers service: publishing what migration 0002 imported.

The migration that imports the former per-service policy tables schedules one timer,
due at once, in the same transaction; the first running instance's timer poller fires
it (exactly once, even with several replicas), so the imported configurations reach
every service without a separate command."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from dealerflow.dealers.settings import DealersSettings
from dealerflow.dealers.usecases import Uc, publish_imported
from dealerflow.runtime.service import ServiceContext, ServiceTimerHandler
from dealerflow.runtime.timers import Timer

#: The kind of the timer migration 0002 schedules.
PUBLISH_IMPORTED_KIND = "publish_imported"

log = logging.getLogger("dealerflow.dealers")


async def imported_due(uc: Uc, timer: Timer) -> None:
    """Publish a DealerConfigured for each imported store."""
    published = await publish_imported(uc)
    log.info("published the imported configuration of %d dealer(s)", published)


def handlers(ctx: ServiceContext[DealersSettings]) -> Mapping[str, ServiceTimerHandler]:
    """kind -> handler."""
    return {PUBLISH_IMPORTED_KIND: imported_due}
