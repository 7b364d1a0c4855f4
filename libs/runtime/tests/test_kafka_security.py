"""The one function that gives every Kafka client its SASL/TLS arguments (no Kafka here;
test_kafka_scram.py connects through them to a SCRAM broker)."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLScram256, SASLScram512
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from dealerflow.devinfra.tls import write_tls_files
from dealerflow.runtime.broker import create_broker
from dealerflow.runtime.kafka_security import (
    environment_client_options,
    faststream_security,
    kafka_client_options,
)
from dealerflow.runtime.settings import ServiceSettings


def test_plaintext_adds_nothing() -> None:
    settings = ServiceSettings()
    assert kafka_client_options(settings) == {}
    assert faststream_security(settings) is None


def test_sasl_plaintext_scram() -> None:
    settings = ServiceSettings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="SCRAM-SHA-256",
        kafka_sasl_username="dealerflow-sales",
        kafka_sasl_password="s3cret",
    )
    assert kafka_client_options(settings) == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "dealerflow-sales",
        "sasl_plain_password": "s3cret",
    }
    security = faststream_security(settings)
    assert isinstance(security, SASLScram256)
    # FastStream hands aiokafka exactly what our own clients get
    assert parse_security(security) == {**kafka_client_options(settings), "ssl_context": None}


def test_sasl_ssl_builds_a_verifying_context(tmp_path: Path) -> None:
    files = write_tls_files(tmp_path, client_cert=True, key_password="kp")
    settings = ServiceSettings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="dealerflow-leads",
        kafka_sasl_password="pw",
        kafka_ssl_cafile=str(files.ca),
        kafka_ssl_certfile=str(files.client_cert),
        kafka_ssl_keyfile=str(files.client_key),
        kafka_ssl_key_password="kp",
    )
    options = kafka_client_options(settings)
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"  # the default mechanism
    security = faststream_security(settings)
    assert isinstance(security, SASLScram512)
    assert security.use_ssl
    parsed = parse_security(security)
    assert parsed["security_protocol"] == "SASL_SSL"
    assert isinstance(parsed["ssl_context"], ssl.SSLContext)


def test_ssl_only(tmp_path: Path) -> None:
    files = write_tls_files(tmp_path)
    settings = ServiceSettings(kafka_security_protocol="SSL", kafka_ssl_cafile=str(files.ca))
    options = kafka_client_options(settings)
    assert set(options) == {"security_protocol", "ssl_context"}
    security = faststream_security(settings)
    assert type(security) is BaseSecurity
    assert security.use_ssl
    assert parse_security(security)["security_protocol"] == "SSL"


def test_unreadable_ca_file_fails_at_once(tmp_path: Path) -> None:
    settings = ServiceSettings(
        kafka_security_protocol="SSL", kafka_ssl_cafile=str(tmp_path / "missing.pem")
    )
    with pytest.raises(FileNotFoundError):
        kafka_client_options(settings)


def test_sasl_without_credentials_is_refused() -> None:
    with pytest.raises(ValidationError, match="kafka_sasl_username"):
        ServiceSettings(kafka_security_protocol="SASL_SSL", kafka_sasl_username="x")
    with pytest.raises(ValidationError, match="go together"):
        ServiceSettings(kafka_ssl_certfile="/c.pem")


def test_passwords_are_redacted() -> None:
    settings = ServiceSettings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="dealerflow-sales",
        kafka_sasl_password="s3cret",
        kafka_ssl_key_password="k3y",
    )
    redacted = settings.redacted()
    assert redacted["kafka_sasl_password"] == "***"
    assert redacted["kafka_sasl_username"] == "dealerflow-sales"
    assert "s3cret" not in str(redacted)
    assert "k3y" not in str(redacted)
    assert "s3cret" not in repr(settings)


def test_environment_and_service_prefixes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALERFLOW_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("DEALERFLOW_KAFKA_SASL_USERNAME", "dealerflow-operator")
    monkeypatch.setenv("DEALERFLOW_KAFKA_SASL_PASSWORD", "pw")
    assert environment_client_options()["sasl_plain_username"] == "dealerflow-operator"

    class SalesSettings(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix="DEALERFLOW_SALES_")

    monkeypatch.setenv("DEALERFLOW_SALES_KAFKA_SASL_USERNAME", "dealerflow-sales")
    # each service has its own principal; the protocol is shared
    assert kafka_client_options(SalesSettings())["sasl_plain_username"] == "dealerflow-sales"


def test_the_broker_gets_the_security() -> None:
    settings = ServiceSettings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="dealerflow-sales",
        kafka_sasl_password="pw",
    )
    broker = create_broker(settings)
    options = broker._connection_kwargs  # what its producer, admin and consumers get
    assert options["sasl_plain_username"] == "dealerflow-sales"
    assert options["security_protocol"] == "SASL_PLAINTEXT"
