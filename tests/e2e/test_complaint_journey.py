"""Issue 13's done-when: a critical complaint of a VIP and a normal one of a regular
customer through the whole loop, on the running services (real Kafka and PostgreSQL, the
accelerated clock).

The VIP: one purchase makes a VIP at this dealer (tiers.vip_min_purchases = 1), so the
notifier publishes CustomerTierChanged and complaints keeps the tier. Both complaints give
their handler a task at once; the VIP's clocks are the critical ones shortened by the VIP
factor; left unacknowledged it climbs the ladder to the GM's staff id. Resolved, the
notifier calls the customer back to verify; the VIP is dissatisfied, so the complaint
reopens with a new resolve clock, while the regular customer is satisfied and theirs
closes. The analysis then counts both, with the acknowledge clock's compliance.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dealerflow.contracts.identity import customer_id_for
from dealerflow.devinfra.client import DealerflowClient, events_of, eventually
from dealerflow.policy import DealerSettings

GM = "gm-zhang"
HANDLER = "handler-zhou"
VIP_PHONE = "+8613900139101"
REGULAR_PHONE = "+8613900139102"
PEOPLE = {
    "staff": [
        {"staff_id": GM, "name": "张总", "roles": ["gm"]},
        {"staff_id": "sm-qian", "name": "钱经理", "roles": ["service_manager"]},
    ]
}


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def clock(detail: dict[str, Any], kind: str, *, running: bool = False) -> dict[str, Any]:
    """The complaint's (last armed) clock of ``kind``."""
    found = [c for c in detail["clocks"] if c["kind"] == kind]
    if running:
        found = [c for c in found if c["status"] in {"running", "paused", "overdue"}]
    assert found, (kind, detail["clocks"])
    return found[-1]


async def task_of(
    client: DealerflowClient, dealer_id: str, customer_id: str, kind: str, *, status: set[str]
) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        tasks = await client.tasks(dealer_id, customer_id=customer_id)
        return next((t for t in tasks if t["kind"] == kind and t["status"] in status), None)

    result: dict[str, Any] = await eventually(found, timeout_s=90, what=f"a {kind} task")
    return result


async def test_a_vip_and_a_regular_complaint_through_the_closed_loop(
    stack: Any, client: DealerflowClient, dealer_id: str
) -> None:
    defaults = DealerSettings().policy.complaints
    changed = await client.configure_dealer(
        dealer_id, {"policy": {"tiers": {"vip_min_purchases": 1}}, "people": PEOPLE}
    )
    await eventually(
        lambda: stack.configuration_seen(
            dealer_id, changed["configuration_version"], ("notifier", "complaints")
        ),
        what="the dealer's tier rules and people in the notifier and complaints",
    )
    vip = str(customer_id_for("default", VIP_PHONE))
    regular = str(customer_id_for("default", REGULAR_PHONE))

    # One purchase: the notifier makes the buyer a VIP, complaints learns the tier.
    await client.sell_and_deliver(
        dealer_id,
        name="林峰",
        phone=VIP_PHONE,
        vin="LSVAU2180N2189101",
        consultant_id="consultant-li",
        delivery_on=(stack.now() + timedelta(days=1)).date(),
    )

    async def vip_tier() -> dict[str, Any] | None:
        tier = await client.call(
            "notifier", "GET", f"/v1/customers/{vip}/tier", params={"dealer_id": dealer_id}
        )
        return tier if tier["tier"] == "vip" else None

    await eventually(vip_tier, timeout_s=90, what="the buyer's VIP tier in the notifier")

    async def vip_known_to_complaints() -> bool | None:
        return True if await complaints_tier(stack, dealer_id, vip) == "vip" else None

    await eventually(vip_known_to_complaints, timeout_s=60, what="the VIP tier in complaints")

    # Two complaints: the VIP's critical one, the regular customer's normal one.
    critical = await client.open_complaint(
        dealer_id, name="林峰", phone=VIP_PHONE, severity="critical", handler_id=HANDLER
    )
    normal = await client.open_complaint(
        dealer_id, name="郑洁", phone=REGULAR_PHONE, severity="normal", handler_id=HANDLER
    )
    assert critical["customer_tier"] == "vip"
    assert normal["customer_tier"] == "regular"
    factor = float(defaults.tier_sla_factors["vip"])
    ack = clock(critical, "acknowledge")
    opened_at = parse(critical["opened_at"])
    shortened = defaults.sla["critical"].acknowledge.duration * factor
    assert parse(ack["due_at"]) - opened_at == shortened
    assert shortened < defaults.sla["critical"].acknowledge.duration
    for kind in ("acknowledge", "first_update", "resolve", "inform"):
        assert clock(critical, kind)["time_left_seconds"] is not None, kind

    # The handler has each complaint as a task at once, due at its acknowledge deadline.
    handling = await task_of(
        client, dealer_id, vip, "complaint_handling", status={"scheduled", "due"}
    )
    assert handling["assignee"] == HANDLER
    assert parse(handling["due_at"]) == parse(ack["due_at"])
    regular_handling = await task_of(
        client, dealer_id, regular, "complaint_handling", status={"scheduled", "due"}
    )
    assert regular_handling["assignee"] == HANDLER
    await client.acknowledge(dealer_id, str(normal["id"]))

    # The VIP's complaint is not acknowledged: it climbs to the GM's staff id.
    async def at_the_gm() -> list[Any] | None:
        escalated = await events_of(
            stack.kafka_bootstrap, stack.topics.name("complaints"), dealer_id, "ComplaintEscalated"
        )
        return [e for e in escalated if e.event.to_staff_id == GM] or None

    reached = await eventually(at_the_gm, timeout_s=120, what="the escalation to the GM")
    assert reached[0].event.level == 2
    await task_of(client, dealer_id, vip, "complaint_escalation", status={"scheduled", "due"})

    # Resolved: the notifier schedules the verification callback; the VIP is dissatisfied.
    critical_id = str(critical["id"])
    await client.acknowledge(dealer_id, critical_id)
    await client.resolve(dealer_id, critical_id)
    await client.resolve(dealer_id, str(normal["id"]))
    verification = await task_of(
        client, dealer_id, vip, "complaint_verification", status={"scheduled", "due"}
    )
    await client.complete_task(
        dealer_id, verification["id"], outcome="dissatisfied", note="The noise is back"
    )

    async def reopened() -> dict[str, Any] | None:
        detail = await client.complaint(dealer_id, critical_id)
        return detail if detail["status"] == "reopened" else None

    detail = await eventually(reopened, timeout_s=60, what="the VIP's complaint to reopen")
    assert detail["reopen_count"] == 1
    assert clock(detail, "resolve", running=True)["time_left_seconds"] > 0

    regular_verification = await task_of(
        client, dealer_id, regular, "complaint_verification", status={"scheduled", "due"}
    )
    await client.complete_task(dealer_id, regular_verification["id"], outcome="satisfied")

    async def closed() -> dict[str, Any] | None:
        found = await client.complaint(dealer_id, str(normal["id"]))
        return found if found["status"] == "closed" else None

    await eventually(closed, timeout_s=60, what="the regular complaint to close")

    # The analysis of the period counts both and the acknowledge clocks' compliance.
    today = stack.now().date()
    analysis = await client.call(
        "complaints",
        "GET",
        "/v1/complaints/analysis",
        params={
            "dealer_id": dealer_id,
            "from": (today - timedelta(days=1)).isoformat(),
            "to": (today + timedelta(days=30)).isoformat(),
        },
    )
    assert analysis["total"] == 2, analysis
    assert analysis["by"]["severity"]["critical"] == 1
    assert analysis["by"]["severity"]["normal"] == 1
    acknowledge = analysis["sla_compliance"]["acknowledge"]
    assert acknowledge["breached"] >= 1, acknowledge
    assert acknowledge["met"] >= 1, acknowledge


async def complaints_tier(stack: Any, dealer_id: str, customer_id: str) -> str | None:
    """The tier complaints keeps for the customer (its read model of CustomerTierChanged)."""
    import asyncpg

    from dealerflow.devinfra.services import SERVICES

    spec = next(s for s in SERVICES if s.name == "complaints")
    conn = await asyncpg.connect(stack.config.pg_dsn)
    try:
        value: str | None = await conn.fetchval(
            f'SELECT tier FROM "{stack.config.schema(spec)}".customer_tiers'
            " WHERE dealer_id = $1 AND customer_id = $2::uuid",
            dealer_id,
            customer_id,
        )
        return value
    finally:
        await conn.close()
