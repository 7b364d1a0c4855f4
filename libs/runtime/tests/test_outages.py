"""A database that is down answers 503 + Retry-After (dependency-unavailable), not 500.

The outages are made per pool or per connection, never by stopping the shared server:
a pool pointed at a closed port, backends terminated with ``pg_terminate_backend`` in
the middle of a transaction, a pool whose only connection is taken (acquire timeout), a
database that hangs (a FaultProxy in blackhole mode: accepts, never answers).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from fastapi import APIRouter, FastAPI, Request

from dealerflow.devinfra.fault_proxy import FaultProxy, proxied_pool
from dealerflow.devinfra.tokens import auth_header, tokens_auth_settings
from dealerflow.runtime.db import create_pool, transaction
from dealerflow.runtime.http import create_http_app, postgres_check
from dealerflow.runtime.outages import RETRY_AFTER_S, unavailable_dependency, unavailable_problem
from dealerflow.runtime.problems import problem_type
from dealerflow.runtime.service import ServiceDefinition, build_app, service_context
from dealerflow.runtime.settings import ServiceSettings

CLOSED_PORT_DSN = "postgresql://postgres@127.0.0.1:1/postgres"


# -- which errors are outages ------------------------------------------------------------


def _raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


def test_asyncpg_connection_errors_are_postgres_outages() -> None:
    for exc in (
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.InterfaceError("cannot call Transaction.__aexit__(): connection is closed"),
    ):
        assert unavailable_dependency(exc) == "postgres", exc


def test_kafka_connection_errors_are_kafka_outages() -> None:
    assert unavailable_dependency(KafkaConnectionError("no connection")) == "kafka"
    assert unavailable_dependency(KafkaTimeoutError()) == "kafka"
    problem = unavailable_problem("kafka")
    assert (problem.status, problem.headers) == (503, {"Retry-After": str(RETRY_AFTER_S)})
    assert (
        problem.detail == f"The event broker (Kafka) is unavailable; retry after {RETRY_AFTER_S} s."
    )


def test_an_outage_hidden_behind_a_later_error_is_found() -> None:
    def roll_back() -> None:
        try:
            raise asyncpg.AdminShutdownError("terminating connection")
        except asyncpg.AdminShutdownError:
            raise RuntimeError("while rolling back") from None

    with pytest.raises(RuntimeError) as caught:
        roll_back()
    assert caught.value.__context__ is not None
    assert unavailable_dependency(caught.value) == "postgres"


def test_os_errors_are_outages_only_inside_a_client_library() -> None:
    # raised here, not inside asyncpg or aiokafka: a bug or the service's own socket
    assert unavailable_dependency(_raised(ConnectionRefusedError(111, "refused"))) is None
    assert unavailable_dependency(_raised(TimeoutError())) is None
    assert unavailable_dependency(_raised(FileNotFoundError(2, "no such file"))) is None
    assert unavailable_dependency(_raised(ValueError("bad"))) is None
    assert unavailable_dependency(asyncpg.UniqueViolationError("duplicate key")) is None


def test_a_group_is_an_outage_only_when_every_member_is() -> None:
    down = asyncpg.AdminShutdownError("terminating")
    assert unavailable_dependency(ExceptionGroup("g", [down, down])) == "postgres"
    assert unavailable_dependency(ExceptionGroup("g", [down, ValueError("bug")])) is None


async def test_a_refused_connect_inside_asyncpg_is_a_postgres_outage() -> None:
    pool = await asyncpg.create_pool(CLOSED_PORT_DSN, min_size=0, max_size=1, timeout=2)
    try:
        with pytest.raises(ConnectionRefusedError) as caught:
            async with pool.acquire():
                pass
        assert unavailable_dependency(caught.value) == "postgres"
    finally:
        await pool.close()


# -- over HTTP -------------------------------------------------------------------------


def _settings() -> ServiceSettings:
    return ServiceSettings(service_name="outagetest", **tokens_auth_settings())


def _app(pool: asyncpg.Pool, **extra: Any) -> FastAPI:
    router = APIRouter(prefix="/v1")

    @router.get("/count")
    async def count() -> dict[str, int]:
        async with transaction(pool) as conn:
            return {"n": int(await conn.fetchval("select 1"))}

    @router.post("/slow")
    async def slow() -> dict[str, int]:
        async with transaction(pool) as conn:
            await conn.execute("select pg_sleep(5)")
        return {"n": 1}

    @router.get("/busy")
    async def busy() -> dict[str, int]:
        async with pool.acquire(timeout=0.2) as conn:
            return {"n": int(await conn.fetchval("select 1"))}

    @router.get("/file")
    async def file() -> dict[str, int]:
        raise FileNotFoundError(2, "No such file or directory")

    return create_http_app(
        title="outages", version="1", settings=_settings(), routers=[router], **extra
    )


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t", headers=auth_header())


def _assert_unavailable(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == str(RETRY_AFTER_S)
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == problem_type("dependency-unavailable")
    assert body["dependency"] == "postgres"
    assert body["request_id"] == response.headers["x-request-id"]
    return body


@pytest.fixture
async def dead_pool() -> AsyncIterator[asyncpg.Pool]:
    # min_size=0: creating the pool does not connect, acquiring does (and is refused)
    pool = await asyncpg.create_pool(CLOSED_PORT_DSN, min_size=0, max_size=2, timeout=2)
    yield pool
    await pool.close()


@pytest.mark.integration
async def test_a_database_at_a_closed_port_is_503_with_retry_after(
    dead_pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="dealerflow.http")
    async with _client(_app(dead_pool)) as client:
        response = await client.get("/v1/count")
        ready = await client.get("/readyz")
        other = await client.get("/v1/file")
    _assert_unavailable(response)
    # an outage is one warning line, not an ERROR with a stack trace
    outage_lines = [r for r in caplog.records if getattr(r, "dependency", None) == "postgres"]
    assert [r.levelno for r in outage_lines] == [logging.WARNING]
    assert outage_lines[0].exc_info is None
    assert ready.status_code == 200  # no readiness checks in this app
    # an OSError of the service's own (not inside a client library) stays a 500
    assert other.status_code == 500


@pytest.mark.integration
async def test_readyz_503_names_retry_after(dead_pool: asyncpg.Pool) -> None:
    app = _app(dead_pool, readiness=[postgres_check(dead_pool, timeout_s=2)])
    async with _client(app) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.headers["retry-after"] == str(RETRY_AFTER_S)
    assert ready.json()["type"] == problem_type("not-ready")


@pytest.mark.integration
async def test_a_backend_terminated_mid_transaction_is_503_and_the_pool_recovers(
    pg_pool: asyncpg.Pool, pg_dsn: str
) -> None:
    admin = await asyncpg.connect(pg_dsn)
    try:
        async with _client(_app(pg_pool)) as client:
            request = asyncio.create_task(client.post("/v1/slow"))
            pids: list[int] = []
            for _ in range(100):  # until the request's pg_sleep runs
                pids = [
                    row["pid"]
                    for row in await admin.fetch(
                        "select pid from pg_stat_activity where query = 'select pg_sleep(5)'"
                        " and state = 'active'"
                    )
                ]
                if pids:
                    break
                await asyncio.sleep(0.05)
            assert pids, "the request never reached the database"
            for pid in pids:
                await admin.execute("select pg_terminate_backend($1)", pid)
            _assert_unavailable(await asyncio.wait_for(request, 10))
            # the outage was one connection's: the next request gets a fresh one
            after = await client.get("/v1/count")
        assert after.status_code == 200, after.text
    finally:
        await admin.close()


@pytest.mark.integration
async def test_a_pool_acquire_timeout_is_503(pg_dsn: str) -> None:
    pool = await asyncpg.create_pool(pg_dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire(), _client(_app(pool)) as client:  # the only connection
            response = await client.get("/v1/busy")
        _assert_unavailable(response)
    finally:
        await pool.close()


@pytest.mark.integration
async def test_a_full_pool_is_503_after_the_pools_own_acquire_timeout(pg_dsn: str) -> None:
    # the route asks no timeout of its own: the pool's default bounds the wait
    pool = await create_pool(pg_dsn, "public", min_size=1, max_size=1, acquire_timeout_s=0.5)
    try:
        async with pool.acquire(), _client(_app(pool)) as client:  # the only connection
            started = time.monotonic()
            response = await client.get("/v1/count")
            waited = time.monotonic() - started
        _assert_unavailable(response)
        assert 0.4 < waited < 3.0
    finally:
        await pool.close()


# -- a database that hangs: accepts connections, never answers ---------------------------

HUNG_BOUND_S = 1.0  # each of the pool's timeouts in these tests


async def _hung_pool(pg_dsn: str, min_size: int) -> tuple[FaultProxy, asyncpg.Pool]:
    return await proxied_pool(
        pg_dsn, "public", min_size=min_size, max_size=2, timeout_s=HUNG_BOUND_S
    )


async def _timed_get(client: httpx.AsyncClient, path: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await asyncio.wait_for(client.get(path), 30)  # never the test's hang
    return response, time.monotonic() - started


@pytest.mark.integration
@pytest.mark.parametrize(
    "min_size",
    [
        pytest.param(1, id="open-connection-command-timeout"),
        pytest.param(0, id="new-connection-connect-timeout"),
    ],
)
async def test_a_hung_database_is_503_within_the_bound_and_served_again_after(
    pg_dsn: str, min_size: int
) -> None:
    proxy, pool = await _hung_pool(pg_dsn, min_size)
    try:
        async with _client(_app(pool)) as client:
            before, _ = await _timed_get(client, "/v1/count")
            assert before.status_code == 200, before.text
            await proxy.blackhole()
            for _ in range(3):  # the first and the ones after (the pool not wedged)
                response, waited = await _timed_get(client, "/v1/count")
                _assert_unavailable(response)
                # one statement (or connect) timeout
                assert waited < 2 * HUNG_BOUND_S + 1.0, waited
            await proxy.open()
            after, waited = await _timed_get(client, "/v1/count")
        assert after.status_code == 200, after.text
        assert waited < 2 * HUNG_BOUND_S + 1.0, waited
    finally:
        await proxy.cut()
        await pool.close()


@pytest.mark.integration
@pytest.mark.parametrize("hangs_at", ["begin", "statement"])
async def test_a_transaction_on_a_hung_database_fails_after_one_timeout_not_two(
    pg_dsn: str, hangs_at: str
) -> None:
    # neither the ROLLBACK nor the release waits for the server to confirm the cancel
    proxy, pool = await proxied_pool(pg_dsn, "public", timeout_s=2.0)
    try:
        hung_at: list[float] = []

        async def work() -> None:
            async with transaction(pool) as conn:
                if hangs_at == "statement":
                    await proxy.blackhole()
                    hung_at.append(time.monotonic())
                await conn.fetchval("select 1")

        if hangs_at == "begin":
            await proxy.blackhole()
        started = time.monotonic()
        with pytest.raises((TimeoutError, asyncpg.InterfaceError)) as caught:
            await work()
        waited = time.monotonic() - (hung_at[0] if hung_at else started)
        assert unavailable_dependency(caught.value) == "postgres"
        assert 1.9 < waited < 3.5, waited  # one 2 s timeout; waiting for the cancel: 4 s
        await proxy.open()
        assert await pool.fetchval("select 1") == 1
    finally:
        await proxy.cut()
        await pool.close()


@pytest.mark.integration
async def test_a_slow_database_within_the_bound_is_slow_not_unavailable(pg_dsn: str) -> None:
    proxy, pool = await _hung_pool(pg_dsn, min_size=1)
    try:
        proxy.latency_s = 0.1  # every chunk each way: a slow link, well within 1 s
        async with _client(_app(pool)) as client:
            response, waited = await _timed_get(client, "/v1/count")
        assert response.status_code == 200, response.text
        assert waited >= 0.2  # it did go through the slow link
    finally:
        await proxy.cut()
        await pool.close()


@pytest.mark.integration
async def test_closing_a_pool_on_a_hung_database_is_bounded(pg_dsn: str) -> None:
    proxy, pool = await _hung_pool(pg_dsn, min_size=2)
    try:
        await proxy.blackhole()
        started = time.monotonic()
        await asyncio.wait_for(pool.close(), 30)
        assert time.monotonic() - started < HUNG_BOUND_S + 1.0
    finally:
        await proxy.cut()


@pytest.mark.integration
async def test_a_service_built_from_its_settings_answers_503_while_its_database_hangs(
    pg_dsn: str,
) -> None:
    # the timeouts come from the settings (DEALERFLOW_PG_*_TIMEOUT_S) through build_app
    proxy, proxied = FaultProxy.for_dsn(pg_dsn)
    await proxy.open()
    router = APIRouter(prefix="/v1")

    @router.get("/count")
    async def count(request: Request) -> dict[str, int]:
        n = await service_context(request).run_in_transaction(
            lambda uc: uc.conn.fetchval("select 1")
        )
        return {"n": int(n)}

    definition: ServiceDefinition[ServiceSettings] = ServiceDefinition(
        name="outagetest",
        title="outages",
        settings_factory=ServiceSettings,
        migrations_package="dealerflow.runtime.sql",
        routers=lambda ctx: [router],
    )
    settings = ServiceSettings(
        service_name="outagetest",
        pg_dsn=proxied,
        pg_connect_timeout_s=HUNG_BOUND_S,
        pg_acquire_timeout_s=HUNG_BOUND_S,
        pg_command_timeout_s=HUNG_BOUND_S,
        **tokens_auth_settings(),
    )
    app = build_app(definition, settings, run_background=False)
    try:
        async with app.router.lifespan_context(app), _client(app) as client:
            before, _ = await _timed_get(client, "/v1/count")
            assert before.status_code == 200, before.text
            await proxy.blackhole()
            response, waited = await _timed_get(client, "/v1/count")
            _assert_unavailable(response)
            assert waited < 2 * HUNG_BOUND_S + 1.0, waited
            ready, waited = await _timed_get(client, "/readyz")
            assert ready.status_code == 503, ready.text
            assert ready.json()["checks"]["postgres"] != "ok"
            assert waited < 5.0, waited  # the readiness check's own 3 s bound
            await proxy.open()
            after, _ = await _timed_get(client, "/v1/count")
            assert after.status_code == 200, after.text
    finally:
        await proxy.cut()
