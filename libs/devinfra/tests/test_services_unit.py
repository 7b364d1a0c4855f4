"""The local stack's service list and the client's dealers calls, without processes or
a network: dealers is listed (and migrated) first, the client merge patches."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from dealerflow.contracts.topics import TopicRegistry
from dealerflow.devinfra import services
from dealerflow.devinfra.client import DealerflowClient
from dealerflow.runtime.settings import ServiceSettings


def test_dealers_is_the_sixth_service_and_comes_first() -> None:
    first = services.SERVICES[0]
    assert (first.name, first.package, first.port) == ("dealers", "dealerflow.dealers", 8006)
    assert first.env_prefix == "DEALERFLOW_DEALERS_"
    assert [s.name for s in services.SERVICES[1:]] == [
        "leads",
        "sales",
        "service-center",
        "complaints",
        "notifier",
    ]
    config = services.StackConfig(
        kafka_bootstrap="k:9092", pg_dsn="postgresql://x", schema_prefix="t1_"
    )
    assert config.schema(first) == "t1_dealers"  # its import finds t1_notifier, t1_complaints


class _Finished:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log, self.returncode = name, log, 0

    def communicate(self) -> tuple[str, None]:
        self.log.append(f"done {self.name}")
        return f"{self.name}: up to date\n", None


def test_dealers_migrates_before_the_others_start(monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[str] = []

    def popen(command: list[str], **_: Any) -> _Finished:
        name = command[2].rsplit(".", 1)[-1]
        log.append(f"start {name}")
        return _Finished(name, log)

    monkeypatch.setattr(services.subprocess, "Popen", popen)
    config = services.StackConfig(kafka_bootstrap="k:9092", pg_dsn="postgresql://x")
    services.migrate_all(config, progress=lambda _: None)
    assert log[:2] == ["start dealers", "done dealers"]
    assert sorted(log[2:]) == sorted(
        f"{step} {s.package.rsplit('.', 1)[-1]}"
        for s in services.SERVICES[1:]
        for step in ("start", "done")
    )


async def test_the_client_merge_patches_a_dealers_section() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"configuration_version": 1})

    client = DealerflowClient(
        {"dealers": "http://dealers"}, kafka_bootstrap="k:9092", topics=TopicRegistry()
    )
    client._http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    async with client:
        await client.configure_dealer("D001", {"service": {"warranty_months": 48}}, section="rules")
        await client.configure_group("east", {"policy": {"sales": None}})
    patch, group = seen
    assert (patch.method, patch.url.path) == ("PATCH", "/v1/dealers/D001/rules")
    assert patch.headers["content-type"] == "application/merge-patch+json"
    assert json.loads(patch.content) == {"service": {"warranty_months": 48}}
    assert group.url.path == "/v1/dealer-groups/east"
    assert json.loads(group.content) == {"policy": {"sales": None}}


def test_services_run_as_the_app_role_and_migrate_as_the_owner() -> None:
    spec = services.SERVICES[1]
    config = services.StackConfig(
        kafka_bootstrap="k:9092",
        pg_dsn="postgresql://owner@h/db",
        pg_app_dsn="postgresql://app@h/db",
    )
    env = config.environment(spec, base={})
    assert env["DEALERFLOW_PG_DSN"] == "postgresql://app@h/db"
    assert env["DEALERFLOW_PG_MIGRATION_DSN"] == "postgresql://owner@h/db"
    assert env["DEALERFLOW_PG_APP_ROLE"] == "dealerflow_app"
    assert env["DEALERFLOW_UNKNOWN_DEALERS"] == "defaults"
    one_role = services.StackConfig(kafka_bootstrap="k:9092", pg_dsn="postgresql://owner@h/db")
    env = one_role.environment(spec, base={"DEALERFLOW_UNKNOWN_DEALERS": "refuse"})
    assert env["DEALERFLOW_PG_DSN"] == env["DEALERFLOW_PG_MIGRATION_DSN"]
    assert env["DEALERFLOW_PG_APP_ROLE"] == ""
    assert env["DEALERFLOW_UNKNOWN_DEALERS"] == "refuse"


def test_stack_dsns_follow_the_environment() -> None:
    profile = ("postgresql://owner@p/db", "postgresql://app@p/db")
    assert services.stack_dsns({}, *profile) == profile
    assert services.stack_dsns({"DEALERFLOW_PG_DSN": "postgresql://x/db"}, *profile) == (
        "postgresql://x/db",
        None,
    )
    both = {
        "DEALERFLOW_PG_DSN": "postgresql://a/db",
        "DEALERFLOW_PG_MIGRATION_DSN": "postgresql://o/db",
    }
    assert services.stack_dsns(both, *profile) == ("postgresql://o/db", "postgresql://a/db")


def test_the_dev_stack_sets_the_notifier_drivers_explicitly() -> None:
    """The notifier has no default driver: ``make up``/``make demo`` and the e2e stack set
    recording ones; a driver the environment sets wins."""
    drivers = json.loads(services.DEV_CHANNEL_ENV["DEALERFLOW_NOTIFIER_CHANNEL_DRIVERS"])
    assert drivers == dict.fromkeys(("sms", "wechat", "email", "webhook"), "recording")
    env = services.dev_channel_env({"DEALERFLOW_NOTIFIER_STAFF_CHANNEL_DRIVER": "webhook"})
    assert env["DEALERFLOW_NOTIFIER_STAFF_CHANNEL_DRIVER"] == "webhook"
    assert env["DEALERFLOW_NOTIFIER_CHANNEL_DRIVERS"] == json.dumps(drivers)


def test_dev_service_logs_are_rotated_by_the_services(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_file = tmp_path / "leads.log"
    for name, value in services.log_environment(log_file).items():
        monkeypatch.setenv(name, value)
    settings = ServiceSettings(service_name="leads")
    assert settings.log_file == str(log_file)
    assert settings.log_file_max_bytes == services.DEV_LOG_MAX_BYTES == 20 * 1024 * 1024
    assert settings.log_file_backups == 3


def test_one_service_can_have_addresses_of_its_own() -> None:
    config = services.StackConfig(
        kafka_bootstrap="k:9092",
        pg_dsn="postgresql://owner@h/db",
        extra_env={"DEALERFLOW_KAFKA_BOOTSTRAP": "everyone:9092"},
        service_env={"leads": {"DEALERFLOW_KAFKA_BOOTSTRAP": "proxy:1234"}},
    )
    by_name = {s.name: s for s in services.SERVICES}
    assert config.environment(by_name["leads"], {})["DEALERFLOW_KAFKA_BOOTSTRAP"] == "proxy:1234"
    sales = config.environment(by_name["sales"], {})
    assert sales["DEALERFLOW_KAFKA_BOOTSTRAP"] == "everyone:9092"
