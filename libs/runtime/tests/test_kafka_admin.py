"""Topic administration (runtime.kafka_admin) and ``dealerflow-topics`` against real Kafka."""

from __future__ import annotations

import asyncio
import io
import tomllib
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from dealerflow.contracts.topics import (
    DEFAULT_PARTITIONS,
    DLQ_RETENTION_MS,
    EVENT_RETENTION_MS,
    TOPIC_CONFIGS,
    TopicRegistry,
)
from dealerflow.runtime.kafka_admin import (
    TopicAdminError,
    catalogue_topics,
    create_catalogue_topics,
    default_partitions,
    default_replication_factor,
    describe_group,
    describe_topic_configs,
    describe_topics,
    ensure_topics,
)
from dealerflow.runtime.topics_cli import MISCONFIGURED_EXIT_CODE, MISSING_EXIT_CODE, run_async

COMPACTION_KEYS = ("cleanup.policy", "segment.ms", "min.compaction.lag.ms")


async def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run_async(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


# -- settings, names -------------------------------------------------------------------


def test_partitions_and_replication_come_from_the_environment_or_defaults() -> None:
    assert default_partitions({}) == DEFAULT_PARTITIONS
    assert default_partitions({"DEALERFLOW_TOPIC_PARTITIONS": "12"}) == 12
    assert default_replication_factor({}) == 1
    assert default_replication_factor({"DEALERFLOW_TOPIC_REPLICATION_FACTOR": "3"}) == 3
    with pytest.raises(TopicAdminError, match="is not a number"):
        default_partitions({"DEALERFLOW_TOPIC_PARTITIONS": "six"})
    with pytest.raises(TopicAdminError, match="at least 1"):
        default_replication_factor({"DEALERFLOW_TOPIC_REPLICATION_FACTOR": "0"})


def test_the_catalogue_is_every_registry_topic_with_its_dead_letter_topic() -> None:
    names = catalogue_topics("x.")
    assert names == list(TopicRegistry("x.").all(include_dlq=True))
    assert "x.inbound.leads" in names
    assert "x.sales.dlq" in names
    assert all(name.startswith("x.") for name in names)
    assert "x.sales.dlq" not in catalogue_topics("x.", include_dlq=False)


def test_the_cli_is_a_console_script_of_runtime() -> None:
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    scripts = tomllib.loads(pyproject.read_text())["project"]["scripts"]
    assert scripts["dealerflow-topics"] == "dealerflow.runtime.topics_cli:main"


async def test_unreachable_kafka_is_reported_without_traceback() -> None:
    code, out, err = await _cli("create", "--bootstrap", "127.0.0.1:1")
    assert code == 1
    assert out == ""
    assert err.startswith("dealerflow-topics: error: cannot reach Kafka at 127.0.0.1:1")
    assert "Traceback" not in err


async def test_a_partition_count_below_one_is_refused_by_the_cli(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        await _cli("create", "--bootstrap", "127.0.0.1:1", "--partitions", "0")
    assert exited.value.code == 2  # argparse's usage error, before any connection
    assert "argument --partitions: 0 is not at least 1" in capsys.readouterr().err


# -- against Kafka ---------------------------------------------------------------------


@pytest.mark.integration
async def test_ensure_topics_creates_only_what_is_missing_and_describe_counts_partitions(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    names = [f"{topic_prefix}alpha", f"{topic_prefix}beta"]
    assert sorted(await ensure_topics(kafka_bootstrap, names, partitions=2)) == names
    assert await ensure_topics(kafka_bootstrap, names, partitions=5) == []  # left as they are
    described = await describe_topics(kafka_bootstrap, [*names, f"{topic_prefix}gamma"])
    assert described == {names[0]: 2, names[1]: 2, f"{topic_prefix}gamma": None}


@pytest.mark.integration
async def test_describe_group_shows_each_member_and_its_partitions(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    topic, group = f"{topic_prefix}shared", f"{topic_prefix}readers"
    await ensure_topics(kafka_bootstrap, [topic], partitions=3)
    unknown = await describe_group(kafka_bootstrap, group)
    assert unknown.members == {}
    assert not unknown.balanced_on(topic, 1)
    consumers = [
        AIOKafkaConsumer(topic, bootstrap_servers=kafka_bootstrap, group_id=group) for _ in range(2)
    ]
    for consumer in consumers:
        await consumer.start()
    try:
        for _ in range(300):  # a rebalance takes a few seconds; the readers must poll
            await asyncio.gather(*(c.getmany(timeout_ms=100) for c in consumers))
            described = await describe_group(kafka_bootstrap, group)
            if described.balanced_on(topic, 2):
                break
        assert described.balanced_on(topic, 2), described
        assert not described.balanced_on(topic, 3)
        partitions = sorted(p for topics in described.members.values() for p in topics[topic])
        assert partitions == [0, 1, 2]  # each partition to one member
    finally:
        for consumer in consumers:
            await consumer.stop()


@pytest.mark.integration
async def test_create_catalogue_topics_is_idempotent(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    created = await create_catalogue_topics(kafka_bootstrap, topic_prefix, partitions=1)
    assert sorted(created) == sorted(catalogue_topics(topic_prefix))
    assert await create_catalogue_topics(kafka_bootstrap, topic_prefix, partitions=1) == []


@pytest.mark.integration
async def test_cli_creates_then_describes_the_catalogue(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    flags = ("--bootstrap", kafka_bootstrap, "--prefix", topic_prefix)
    code, out, _ = await _cli("describe", *flags)
    assert code == MISSING_EXIT_CODE
    assert f"{topic_prefix}sales\tmissing" in out

    code, out, _ = await _cli("create", *flags, "--partitions", "2")
    assert code == 0
    total = len(catalogue_topics(topic_prefix))
    assert out.startswith(f"{total} topics created at {kafka_bootstrap}: ")
    assert f"{topic_prefix}sales.dlq" in out

    code, out, _ = await _cli("create", *flags)
    assert (code, out) == (0, f"0 topics created at {kafka_bootstrap}: -\n")

    code, out, _ = await _cli("describe", *flags)
    assert code == 0
    assert f"{topic_prefix}inbound.leads\t2\tdelete" in out.splitlines()
    assert f"{topic_prefix}dealers\t2\tcompact" in out.splitlines()
    assert f"{topic_prefix}dealers.dlq\t2\tdelete" in out.splitlines()
    assert out.endswith(f"{total} of {total} topics exist at {kafka_bootstrap}\n")


@pytest.mark.integration
async def test_the_dealers_topic_is_created_log_compacted_and_its_dlq_is_not(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    topics = TopicRegistry(topic_prefix)
    dealers, sales = topics.name("dealers"), topics.name("sales")
    await create_catalogue_topics(kafka_bootstrap, topic_prefix, partitions=1)
    described = await describe_topic_configs(
        kafka_bootstrap, [dealers, topics.dlq(dealers), sales], COMPACTION_KEYS
    )
    assert described[dealers] == dict(TOPIC_CONFIGS["dealers"])
    assert described[dealers]["cleanup.policy"] == "compact"
    assert described[topics.dlq(dealers)]["cleanup.policy"] == "delete"
    assert described[sales]["cleanup.policy"] == "delete"
    kept = await describe_topic_configs(
        kafka_bootstrap, [sales, topics.dlq(sales)], ("retention.ms",)
    )
    assert kept[sales]["retention.ms"] == str(EVENT_RETENTION_MS)
    assert kept[topics.dlq(sales)]["retention.ms"] == str(DLQ_RETENTION_MS)


@pytest.mark.integration
async def test_ensure_topics_applies_the_configs_it_is_given(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    compacted, plain = f"{topic_prefix}compacted", f"{topic_prefix}plain"
    configs = {compacted: {"cleanup.policy": "compact"}, f"{topic_prefix}other": {"x": "y"}}
    await ensure_topics(kafka_bootstrap, [compacted, plain], partitions=1, configs=configs)
    described = await describe_topic_configs(
        kafka_bootstrap, [compacted, plain, f"{topic_prefix}absent"], ["cleanup.policy"]
    )
    assert described == {
        compacted: {"cleanup.policy": "compact"},
        plain: {"cleanup.policy": "delete"},
    }


@pytest.mark.integration
async def test_describe_reports_a_dealers_topic_created_without_compaction(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    # e.g. auto-created by a client before the init job ran: create leaves it as it is
    await ensure_topics(kafka_bootstrap, [f"{topic_prefix}dealers"], partitions=1)
    await create_catalogue_topics(kafka_bootstrap, topic_prefix, partitions=1)
    code, out, _ = await _cli("describe", "--bootstrap", kafka_bootstrap, "--prefix", topic_prefix)
    assert code == MISCONFIGURED_EXIT_CODE
    assert (
        f"{topic_prefix}dealers\t1\tdelete\tmisconfigured: the contract says cleanup.policy=compact"
    ) in out.splitlines()
    assert sum("misconfigured" in line for line in out.splitlines()) == 1
