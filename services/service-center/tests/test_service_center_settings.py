"""Service-center settings: environment prefix, schema name and policy overrides."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from dealerflow.service_center.app import DEFINITION
from dealerflow.service_center.settings import ServiceCenterSettings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
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
    assert settings.labour_rate_per_hour == Decimal("300.00")


async def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALERFLOW_SERVICE_CENTER_LABOUR_RATE_PER_HOUR", "420.50")
    monkeypatch.setenv(
        "DEALERFLOW_SERVICE_CENTER_POLICY_OVERRIDES",
        '{"service": {"declined_item_followup_after": "P14D"}}',
    )
    settings = ServiceCenterSettings()
    assert settings.labour_rate_per_hour == Decimal("420.50")
    # the environment dealer configuration: the same policy for every dealer (no database)
    dealers = DEFINITION.dealer_configuration(settings)
    policy = (await dealers.settings(None, "D001")).policy  # type: ignore[arg-type]
    assert policy.service.declined_item_followup_after == timedelta(days=14)
