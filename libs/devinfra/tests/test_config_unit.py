"""Unit tests of the native runner's configuration and generated files (no servers)."""

from __future__ import annotations

import base64
import dataclasses
import os
from pathlib import Path

import pytest

from dealerflow.devinfra import cli, kafka, postgres
from dealerflow.devinfra.config import (
    InfraError,
    KafkaListener,
    app_dsn,
    default_home,
    find_repo_root,
    resolve_config,
)
from dealerflow.devinfra.versions import KAFKA_VERSION, LOG4J_VERSION


def test_profiles_have_distinct_default_ports() -> None:
    dev = resolve_config("dev", env={})
    test = resolve_config("test", env={})
    assert (dev.kafka_port, dev.kafka_controller_port, dev.pg_port) == (9092, 9093, 5432)
    assert (test.kafka_port, test.kafka_controller_port, test.pg_port) == (19092, 19093, 15432)
    assert dev.state_dir != test.state_dir
    assert test.pg_dsn == "postgresql://postgres@127.0.0.1:15432/dealerflow"
    assert test.kafka_bootstrap == "127.0.0.1:19092"


def test_explicit_ports_beat_environment_which_beats_defaults(tmp_path: Path) -> None:
    env = {"DEALERFLOW_TEST_INFRA_PG_PORT": "25432", "DEALERFLOW_TEST_INFRA_KAFKA_PORT": "29092"}
    from_env = resolve_config("test", env=env, home=tmp_path)
    assert (from_env.kafka_port, from_env.pg_port) == (29092, 25432)
    # A moved broker port drags the controller port along unless it is given.
    assert from_env.kafka_controller_port == 29093
    explicit = resolve_config("test", env=env, home=tmp_path, pg_port=35432)
    assert explicit.pg_port == 35432
    # The dev profile ignores the test profile's variables.
    assert resolve_config("dev", env=env).pg_port == 5432


def test_bad_configuration_is_rejected() -> None:
    with pytest.raises(InfraError, match="unknown profile"):
        resolve_config("prod", env={})
    with pytest.raises(InfraError, match="ports must differ"):
        resolve_config("dev", env={}, kafka_port=5432)
    with pytest.raises(InfraError, match="not a port"):
        resolve_config("dev", env={"DEALERFLOW_INFRA_PG_PORT": "abc"})


def test_home_defaults_to_repo_dot_dealerflow_unless_overridden(tmp_path: Path) -> None:
    root = find_repo_root()
    assert root is not None
    assert (root / "libs" / "devinfra").is_dir()
    assert default_home({}) == root / ".dealerflow"
    assert default_home({"DEALERFLOW_HOME": str(tmp_path)}) == tmp_path.resolve()


def test_env_lines_are_shell_exports() -> None:
    cfg = resolve_config("test", env={})
    assert cli.env_lines(cfg)[:5] == [  # then the issuer's (test_auth_cli_unit)
        "export DEALERFLOW_KAFKA_BOOTSTRAP=127.0.0.1:19092",
        "export DEALERFLOW_PG_DSN=postgresql://dealerflow_app:dealerflow_app@127.0.0.1:15432/dealerflow",
        "export DEALERFLOW_PG_MIGRATION_DSN=postgresql://postgres@127.0.0.1:15432/dealerflow",
        "export DEALERFLOW_PG_APP_ROLE=dealerflow_app",
        "export DEALERFLOW_UNKNOWN_DEALERS=defaults",
    ]


def test_the_app_dsn_is_the_owner_dsn_with_the_app_role() -> None:
    assert (
        app_dsn("postgresql://postgres:pw@db.example:5433/dealerflow?sslmode=require")
        == "postgresql://dealerflow_app:dealerflow_app@db.example:5433/dealerflow?sslmode=require"
    )


def test_server_properties_describe_a_single_kraft_node(tmp_path: Path) -> None:
    cfg = resolve_config("test", env={}, home=tmp_path, kafka_port=29092)
    props = dict(line.split("=", 1) for line in kafka.server_properties(cfg).splitlines() if line)
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:29093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:29092"
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["log.dirs"] == str(tmp_path.resolve() / "test" / "kafka" / "data")


def test_extra_listeners_are_bound_and_advertised_as_told(tmp_path: Path) -> None:
    cfg = dataclasses.replace(
        resolve_config("test", env={}, home=tmp_path, kafka_port=29092),
        kafka_extra_listeners=(KafkaListener("LINK_LEADS", 29100, "127.0.0.1:41000"),),
    )
    props = dict(line.split("=", 1) for line in kafka.server_properties(cfg).splitlines() if line)
    assert props["listeners"] == (
        "PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093,LINK_LEADS://127.0.0.1:29100"
    )
    assert props["advertised.listeners"] == (
        "PLAINTEXT://127.0.0.1:29092,LINK_LEADS://127.0.0.1:41000"
    )
    assert props["listener.security.protocol.map"] == (
        "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,LINK_LEADS:PLAINTEXT"
    )
    assert props["inter.broker.listener.name"] == "PLAINTEXT"


def test_a_durable_cluster_keeps_acknowledged_commits_across_a_crash(tmp_path: Path) -> None:
    fast = resolve_config("test", env={}, home=tmp_path)
    assert "synchronous_commit = off" in postgres.server_conf(fast)
    durable = postgres.server_conf(dataclasses.replace(fast, pg_durable=True))
    settings = dict(line.split(" = ", 1) for line in durable.splitlines() if " = " in line)
    assert (settings["fsync"], settings["synchronous_commit"]) == ("on", "on")
    assert settings["full_page_writes"] == "on"
    assert settings["max_connections"] == "300"


def test_pom_pins_the_versions_in_one_place() -> None:
    pom = kafka.pom_xml()
    assert f"<version>{KAFKA_VERSION}</version>" in pom
    assert f"<version>{LOG4J_VERSION}</version>" in pom
    assert "<artifactId>kafka_2.13</artifactId>" in pom


def test_cluster_ids_look_like_kafka_uuids() -> None:
    ids = {kafka.new_cluster_id() for _ in range(50)}
    assert len(ids) == 50
    for cluster_id in ids:
        assert len(cluster_id) == 22
        assert not cluster_id.startswith("-")
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_missing_tools_say_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    cfg = dataclasses.replace(resolve_config("test", env={}, home=tmp_path), cache_dir=tmp_path)
    with pytest.raises(InfraError, match="apt-get install -y maven"):
        kafka.ensure_jars(cfg, progress=lambda _: None)
    with pytest.raises(InfraError, match="openjdk-17"):
        kafka.require_java()


def test_a_pid_file_of_another_process_is_not_taken_for_our_broker(tmp_path: Path) -> None:
    cfg = resolve_config("test", env={}, home=tmp_path, kafka_port=29092, pg_port=29432)
    pid_file = kafka.kafka_dir(cfg) / "kafka.pid"
    pid_file.parent.mkdir(parents=True)
    pid_file.write_text(f"{os.getpid()}\n")  # alive, but pytest is not kafka.Kafka
    status = kafka.status(cfg)
    assert status.state in ("stopped", "external")
    assert status.pid is None
    assert not pid_file.exists()
    assert kafka.stop(cfg, progress=lambda _: None) is False


def test_postgres_status_of_a_fresh_state_dir_is_stopped(tmp_path: Path) -> None:
    cfg = resolve_config("test", env={}, home=tmp_path, kafka_port=29092, pg_port=1)
    assert postgres.status(cfg).state == "stopped"
    assert postgres.stop(cfg, progress=lambda _: None) is False


def test_cli_reports_errors_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["status", "--kafka-port", "29092", "--pg-port", "29092"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("dealerflow-infra: error: ports must differ")
    assert "Traceback" not in err
