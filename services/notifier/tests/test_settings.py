"""Notifier settings and the layers of a dealer's policy."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dealerflow.notifier.app import DEFINITION
from dealerflow.notifier.dealer_configuration import InvalidDealerPolicy, StoredDealerConfiguration
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.policy import merge_overrides


def test_defaults() -> None:
    settings = NotifierSettings()
    assert (settings.service_name, settings.http_port, settings.db_schema) == (
        "notifier",
        8005,
        "notifier",
    )
    assert settings.role_assignee("sales_manager", "D1") == "sales-manager:D1"
    assert settings.dealer_name("D1") == "D1"


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALERFLOW_NOTIFIER_POLICY_OVERRIDES", '{"contact": {"marketing_cap": 1}}')
    monkeypatch.setenv("DEALERFLOW_NOTIFIER_DEALER_NAMES", '{"D1": "Acme Pudong"}')
    monkeypatch.setenv("DEALERFLOW_NOTIFIER_ROLE_ASSIGNEE_FORMAT", "{role}@{dealer_id}")
    monkeypatch.setenv("DEALERFLOW_KAFKA_BOOTSTRAP", "kafka:9092")
    settings = NotifierSettings()
    assert settings.policy_overrides == {"contact": {"marketing_cap": 1}}
    assert settings.dealer_name("D1") == "Acme Pudong"
    assert settings.role_assignee("sales_manager", "D1") == "sales-manager@D1"
    assert settings.kafka_bootstrap == "kafka:9092"


def test_invalid_service_wide_policy_fails_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALERFLOW_NOTIFIER_POLICY_OVERRIDES", '{"leads": {"nope": 1}}')
    with pytest.raises(ValidationError):
        NotifierSettings()


def test_policy_layers() -> None:
    assert merge_overrides({"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"b": 3}, "d": [2]}) == {
        "a": {"b": 3, "c": 2},
        "d": [2],
    }
    service = {"contact": {"marketing_cap": 1, "reminder_send_time": "09:00"}}
    dealer = {"contact": {"marketing_cap": 3}}
    policy = StoredDealerConfiguration(service).layered(dealer)
    assert policy.contact.marketing_cap == 3
    assert policy.contact.reminder_send_time.hour == 9
    assert StoredDealerConfiguration().layered(None).contact.marketing_cap == 2
    with pytest.raises(InvalidDealerPolicy) as caught:
        StoredDealerConfiguration().layered({"contact": {"marketing_cap": -1}})
    assert caught.value.problem_extensions["errors"][0]["loc"] == ["contact", "marketing_cap"]


def test_the_service_gets_the_stored_dealer_configuration_of_its_settings() -> None:
    settings = NotifierSettings(policy_overrides={"contact": {"marketing_cap": 1}})
    configuration = DEFINITION.dealer_configuration(settings)
    assert isinstance(configuration, StoredDealerConfiguration)
    assert configuration.layered(None).contact.marketing_cap == 1
