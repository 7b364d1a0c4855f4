"""Timer handlers of the service-center service: a vehicle's maintenance reminder day,
the dealer's daily retention scan (planned at start-up for every dealer known here,
:func:`plan_retention_scans`, the app's ``on_start``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from dealerflow.runtime.db import ALL_DEALERS
from dealerflow.runtime.service import ServiceContext, ServiceTimerHandler
from dealerflow.service_center import usecases_maintenance as maintenance
from dealerflow.service_center import usecases_retention as retention
from dealerflow.service_center.settings import ServiceCenterSettings

log = logging.getLogger("dealerflow.service_center.timers")


def handlers(ctx: ServiceContext[ServiceCenterSettings]) -> Mapping[str, ServiceTimerHandler]:
    """kind -> handler."""
    return {
        maintenance.MAINTENANCE_DUE_TIMER_KIND: maintenance.maintenance_due,
        retention.RETENTION_SCAN_TIMER_KIND: retention.retention_scan,
    }


async def plan_retention_scans(ctx: ServiceContext[ServiceCenterSettings]) -> None:
    """At start-up: the daily retention scan of every dealer known here (configured, or
    with a vehicle) that has none pending, in one transaction acting for every dealer."""
    planned = await ctx.run_in_transaction(retention.plan_known_dealers_scans, dealers=ALL_DEALERS)
    if planned:
        log.info("retention scan planned at start-up for %d dealer(s)", len(planned))
