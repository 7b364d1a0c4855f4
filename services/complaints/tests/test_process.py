"""`dealerflow-complaints migrate` and `serve` as a real process, configured only by
environment variables (what the e2e harness and the deployments do)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from dealerflow.contracts.envelope import decode
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.devinfra.tokens import auth_header, tokens_auth_settings
from dealerflow.runtime.dlq import read_dead_letters

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_migrate_then_serve_from_environment(
    kafka_bootstrap: str,
    pg_dsn: str,
    pg_schema: str,
    topic_prefix: str,
    create_topics: Callable[..., Awaitable[None]],
) -> None:
    await create_topics(*TopicRegistry(topic_prefix).all())
    port = _free_port()
    env = {
        **os.environ,
        "DEALERFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "DEALERFLOW_PG_DSN": pg_dsn,
        "DEALERFLOW_TOPIC_PREFIX": topic_prefix,
        "DEALERFLOW_COMPLAINTS_DB_SCHEMA": pg_schema,
        "DEALERFLOW_COMPLAINTS_HTTP_PORT": str(port),
        **{f"DEALERFLOW_{k.upper()}": v for k, v in tokens_auth_settings().items()},
        "DEALERFLOW_COMPLAINTS_POLICY_OVERRIDES": json.dumps(
            {
                "complaints": {
                    "sla": {"normal": {"acknowledge": {"duration": "PT1H", "mode": "wall"}}}
                }
            }
        ),
    }
    command = [sys.executable, "-m", "dealerflow.complaints"]
    migrate = await asyncio.create_subprocess_exec(
        *command, "migrate", env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(migrate.communicate(), 60)
    assert migrate.returncode == 0
    assert b"complaints:0001_init" in out

    server = await asyncio.create_subprocess_exec(*command, "serve", env=env)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=auth_header()
        ) as client:

            async def ready() -> bool:
                try:
                    return (await client.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            for _ in range(300):
                if await ready():
                    break
                assert server.returncode is None, "the service exited"
                await asyncio.sleep(0.2)
            else:
                raise AssertionError("the service never became ready")
            body: dict[str, Any] = {
                "dealer_id": "sh-pudong-01",
                "contact": {"name": "张伟", "phone": "13800138000"},
                "channel": "on_site",
                "category": "sales_service",
                "summary": "Waited an hour at delivery",
                "severity": "normal",
            }
            created = await client.post("/v1/complaints", json=body)
            assert created.status_code == 201, created.text
            # the environment's overrides are every dealer's defaults
            ack = next(c for c in created.json()["clocks"] if c["kind"] == "acknowledge")
            assert ack["sla_seconds"] == 3600
            assert (await client.get("/metrics")).status_code == 200

            # the relay published ComplaintOpened (read_dead_letters reads any topic)
            topic = TopicRegistry(topic_prefix).name("complaints")
            for _ in range(150):
                records = await read_dead_letters(kafka_bootstrap, topic, timeout_s=0.5)
                if records:
                    break
                await asyncio.sleep(0.2)
            types = [decode(r.value, r.headers).meta.type for r in records]
            assert types == ["dealerflow.complaints.ComplaintOpened.v1"]
    finally:
        if server.returncode is None:
            server.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(server.wait(), 30)
    # uvicorn drains, then re-raises the SIGTERM it caught (exit by that signal)
    assert code in (0, -signal.SIGTERM)
