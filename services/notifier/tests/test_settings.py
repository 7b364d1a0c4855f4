"""Notifier settings: only service-wide things (nothing per dealer)."""

from __future__ import annotations

from dataclasses import fields

import pytest
from pydantic import ValidationError

from dealerflow.notifier.app import DEFINITION
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.runtime.service import ServiceDefinition


def test_defaults() -> None:
    settings = NotifierSettings()
    assert (settings.service_name, settings.http_port, settings.db_schema) == (
        "notifier",
        8005,
        "notifier",
    )


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALERFLOW_NOTIFIER_POLICY_OVERRIDES", '{"contact": {"marketing_cap": 1}}')
    monkeypatch.setenv("DEALERFLOW_KAFKA_BOOTSTRAP", "kafka:9092")
    settings = NotifierSettings()
    assert settings.policy_overrides == {"contact": {"marketing_cap": 1}}
    assert settings.kafka_bootstrap == "kafka:9092"


def test_invalid_service_wide_policy_fails_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALERFLOW_NOTIFIER_POLICY_OVERRIDES", '{"leads": {"nope": 1}}')
    with pytest.raises(ValidationError):
        NotifierSettings()


def test_per_dealer_settings_are_gone() -> None:
    names = set(NotifierSettings.model_fields)
    assert not names & {"dealer_names", "role_assignee_format"}


def test_the_service_reads_the_runtime_s_dealer_configuration() -> None:
    (default,) = (f.default for f in fields(ServiceDefinition) if f.name == "dealer_configuration")
    assert DEFINITION.dealer_configuration is default
