"""Unit tests of ServiceSettings: per-service prefix with the shared DEALERFLOW_* fallback."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic_settings import SettingsConfigDict

from dealerflow.runtime.clock import AcceleratedClock, SystemClock
from dealerflow.runtime.settings import ServiceSettings


class LeadsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEALERFLOW_LEADS_")
    service_name: str = "leads"
    http_port: int = 8001


class ServiceCenterSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEALERFLOW_SERVICE_CENTER_")
    service_name: str = "service-center"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("DEALERFLOW_"):
            monkeypatch.delenv(name)


def test_defaults() -> None:
    s = LeadsSettings()
    assert s.service_name == "leads"
    assert s.kafka_bootstrap == "127.0.0.1:9092"
    assert s.pg_dsn == "postgresql://postgres@127.0.0.1:5432/dealerflow"
    assert s.db_schema == "leads"
    assert s.topic_prefix == "dealerflow."
    assert s.http_host == "127.0.0.1"
    assert s.http_port == 8001
    assert s.log_level == "INFO"
    assert s.log_json is True
    assert s.otlp_endpoint is None
    assert s.clock_speed == 1.0
    assert s.timer_batch_size == 500
    assert s.consumer_max_retries == 3
    assert s.default_dealer_group == "default"


def test_prefixed_beats_shared_beats_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert LeadsSettings().pg_dsn.endswith("/dealerflow")
    monkeypatch.setenv("DEALERFLOW_PG_DSN", "postgresql://shared/db")
    assert LeadsSettings().pg_dsn == "postgresql://shared/db"
    monkeypatch.setenv("DEALERFLOW_LEADS_PG_DSN", "postgresql://leads/db")
    assert LeadsSettings().pg_dsn == "postgresql://leads/db"
    # another service still sees the shared value
    assert ServiceCenterSettings().pg_dsn == "postgresql://shared/db"


def test_constructor_arguments_beat_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALERFLOW_LEADS_HTTP_PORT", "9001")
    assert LeadsSettings().http_port == 9001
    assert LeadsSettings(http_port=9002).http_port == 9002


def test_shared_fallback_for_typed_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALERFLOW_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("DEALERFLOW_TOPIC_PREFIX", "t1.dealerflow.")
    monkeypatch.setenv("DEALERFLOW_LOG_JSON", "false")
    monkeypatch.setenv("DEALERFLOW_CLOCK_SPEED", "60")
    monkeypatch.setenv("DEALERFLOW_LEADS_TIMER_BATCH_SIZE", "250")
    s = LeadsSettings()
    assert s.kafka_bootstrap == "kafka:9092"
    assert s.topic_prefix == "t1.dealerflow."
    assert s.log_json is False
    assert s.clock_speed == 60.0
    assert s.timer_batch_size == 250


def test_schema_defaults_to_service_name_with_underscores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert ServiceCenterSettings().db_schema == "service_center"
    monkeypatch.setenv("DEALERFLOW_SERVICE_CENTER_DB_SCHEMA", "svc")
    assert ServiceCenterSettings().db_schema == "svc"


def test_invalid_values_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALERFLOW_LEADS_CLOCK_SPEED", "0")
    with pytest.raises(ValueError, match="clock_speed"):
        LeadsSettings()


def test_clock_follows_speed() -> None:
    assert isinstance(LeadsSettings().clock(), SystemClock)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    fast = LeadsSettings(clock_speed=3600, clock_start=start).clock()
    assert isinstance(fast, AcceleratedClock)
    assert fast.speed == 3600
    assert fast.now() >= start


def test_redacted_hides_the_password() -> None:
    s = LeadsSettings(pg_dsn="postgresql://app:s3cret@db:5432/dealerflow")
    assert s.redacted()["pg_dsn"] == "postgresql://app:***@db:5432/dealerflow"
    assert "s3cret" not in str(s.redacted())
    owner = LeadsSettings(
        pg_dsn="postgresql://app:s3cret@db/dealerflow",
        pg_migration_dsn="postgresql://owner:t0p@db/dealerflow",
    )
    assert owner.redacted()["pg_migration_dsn"] == "postgresql://owner:***@db/dealerflow"
    assert "t0p" not in str(owner.redacted())


def test_migrations_use_the_service_dsn_unless_an_owner_dsn_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert LeadsSettings(pg_dsn="postgresql://one/db").pg_migration_dsn == "postgresql://one/db"
    monkeypatch.setenv("DEALERFLOW_PG_DSN", "postgresql://app@h/db")
    monkeypatch.setenv("DEALERFLOW_PG_MIGRATION_DSN", "postgresql://owner@h/db")
    monkeypatch.setenv("DEALERFLOW_PG_APP_ROLE", "app")
    s = LeadsSettings()
    assert (s.pg_dsn, s.pg_migration_dsn, s.pg_app_role) == (
        "postgresql://app@h/db",
        "postgresql://owner@h/db",
        "app",
    )


def test_unknown_dealers_are_refused_unless_set_to_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert LeadsSettings().unknown_dealers == "refuse"
    monkeypatch.setenv("DEALERFLOW_UNKNOWN_DEALERS", "defaults")
    assert LeadsSettings().unknown_dealers == "defaults"
    monkeypatch.setenv("DEALERFLOW_UNKNOWN_DEALERS", "ignore")
    with pytest.raises(ValueError, match="refuse"):
        LeadsSettings()


def test_database_waits_are_bounded_by_default_and_configurable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = LeadsSettings()
    assert (s.pg_connect_timeout_s, s.pg_acquire_timeout_s, s.pg_command_timeout_s) == (
        5.0,
        5.0,
        30.0,
    )
    monkeypatch.setenv("DEALERFLOW_PG_ACQUIRE_TIMEOUT_S", "2.5")
    monkeypatch.setenv("DEALERFLOW_LEADS_PG_COMMAND_TIMEOUT_S", "10")
    s = LeadsSettings()
    assert (s.pg_acquire_timeout_s, s.pg_command_timeout_s) == (2.5, 10.0)
    monkeypatch.setenv("DEALERFLOW_PG_CONNECT_TIMEOUT_S", "0")  # unbounded is not an option
    with pytest.raises(ValueError, match="pg_connect_timeout_s"):
        LeadsSettings()
