"""Service-center settings: environment prefix, schema name and the policy overrides
behind the dealer configuration's defaults."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from dealerflow.policy import DealerPolicy
from dealerflow.runtime.service import environment_dealers
from dealerflow.service_center.settings import ServiceCenterSettings


async def _policy(settings: ServiceCenterSettings) -> DealerPolicy:
    # The environment defaults (what a dealer that set nothing gets) never touch the
    # connection.
    defaults = environment_dealers(settings)
    return (await defaults.settings(None, "D001")).policy  # type: ignore[arg-type]


async def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "DEALERFLOW_SERVICE_CENTER_HTTP_PORT",
        "DEALERFLOW_HTTP_PORT",
        "DEALERFLOW_SERVICE_CENTER_DB_SCHEMA",
        "DEALERFLOW_DB_SCHEMA",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = ServiceCenterSettings()
    assert settings.http_port == 8003
    assert settings.db_schema == "service_center"
    service = (await _policy(settings)).service
    assert service.labour_rate_per_hour == Decimal("300.00")
    assert (service.maintenance_interval_km, service.maintenance_interval_months) == (10_000, 12)
    assert (service.warranty_months, service.warranty_km) == (36, 60_000)


async def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "DEALERFLOW_SERVICE_CENTER_POLICY_OVERRIDES",
        '{"service": {"declined_item_followup_after": "P14D", "labour_rate_per_hour": "420.50"}}',
    )
    # a dealer rule is no service setting: the old variable is ignored
    monkeypatch.setenv("DEALERFLOW_SERVICE_CENTER_LABOUR_RATE_PER_HOUR", "999")
    settings = ServiceCenterSettings()
    assert not hasattr(settings, "labour_rate_per_hour")
    # the environment dealer configuration: the same policy for every dealer (no database)
    service = (await _policy(settings)).service
    assert service.declined_item_followup_after == timedelta(days=14)
    assert service.labour_rate_per_hour == Decimal("420.50")
