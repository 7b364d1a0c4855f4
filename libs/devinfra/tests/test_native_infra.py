"""The native runner for real: Kafka and PostgreSQL on spare ports, up twice, topics, down.

Takes about 20 s (two JVM/PostgreSQL starts). It uses its own state dir under pytest's
tmp_path, which the ``postgres`` OS user cannot enter when we run as root, so it also
covers the relocation of the data directory.
"""

from __future__ import annotations

import socket
from pathlib import Path

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from dealerflow.devinfra import cli, kafka, postgres
from dealerflow.devinfra.config import resolve_config
from dealerflow.devinfra.proc import pid_alive, run_coroutine
from dealerflow.runtime.kafka_admin import catalogue_topics, create_catalogue_topics

pytestmark = pytest.mark.integration


def _spare_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


async def _partitions(bootstrap: str, topics: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(topics)}
    finally:
        await admin.close()


async def _database(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        return str(await conn.fetchval("SELECT current_database()"))
    finally:
        await conn.close()


def test_up_twice_topics_and_down(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kafka_port, controller_port, pg_port = _spare_ports(3)
    home = tmp_path / "home"
    cfg = resolve_config(
        "test",
        home=home,
        kafka_port=kafka_port,
        kafka_controller_port=controller_port,
        pg_port=pg_port,
    )
    flags = [
        "--profile",
        "test",
        "--home",
        str(home),
        "--kafka-port",
        str(kafka_port),
        "--kafka-controller-port",
        str(controller_port),
        "--pg-port",
        str(pg_port),
    ]
    pids: dict[str, int | None] = {}
    try:
        first = cli.up(cfg, topics=False)
        pids = {status.name: status.pid for status in first}
        assert {status.name: status.state for status in first} == {
            "kafka": "running",
            "postgres": "running",
        }
        assert all(pid_alive(pid) for pid in pids.values() if pid)
        assert kafka.broker_answers(cfg.kafka_bootstrap)
        assert run_coroutine(lambda: _database(cfg.pg_dsn)) == "dealerflow"

        # Running `up` again is harmless: same processes, exit code 0, addresses printed.
        capsys.readouterr()
        assert cli.main(["up", "--no-topics", *flags]) == 0
        out = capsys.readouterr().out
        assert cfg.kafka_bootstrap in out
        assert cfg.pg_dsn in out
        assert {s.name: s.pid for s in (kafka.status(cfg), postgres.status(cfg))} == pids

        created = run_coroutine(
            lambda: create_catalogue_topics(cfg.kafka_bootstrap, "lifecycle.", partitions=2)
        )
        assert sorted(created) == sorted(catalogue_topics("lifecycle."))
        assert "lifecycle.sales.dlq" in created
        again = run_coroutine(
            lambda: create_catalogue_topics(cfg.kafka_bootstrap, "lifecycle.", partitions=2)
        )
        assert again == []
        sizes = run_coroutine(lambda: _partitions(cfg.kafka_bootstrap, created))
        assert set(sizes.values()) == {2}

        assert cli.main(["status", *flags]) == 0
    finally:
        cli.down(cfg, purge=True)
    assert not any(pid_alive(pid) for pid in pids.values() if pid)
    assert kafka.status(cfg).state == "stopped"
    assert postgres.status(cfg).state == "stopped"
    assert cli.main(["status", *flags]) == 3
    assert not (home / "test" / "kafka").exists()
