"""Timer handlers of the service-center service: a vehicle's maintenance reminder day,
the dealer's daily retention scan."""

from __future__ import annotations

from collections.abc import Mapping

from dealerflow.runtime.service import ServiceContext, ServiceTimerHandler
from dealerflow.service_center import usecases_maintenance as maintenance
from dealerflow.service_center import usecases_retention as retention
from dealerflow.service_center.settings import ServiceCenterSettings


def handlers(ctx: ServiceContext[ServiceCenterSettings]) -> Mapping[str, ServiceTimerHandler]:
    """kind -> handler."""
    return {
        maintenance.MAINTENANCE_DUE_TIMER_KIND: maintenance.maintenance_due,
        retention.RETENTION_SCAN_TIMER_KIND: retention.retention_scan,
    }
