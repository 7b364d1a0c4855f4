"""The use-case context, the transaction retry, the domain-exception -> problem map and
a service's batch timer handlers (one use-case context per claimed batch, what it
publishes written to the outbox after it returns, nothing of an attempt that failed)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import asyncpg
import httpx
import pytest
from fastapi import APIRouter

from dealerflow.contracts.envelope import decode
from dealerflow.contracts.events.leads import LeadGraded
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.devinfra.tokens import auth_header, tokens_auth_settings
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.context import (
    EnvironmentDealerConfiguration,
    UseCaseContext,
    is_transient,
    run_in_transaction,
)
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.migrations import migrate, runtime_migrations
from dealerflow.runtime.outbox import decode_headers
from dealerflow.runtime.problems import ProblemSpec
from dealerflow.runtime.service import (
    ServiceContext,
    ServiceDefinition,
    build_app,
    poller_handlers,
)
from dealerflow.runtime.settings import ServiceSettings
from dealerflow.runtime.timers import NewTimer, Timer, TimerPoller, schedule_many

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Settings(ServiceSettings):
    service_name: str = "ctxtest"


def _service_context(pool: asyncpg.Pool | None = None) -> ServiceContext[Settings]:
    return ServiceContext(
        settings=Settings(),
        clock=ManualClock(START),
        topics=TopicRegistry("t."),
        source="/dealerflow/ctxtest",
        dealers=EnvironmentDealerConfiguration(),
        pool=pool,
    )


@pytest.fixture
async def migrated_context(
    pg_dsn: str, pg_schema: str, pg_pool: asyncpg.Pool
) -> ServiceContext[Settings]:
    """A service context on the test's schema, with the runtime's tables."""
    await migrate(pg_dsn, pg_schema, runtime_migrations())
    return _service_context(pg_pool)


def test_the_environment_configuration_layers_the_overrides_over_the_defaults() -> None:
    config = EnvironmentDealerConfiguration({"leads": {"reassign_after_breaches": 3}})
    policy = asyncio.run(config.settings(None, "D001")).policy  # type: ignore[arg-type]
    assert policy.leads.reassign_after_breaches == 3
    assert policy.complaints.escalation_ladder  # untouched defaults stay


def test_a_bad_override_fails_at_start_up_not_per_request() -> None:
    with pytest.raises(ValueError, match="no_such_rule"):
        EnvironmentDealerConfiguration({"no_such_rule": 1})


def test_transient_errors_are_deadlocks_and_serialization_failures() -> None:
    assert is_transient(asyncpg.DeadlockDetectedError("x"))
    assert is_transient(asyncpg.SerializationError("x"))
    assert not is_transient(asyncpg.UniqueViolationError("x"))


class CountingConfig:
    def __init__(self) -> None:
        self.loads = 0

    async def settings(self, conn: DbConnection, dealer_id: str):  # type: ignore[no-untyped-def]
        self.loads += 1
        return await EnvironmentDealerConfiguration().settings(conn, dealer_id)


async def test_the_context_reads_now_once_and_each_dealer_policy_once() -> None:
    clock = ManualClock(START)
    config = CountingConfig()
    published: list[object] = []

    async def publisher(event: object) -> str:
        published.append(event)
        return "id-1"

    uc = UseCaseContext(
        conn=None,  # type: ignore[arg-type]
        clock=clock,
        settings=Settings(),
        dealers=config,
        publisher=publisher,  # type: ignore[arg-type]
    )
    clock.advance(timedelta(hours=1))
    assert uc.now == START
    await uc.policy("D001")
    await uc.policy("D001")
    await uc.policy("D002")
    assert config.loads == 2
    assert await uc.publish("event") == "id-1"  # type: ignore[arg-type]
    assert published == ["event"]


@pytest.mark.integration
async def test_run_in_transaction_retries_a_deadlock_and_commits_once(
    pg_pool: asyncpg.Pool,
) -> None:
    await pg_pool.execute("CREATE TABLE effects (n int)")
    clock = ManualClock(START)
    attempts = 0

    def build(conn: DbConnection) -> UseCaseContext[Settings]:
        async def publisher(event: object) -> str:
            return "none"

        return UseCaseContext(
            conn=conn,
            clock=clock,
            settings=Settings(),
            dealers=EnvironmentDealerConfiguration(),
            publisher=publisher,  # type: ignore[arg-type]
        )

    async def work(uc: UseCaseContext[Settings]) -> int:
        nonlocal attempts
        attempts += 1
        await uc.conn.execute("INSERT INTO effects VALUES ($1)", attempts)
        if attempts < 3:
            raise asyncpg.DeadlockDetectedError("deadlock detected")
        return attempts

    assert await run_in_transaction(pg_pool, build, work, backoff_s=0) == 3
    # the two failed attempts were rolled back: only the third one's effect is there
    assert [r["n"] for r in await pg_pool.fetch("SELECT n FROM effects")] == [3]

    async def always(uc: UseCaseContext[Settings]) -> int:
        raise asyncpg.SerializationError("could not serialize")

    with pytest.raises(asyncpg.SerializationError):
        await run_in_transaction(pg_pool, build, always, attempts=2, backoff_s=0)


@pytest.mark.integration
async def test_service_context_publishes_through_the_outbox_in_the_transaction(
    migrated_context: ServiceContext[Settings], pg_pool: asyncpg.Pool
) -> None:
    ctx = migrated_context
    graded = LeadGraded(
        dealer_id="D001",
        customer_id=uuid.UUID("2b1f3c9e-0000-5000-8000-000000000001"),
        occurred_at=START,
        lead_id="L1",
        grade="B",
        graded_at=START,
    )

    async def grade(uc: UseCaseContext[Settings]) -> str:
        assert uc.settings.service_name == "ctxtest"  # the service's own settings type
        return await uc.publish(graded)

    event_id = await ctx.run_in_transaction(grade)
    rows = await pg_pool.fetch("SELECT topic, headers::text AS h FROM outbox")
    assert [r["topic"] for r in rows] == ["t.leads"]
    assert event_id in rows[0]["h"]


class CarNotReady(Exception):
    problem_extensions: ClassVar[dict[str, str]] = {"step": "pdi"}


class PdiMissing(CarNotReady):
    pass


async def test_domain_exceptions_are_answered_by_the_service_problem_map() -> None:
    router = APIRouter()

    @router.get("/v1/cars/{car}")
    async def car(car: str) -> dict[str, str]:
        if car == "pdi":
            raise PdiMissing("the PDI has not passed")
        raise CarNotReady("not ready")

    definition: ServiceDefinition[Settings] = ServiceDefinition(
        name="ctxtest",
        title="ctx test",
        settings_factory=Settings,
        migrations_package="dealerflow.runtime.sql",
        routers=lambda ctx: [router],
        problems={CarNotReady: ProblemSpec(409, "car-not-ready", "Car not ready")},
    )
    app = build_app(definition, Settings(**tokens_auth_settings()), run_background=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers=auth_header()
    ) as client:
        response = await client.get("/v1/cars/pdi")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "https://dealerflow.dev/problems/car-not-ready"
    assert body["title"] == "Car not ready"
    assert body["detail"] == "the PDI has not passed"
    assert body["step"] == "pdi"


def test_an_extension_named_like_a_problem_member_is_refused() -> None:
    from dealerflow.runtime.problems import Problem

    with pytest.raises(ValueError, match="status"):
        Problem(409, "Conflict", "x", extensions={"status": "closed"})


async def test_step_routes_document_the_usual_problems_and_a_steps_own() -> None:
    from dealerflow.runtime.http import problem_doc, step_routes
    from dealerflow.runtime.idempotency import request_of

    router = APIRouter()
    step = step_routes(
        router, "/v1/cars/{car}", response_model=dict, responses={404: problem_doc("No car")}
    )

    @step("wash", "Wash the car", responses={409: problem_doc("Already clean")})
    async def wash(car: str) -> dict[str, str]:
        return {"car": car}

    definition: ServiceDefinition[Settings] = ServiceDefinition(
        name="ctxtest",
        title="ctx test",
        settings_factory=Settings,
        migrations_package="dealerflow.runtime.sql",
        routers=lambda ctx: [router],
    )
    app = build_app(definition, Settings(**tokens_auth_settings()), run_background=False)
    operation = app.openapi()["paths"]["/v1/cars/{car}/wash"]["post"]
    assert operation["summary"] == "Wash the car"
    assert operation["responses"]["404"]["description"] == "No car"
    assert "application/problem+json" in operation["responses"]["409"]["content"]
    assert request_of(None, Settings()) is None
    keyed = request_of("k1", Settings())
    assert keyed is not None
    assert (keyed.key, len(keyed.fingerprint or "")) == ("key:k1", 64)


# -- batch timer handlers ---------------------------------------------------------------

GRADE = "test.grade"


def _timer_definition(**handlers: Any) -> ServiceDefinition[Settings]:
    return ServiceDefinition(
        name="ctxtest",
        title="ctx test",
        settings_factory=Settings,
        migrations_package="dealerflow.runtime.sql",
        **handlers,
    )


async def _grade(uc: UseCaseContext[Settings], timers: Sequence[Timer]) -> None:
    for timer in timers:
        if timer.payload["lead_id"] == "L-bad":
            raise ValueError("this lead cannot be graded")
        await uc.publish(
            LeadGraded(
                dealer_id=timer.dealer_id,
                customer_id=uuid.UUID(int=1),
                occurred_at=uc.now,
                lead_id=timer.payload["lead_id"],
                grade="B",
                graded_at=uc.now,
            )
        )


def test_a_timer_kind_with_a_handler_and_a_batch_handler_is_refused() -> None:
    async def one(uc: UseCaseContext[Settings], timer: Timer) -> None:
        return None

    definition = _timer_definition(
        timer_handlers=lambda ctx: {GRADE: one}, timer_batch_handlers=lambda ctx: {GRADE: _grade}
    )
    with pytest.raises(ValueError, match=GRADE):
        poller_handlers(_service_context(), definition)


@pytest.mark.integration
async def test_a_batch_handler_publishes_what_its_batch_did_and_nothing_of_a_failed_attempt(
    migrated_context: ServiceContext[Settings], pg_pool: asyncpg.Pool
) -> None:
    ctx = migrated_context
    single, batch = poller_handlers(
        ctx, _timer_definition(timer_batch_handlers=lambda c: {GRADE: _grade})
    )
    assert (single, list(batch)) == ({}, [GRADE])
    poller = TimerPoller(pg_pool, single, batch_handlers=batch, clock=ctx.clock)

    def timers(*leads: str) -> list[NewTimer]:
        due = START - timedelta(minutes=1)
        return [NewTimer(f"grade:{lead}", GRADE, "D001", due, {"lead_id": lead}) for lead in leads]

    async with pg_pool.acquire() as conn, conn.transaction():
        await schedule_many(conn, timers("L-1", "L-2", "L-3"))
    assert await poller.fire_due() == 3
    async with pg_pool.acquire() as conn, conn.transaction():
        await schedule_many(conn, timers("L-4", "L-bad", "L-5"))
    assert await poller.fire_due() == 3  # the batch fails: one timer at a time, L-bad fails

    rows = await pg_pool.fetch("SELECT topic, value, headers::text AS h FROM outbox ORDER BY id")
    leads = [decode(r["value"], decode_headers(r["h"])).event.lead_id for r in rows]  # type: ignore[attr-defined]
    assert leads == ["L-1", "L-2", "L-3", "L-4", "L-5"]  # in due order, each once
    assert {r["topic"] for r in rows} == {"t.leads"}
    failed = await pg_pool.fetch("SELECT key, status FROM timers WHERE status <> 'fired'")
    assert [(r["key"], r["status"]) for r in failed] == [("grade:L-bad", "pending")]  # retried
