"""Service configuration: one pydantic-settings class per service.

Each service subclasses :class:`ServiceSettings` and sets its own prefix::

    class LeadsSettings(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix="DEALERFLOW_LEADS_")
        service_name: str = "leads"
        http_port: int = 8001

Lookup order for every field: constructor arguments, then ``DEALERFLOW_LEADS_<FIELD>``,
then the shared ``DEALERFLOW_<FIELD>`` (so one ``DEALERFLOW_KAFKA_BOOTSTRAP`` serves all five
services), then a ``.env`` file if configured, then the default. Reading the environment
happens when the class is instantiated, never at import time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from limits import parse as parse_rate_limit
from pydantic import AwareDatetime, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from dealerflow.runtime.clock import AcceleratedClock, Clock, SystemClock
from dealerflow.runtime.db import (
    DEFAULT_ACQUIRE_TIMEOUT_S,
    DEFAULT_COMMAND_TIMEOUT_S,
    DEFAULT_CONNECT_TIMEOUT_S,
)

__all__ = ["SHARED_ENV_PREFIX", "ServiceSettings"]

#: Prefix of the variables every service falls back to.
SHARED_ENV_PREFIX = "DEALERFLOW_"


class ServiceSettings(BaseSettings):
    """Settings every dealerflow service has; subclass per service with its own prefix."""

    model_config = SettingsConfigDict(env_prefix=SHARED_ENV_PREFIX, extra="ignore")

    service_name: str = "dealerflow"
    kafka_bootstrap: str = "127.0.0.1:9092"
    #: How every Kafka client of the service connects (see docs/operations.md, "Kafka
    #: security"); :func:`dealerflow.runtime.kafka_security.kafka_client_options` turns
    #: these into client arguments.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] = "SCRAM-SHA-512"
    #: The service's principal, e.g. ``dealerflow-sales`` (``User:dealerflow-sales``).
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    #: CA bundle (PEM) that signed the brokers' certificates; None: the system's CAs.
    kafka_ssl_cafile: str | None = None
    #: Client certificate and key (PEM) for brokers that require mutual TLS.
    kafka_ssl_certfile: str | None = None
    kafka_ssl_keyfile: str | None = None
    kafka_ssl_key_password: SecretStr | None = None
    #: What the running service connects with: a role that does not own the schema (so
    #: row-level security holds; see docs/runtime-db.md).
    pg_dsn: str = "postgresql://postgres@127.0.0.1:5432/dealerflow"
    #: What ``migrate`` connects with: the schema's owner; defaults to ``pg_dsn``.
    pg_migration_dsn: str = ""
    #: The role ``migrate`` grants the schema's tables to (the role of ``pg_dsn`` when it
    #: is not the owner); empty: no grants (one role for everything).
    pg_app_role: str = ""
    #: PostgreSQL schema owned by this service; defaults to the service name ("-" -> "_").
    db_schema: str = ""
    pg_pool_min_size: int = Field(default=1, ge=0)
    pg_pool_max_size: int = Field(default=10, ge=1)
    #: Bounded waits on PostgreSQL, so a database that hangs (accepts, never answers)
    #: costs a request a 503 + Retry-After, not a hung request (docs/runtime-db.md):
    #: opening a connection, waiting for a pool connection (a full pool or a new
    #: connection), one statement.
    pg_connect_timeout_s: float = Field(default=DEFAULT_CONNECT_TIMEOUT_S, gt=0)
    pg_acquire_timeout_s: float = Field(default=DEFAULT_ACQUIRE_TIMEOUT_S, gt=0)
    pg_command_timeout_s: float = Field(default=DEFAULT_COMMAND_TIMEOUT_S, gt=0)
    topic_prefix: str = "dealerflow."
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    #: Larger request bodies are answered 413 (by Content-Length and while streaming).
    http_max_body_bytes: int = Field(default=1_048_576, ge=1)
    #: Browser origins allowed by CORS (JSON list, e.g. the staff console); empty: off.
    http_cors_origins: list[str] = Field(default_factory=list)
    #: Requests per client address to token-less endpoints and ending in 401
    #: (``limits`` notation, e.g. "60/minute"); empty: no limit.
    http_rate_limit_unauthenticated: str = "60/minute"
    #: A TLS terminator is in front: send Strict-Transport-Security.
    http_behind_tls: bool = False
    log_level: str = "INFO"
    log_json: bool = True
    #: Write the log to this file, rotated at ``log_file_max_bytes`` keeping
    #: ``log_file_backups`` old files, instead of stdout (dev: the files devinfra starts
    #: the services with; containers log to stdout, unset).
    log_file: str | None = None
    log_file_max_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    log_file_backups: int = Field(default=3, ge=1)
    otlp_endpoint: str | None = None
    #: 1.0 = real time; e.g. 3600 makes an hour of schedule pass every second (demos).
    clock_speed: float = Field(default=1.0, gt=0)
    #: The real instant an accelerated clock starts from (shared by all services so they
    #: agree on "now"); defaults to the real time at start-up.
    clock_start: AwareDatetime | None = None
    relay_batch_size: int = Field(default=1000, ge=1)
    relay_poll_interval_s: float = Field(default=1.0, gt=0)
    relay_linger_ms: int = Field(default=5, ge=0)
    relay_max_batch_bytes: int = Field(default=1_048_576, ge=16_384)
    relay_compression: str | None = None
    timer_batch_size: int = Field(default=500, ge=1)
    timer_poll_interval_s: float = Field(default=1.0, gt=0)
    timer_max_attempts: int = Field(default=10, ge=1)
    #: The purge (dealerflow.runtime.purge): real seconds between runs, and how long the
    #: inbox, idempotency keys and fired/cancelled timers are kept (days of the services'
    #: clock).
    purge_interval_s: float = Field(default=60.0, gt=0)
    purge_inbox_days: float = Field(default=14.0, gt=0)
    purge_idempotency_days: float = Field(default=7.0, gt=0)
    purge_timers_days: float = Field(default=30.0, gt=0)
    consumer_max_retries: int = Field(default=3, ge=0)
    consumer_batch_size: int = Field(default=500, ge=1)
    consumer_batch_timeout_ms: int = Field(default=100, ge=0)
    #: A consumed record larger than this is dead-lettered unread (an event is a fact, not
    #: a document: the largest catalogue event, DealerConfigured, is a few KB).
    consumer_max_event_bytes: int = Field(default=524_288, ge=1024)
    #: An event whose time (``ce_time`` or ``occurred_at``) is further ahead of the
    #: consumer's clock than this, or before ``consumer_min_event_time``, is dead-lettered
    #: (a producer's broken clock or a forged event would plan timers decades away; far
    #: enough for fixtures and replays dated ahead of a test's clock).
    consumer_max_event_lead_s: float = Field(default=5 * 365 * 24 * 3600, gt=0)  # 5 years
    consumer_min_event_time: AwareDatetime = datetime(2000, 1, 1, tzinfo=UTC)
    #: A time an HTTP request records as having happened (contacted_at, arrived_at, ...)
    #: may lie this far ahead of the service's clock (two machines' clock skew); the two
    #: event-time bounds above apply to request times too (dealerflow.runtime.time_bounds).
    request_max_clock_skew_s: float = Field(default=300.0, ge=0)
    #: An event naming a dealer with no materialised configuration (no DealerConfigured
    #: seen): "refuse" dead-letters it with the reason; "defaults" handles it with the
    #: environment defaults (counted). DealerConfigured itself is always accepted.
    unknown_dealers: Literal["refuse", "defaults"] = "refuse"
    #: Dealer group used for customer identity when a request does not name one.
    default_dealer_group: str = "default"
    #: Partial DealerPolicy (JSON in ``<PREFIX>POLICY_OVERRIDES``): what the environment
    #: layers over the DOMAIN.md defaults for a dealer the dealers service has not
    #: configured (a configured dealer's materialised configuration is complete).
    policy_overrides: dict[str, Any] = Field(default_factory=dict)
    #: Partial DealerSettings (profile, people; JSON in ``<PREFIX>DEALER_DEFAULTS``) over
    #: those: the rest of what a dealer no DealerConfigured event has named gets.
    dealer_defaults: dict[str, Any] = Field(default_factory=dict)
    #: How long (real seconds) a dealer's configuration is used without asking the
    #: database whether it changed (docs/runtime-db.md, "Dealer configuration cache").
    #: The process that materialises a ``DealerConfigured`` drops its copy at once; other
    #: replicas and direct writes are seen within this time. 0: check on every use case.
    dealer_configuration_cache_s: float = Field(default=1.0, ge=0, le=60)
    #: Bearer tokens (see dealerflow.runtime.auth): the issuer (``iss``), the audience
    #: (``aud``) and where the issuer's signing keys are (JWKS; https:// or file://).
    #: Without a JWKS URL every /v1 request is refused (401): the service fails closed.
    auth_issuer: str = "https://issuer.dealerflow.local/dev"
    auth_audience: str = "dealerflow"
    auth_jwks_url: str | None = None
    auth_leeway_s: float = Field(default=30.0, ge=0, le=300)

    def environment_layers(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The environment's layers under every dealer's configuration, lowest first:
        ``policy_overrides`` (as the ``policy`` section), then ``dealer_defaults``."""
        return {"policy": dict(self.policy_overrides)}, dict(self.dealer_defaults)

    @field_validator("http_rate_limit_unauthenticated")
    @classmethod
    def _parse_rate_limit(cls, value: str) -> str:
        if value.strip():
            parse_rate_limit(value)  # fail at start-up, not at the first request
        return value.strip()

    @model_validator(mode="after")
    def _check_kafka_security(self) -> ServiceSettings:
        if self.kafka_security_protocol.startswith("SASL_") and not (
            self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                f"kafka_security_protocol={self.kafka_security_protocol} needs "
                "kafka_sasl_username and kafka_sasl_password"
            )
        if bool(self.kafka_ssl_certfile) != bool(self.kafka_ssl_keyfile):
            raise ValueError("kafka_ssl_certfile and kafka_ssl_keyfile go together")
        return self

    @model_validator(mode="after")
    def _derive_schema(self) -> ServiceSettings:
        if not self.db_schema:
            self.db_schema = self.service_name.replace("-", "_")
        if not self.pg_migration_dsn:
            self.pg_migration_dsn = self.pg_dsn
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Insert the shared ``DEALERFLOW_*`` variables after the service's own prefix."""
        shared = EnvSettingsSource(settings_cls, env_prefix=SHARED_ENV_PREFIX)
        return init_settings, env_settings, shared, dotenv_settings, file_secret_settings

    def clock(self, start: datetime | None = None) -> Clock:
        """The clock this service runs on: real time, or accelerated by ``clock_speed``."""
        if self.clock_speed == 1.0:
            return SystemClock()
        if start is None and self.clock_start is not None:
            # Every service given the same DEALERFLOW_CLOCK_START reads the same time.
            return AcceleratedClock(self.clock_start, self.clock_speed, anchor=self.clock_start)
        return AcceleratedClock(start or datetime.now().astimezone(), self.clock_speed)

    def redacted(self) -> dict[str, Any]:
        """Settings as a dict for start-up logs, with the passwords (DSN, Kafka) hidden."""
        data = self.model_dump()
        for secret in ("kafka_sasl_password", "kafka_ssl_key_password"):
            if data.get(secret) is not None:
                data[secret] = "***"
        for name in ("pg_dsn", "pg_migration_dsn"):
            dsn = str(data.get(name, ""))
            if "@" in dsn and "://" in dsn:
                scheme, rest = dsn.split("://", 1)
                creds, host = rest.rsplit("@", 1)
                if ":" in creds:
                    creds = creds.split(":", 1)[0] + ":***"
                data[name] = f"{scheme}://{creds}@{host}"
        return data
