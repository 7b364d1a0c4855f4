"""Sales settings: environment prefix, shared fallback and the policy overrides behind
the dealer configuration."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dealerflow.policy import DealerPolicy
from dealerflow.runtime.service import environment_dealers
from dealerflow.sales.app import DEFINITION
from dealerflow.sales.settings import SalesSettings


async def _policy(settings: SalesSettings) -> DealerPolicy:
    # The environment defaults (what a dealer that set nothing gets) never touch the
    # connection.
    defaults = environment_dealers(settings)
    return (await defaults.settings(None, "D001")).policy  # type: ignore[arg-type]


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
        '{"sales": {"discount_approval_threshold_rate": "0.03", "quote_valid_days": 14}, '
        '"calendar": {"time_zone": "Asia/Urumqi"}}',
    )
    # a dealer rule is no service setting: the old variable is ignored
    monkeypatch.setenv("DEALERFLOW_SALES_QUOTE_VALID_DAYS", "30")
    monkeypatch.setenv("DEALERFLOW_KAFKA_BOOTSTRAP", "kafka.example:9092")
    settings = SalesSettings()
    policy = await _policy(settings)
    assert policy.sales.discount_approval_threshold_rate == Decimal("0.03")
    assert policy.sales.quote_valid_days == 14
    assert not hasattr(settings, "quote_valid_days")
    assert policy.calendar.time_zone == "Asia/Urumqi"
    assert settings.kafka_bootstrap == "kafka.example:9092"  # shared fallback


def test_invalid_overrides_fail_loudly() -> None:
    settings = SalesSettings(policy_overrides={"sales": {"no_such_rule": 1}})
    with pytest.raises(ValueError, match="no_such_rule"):
        DEFINITION.dealer_configuration(settings)
