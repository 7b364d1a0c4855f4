"""Guarantee: a redelivered event has no second effect.

Two ways an event arrives again: a producer (or a DLQ replay, or the relay after a crash)
sends the same ``ce_id`` again, and Kafka redelivers a whole batch because its database
transaction failed to commit. Either way the reacting service's effects, including the
events its handlers publish through the outbox, exist once per event.

No relay runs here, so every event a handler published is still an outbox row to count.
"""

from __future__ import annotations

import pytest

from dealerflow.contracts.envelope import encode_binary
from dealerflow.devinfra.client import eventually
from tests.integration.guarantee_service import EffectRecorder, Infra, graded

pytestmark = pytest.mark.integration


async def effects(infra: Infra) -> list[tuple[str, str]]:
    rows = await infra.pool.fetch("SELECT event_id, subject FROM effects ORDER BY event_id")
    return [(r["event_id"], r["subject"]) for r in rows]


async def test_the_same_event_id_again_has_no_second_effect(infra: Infra) -> None:
    reactor = EffectRecorder(follow_up=True)
    group = infra.group("notifier.leads")
    await infra.start_consumer(infra.consumer("notifier.leads", reactor.router), group)
    lead_a = encode_binary(graded("A"), source="/dealerflow/leads", event_id="evt-A")
    lead_b = encode_binary(graded("B"), source="/dealerflow/leads", event_id="evt-B")

    await infra.send(lead_a)
    await infra.send(lead_a)  # redelivered within the same batch
    await infra.send(lead_b)
    await eventually(lambda: infra.caught_up(group), timeout_s=15, what="3 records consumed")
    await infra.send(lead_a)  # and once more, long after it was handled
    await eventually(lambda: infra.caught_up(group), timeout_s=15, what="4 records consumed")

    assert len(await infra.on_topic()) == 4
    assert await effects(infra) == [("evt-A", "A"), ("evt-B", "B")]
    assert reactor.calls == {"A": 1, "B": 1}
    assert await infra.count("SELECT count(*) FROM outbox") == 2  # one follow-up each
    assert await infra.count("SELECT count(*) FROM inbox") == 2


# The batch's database transaction fails AT COMMIT while a row in `outage` exists: the
# handlers ran and wrote their effects, then PostgreSQL refused the commit (as it would
# after losing the connection or a failover at that moment).
_FAIL_AT_COMMIT = """
CREATE TABLE outage (since timestamptz NOT NULL DEFAULT now());
CREATE FUNCTION fail_if_outage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM outage) THEN
        RAISE EXCEPTION 'simulated database failure at commit';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER effects_commit_check AFTER INSERT ON effects
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_if_outage();
INSERT INTO outage DEFAULT VALUES;
"""


async def test_a_batch_redelivered_after_a_failed_commit_has_no_second_effect(
    infra: Infra,
) -> None:
    await infra.pool.execute(_FAIL_AT_COMMIT)
    leads = [f"L{i}" for i in range(5)]
    for i, lead in enumerate(leads):  # all on the topic first: they arrive as one batch
        await infra.send(encode_binary(graded(lead, i), source="/leads", event_id=f"evt-{lead}"))
    reactor = EffectRecorder(follow_up=True)
    group = infra.group("notifier.leads")
    await infra.start_consumer(infra.consumer("notifier.leads", reactor.router), group)

    async def redelivered() -> bool:
        return set(reactor.calls) == set(leads) and min(reactor.calls.values()) >= 2

    await eventually(redelivered, timeout_s=15, what="the failed batch to come back")
    # nothing of the failed attempts survived, and no offset was committed for them
    assert not await infra.caught_up(group)
    assert await effects(infra) == []
    assert await infra.count("SELECT count(*) FROM inbox") == 0
    assert await infra.count("SELECT count(*) FROM outbox") == 0

    await infra.pool.execute("DELETE FROM outage")  # the database is healthy again
    await eventually(lambda: infra.caught_up(group), timeout_s=15, what="the batch committed")

    assert await effects(infra) == [(f"evt-{lead}", lead) for lead in leads]
    assert await infra.count("SELECT count(*) FROM outbox") == len(leads)
    assert await infra.count("SELECT count(*) FROM inbox") == len(leads)
    assert all(n >= 2 for n in reactor.calls.values())  # ran again, had its effect once
