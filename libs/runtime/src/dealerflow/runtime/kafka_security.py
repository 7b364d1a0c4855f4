"""How every Kafka client of dealerflow authenticates and encrypts: one function.

:func:`kafka_client_options` turns the ``kafka_security_*``, ``kafka_sasl_*`` and
``kafka_ssl_*`` settings of :class:`~dealerflow.runtime.settings.ServiceSettings` into
aiokafka keyword arguments (``security_protocol``, ``sasl_mechanism``,
``sasl_plain_username``/``sasl_plain_password``, ``ssl_context``). Every client uses it:
the FastStream broker of the consumers (through :func:`faststream_security`, the same
options as FastStream's ``security=`` object), the outbox relay's producer, the topic
admin client, the DLQ and topics CLIs and the development tooling. A client built any
other way would silently connect in plain text to a listener that expects SCRAM.

PLAINTEXT (the default) adds nothing, so the development and test brokers need no
configuration. See docs/operations.md, "Kafka security".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from aiokafka.helpers import create_ssl_context
from faststream.security import (
    BaseSecurity,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)

from dealerflow.runtime.settings import ServiceSettings

if TYPE_CHECKING:
    from pydantic import SecretStr

__all__ = [
    "KafkaSecuritySettings",
    "environment_client_options",
    "faststream_security",
    "kafka_client_options",
]

_SASL_CLASSES: Mapping[str, type[SASLPlaintext | SASLScram256 | SASLScram512]] = {
    "PLAIN": SASLPlaintext,
    "SCRAM-SHA-256": SASLScram256,
    "SCRAM-SHA-512": SASLScram512,
}


class KafkaSecuritySettings(Protocol):
    """The settings :func:`kafka_client_options` reads (``ServiceSettings`` has them)."""

    @property
    def kafka_security_protocol(self) -> str: ...
    @property
    def kafka_sasl_mechanism(self) -> str: ...
    @property
    def kafka_sasl_username(self) -> str | None: ...
    @property
    def kafka_sasl_password(self) -> SecretStr | None: ...
    @property
    def kafka_ssl_cafile(self) -> str | None: ...
    @property
    def kafka_ssl_certfile(self) -> str | None: ...
    @property
    def kafka_ssl_keyfile(self) -> str | None: ...
    @property
    def kafka_ssl_key_password(self) -> SecretStr | None: ...


def kafka_client_options(settings: KafkaSecuritySettings) -> dict[str, Any]:
    """aiokafka keyword arguments (producer, consumer, admin client) for ``settings``.

    Empty for PLAINTEXT. SSL and SASL_SSL get an ``ssl_context`` from
    ``aiokafka.helpers.create_ssl_context`` (hostname checked; the CA file, else the
    system's CAs; a client certificate when one is configured). SASL_* add the mechanism
    and the principal's username and password. Raises ``ValueError`` for a SASL protocol
    without credentials, and ``OSError``/``ssl.SSLError`` for unreadable TLS files.
    """
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return {}
    options: dict[str, Any] = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        key_password = settings.kafka_ssl_key_password
        options["ssl_context"] = create_ssl_context(
            cafile=settings.kafka_ssl_cafile,
            certfile=settings.kafka_ssl_certfile,
            keyfile=settings.kafka_ssl_keyfile,
            password=key_password.get_secret_value() if key_password else None,
        )
    if protocol.startswith("SASL_"):
        password = settings.kafka_sasl_password
        if not settings.kafka_sasl_username or password is None:
            raise ValueError(f"{protocol} needs kafka_sasl_username and kafka_sasl_password")
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = password.get_secret_value()
    return options


def faststream_security(settings: KafkaSecuritySettings) -> BaseSecurity | None:
    """The FastStream ``KafkaBroker(security=...)`` object for ``settings``.

    Built from :func:`kafka_client_options`, so FastStream hands aiokafka exactly the same
    arguments as our own clients get (``SASLScram512`` etc., ``BaseSecurity`` for SSL
    without SASL, None for PLAINTEXT).
    """
    options = kafka_client_options(settings)
    protocol = options.get("security_protocol", "PLAINTEXT")
    if protocol == "PLAINTEXT":
        return None
    ssl_context = options.get("ssl_context")
    if protocol == "SSL":
        return BaseSecurity(ssl_context=ssl_context)
    sasl = _SASL_CLASSES[options["sasl_mechanism"]]
    return sasl(
        options["sasl_plain_username"],
        options["sasl_plain_password"],
        ssl_context=ssl_context,
        use_ssl=protocol == "SASL_SSL",
    )


def environment_client_options() -> dict[str, Any]:
    """:func:`kafka_client_options` of the shared ``DEALERFLOW_KAFKA_*`` environment
    variables: what the CLIs and the development tooling connect with."""
    return kafka_client_options(ServiceSettings())
