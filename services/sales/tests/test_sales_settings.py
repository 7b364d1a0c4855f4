"""Sales settings: environment prefix, shared fallback and the policy overrides behind
the dealer configuration."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dealerflow.policy import DealerPolicy
from dealerflow.sales.app import DEFINITION
from dealerflow.sales.settings import SalesSettings


async def _policy(settings: SalesSettings) -> DealerPolicy:
    # The environment configuration never touches the connection.
    return await DEFINITION.dealer_configuration(settings).policy(None, "D001")  # type: ignore[arg-type]


async def test_defaults_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "DEALERFLOW_SALES_HTTP_PORT",
        "DEALERFLOW_HTTP_PORT",
        "DEALERFLOW_SALES_DB_SCHEMA",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = SalesSettings()
    assert settings.http_port == 8002
    assert settings.db_schema == "sales"
    policy = await _policy(settings)
    assert policy.sales.discount_approval_threshold_rate == Decimal("0.05")


async def test_policy_overrides_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "DEALERFLOW_SALES_POLICY_OVERRIDES",
        '{"sales": {"discount_approval_threshold_rate": "0.03"}, '
        '"calendar": {"time_zone": "Asia/Urumqi"}}',
    )
    monkeypatch.setenv("DEALERFLOW_KAFKA_BOOTSTRAP", "kafka.example:9092")
    settings = SalesSettings()
    policy = await _policy(settings)
    assert policy.sales.discount_approval_threshold_rate == Decimal("0.03")
    assert policy.calendar.time_zone == "Asia/Urumqi"
    assert settings.kafka_bootstrap == "kafka.example:9092"  # shared fallback


def test_invalid_overrides_fail_loudly() -> None:
    settings = SalesSettings(policy_overrides={"sales": {"no_such_rule": 1}})
    with pytest.raises(ValueError, match="no_such_rule"):
        DEFINITION.dealer_configuration(settings)
