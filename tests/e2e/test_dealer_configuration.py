"""Issue 8, done when: one dealer's configuration changes in the dealers service and each
change takes effect in the service that uses it, within seconds, while another dealer
keeps the defaults; restarting the services changes nothing; bad values get 422s naming
the fields.

Changed for one dealer: the online first-contact SLA (used by the notifier's first-contact
task), the critical complaint acknowledge clock (complaints), the maintenance interval
(service-center) and the GM (complaint escalations, through complaints and notifier).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from dealerflow.devinfra.client import DealerflowClient, eventually, parse_time
from dealerflow.policy import BusinessCalendar, DealerSettings, SlaSpec

ONLINE_SLA = {"duration": "PT45M", "mode": "business_hours"}
CHANGE: dict[str, Any] = {
    "policy": {
        "leads": {"first_contact": {"online": {"first_contact": ONLINE_SLA}}},
        "complaints": {"sla": {"critical": {"acknowledge": {"duration": "PT10M", "mode": "wall"}}}},
        "service": {"maintenance_interval_km": 7500},
    },
    "people": {"staff": [{"staff_id": "gm-zhang", "name": "张总", "roles": ["gm"]}]},
}


async def first_contact_task(client: DealerflowClient, dealer_id: str, lead: Any) -> Any:
    tasks = await client.tasks(dealer_id, customer_id=lead["customer_id"])
    return next((t for t in tasks if t["kind"] == "lead_first_contact"), None)


async def online_lead_due(client: DealerflowClient, dealer_id: str, phone: str) -> tuple[Any, Any]:
    """Submit an online lead; its first-contact task and the lead's detail."""
    lead = await client.submit_lead(dealer_id, name="王芳", phone=phone, channel="online")
    task = await eventually(
        lambda: first_contact_task(client, dealer_id, lead), what="the first-contact task"
    )
    detail = await client.call(
        "leads", "GET", f"/v1/leads/{lead['lead_id']}", params={"dealer_id": dealer_id}
    )
    return task, detail


def expected_due(settings: DealerSettings, created_at: str, sla: SlaSpec) -> Any:
    return BusinessCalendar(settings.policy).due(parse_time(created_at), sla)


async def assert_online_sla(
    client: DealerflowClient, dealer_id: str, phone: str, sla: SlaSpec
) -> None:
    task, lead = await online_lead_due(client, dealer_id, phone)
    due = expected_due(DealerSettings(), lead["created_at"], sla)
    assert parse_time(task["due_at"]) == due, (dealer_id, task, lead["created_at"])


async def acknowledge_clock(
    client: DealerflowClient, dealer_id: str, phone: str
) -> tuple[Any, timedelta]:
    opened = await client.open_complaint(dealer_id, name="赵敏", phone=phone, severity="critical")
    ack = next(c for c in opened["clocks"] if c["kind"] == "acknowledge")
    return opened, parse_time(ack["first_due_at"]) - parse_time(opened["opened_at"])


async def escalated_to(client: DealerflowClient, dealer_id: str, assignee: str) -> Any:
    async def found() -> Any:
        tasks = await client.tasks(dealer_id)
        return [t for t in tasks if t["assignee"] == assignee] or None

    return await eventually(found, timeout_s=60, what=f"an escalation task for {assignee}")


async def test_one_dealers_configuration_reaches_every_service_and_survives_a_restart(
    stack: Any, client: DealerflowClient, dealer_id: str
) -> None:
    other = f"{dealer_id}-x"

    # Bad values: 422 naming each field, and nothing changes.
    refused = await client.call(
        "dealers",
        "PUT",
        f"/v1/dealers/{dealer_id}/rules",
        json_body={"leads": {"warn_at_fraction": 2}, "service": {"maintenance_interval_km": -1}},
        expect=(422,),
    )
    named = json.dumps(refused["errors"])
    assert "warn_at_fraction" in named, refused
    assert "maintenance_interval_km" in named, refused
    assert (await client.dealer(dealer_id))["configuration_version"] == 0

    changed = await client.configure_dealer(dealer_id, CHANGE)
    assert changed["configuration_version"] == 1
    # Every service has materialised version 1 in its own schema within seconds.
    await eventually(
        lambda: stack.configuration_seen(dealer_id, 1), timeout_s=15, what="version 1 everywhere"
    )
    online = SlaSpec.model_validate(ONLINE_SLA)
    default_online = DealerSettings().policy.leads.first_contact["online"].first_contact

    # Leads + notifier: the online first-contact task of this dealer is due after 45
    # business minutes; the other dealer's after the default 15.
    phones = iter(f"139001390{n:02d}" for n in range(10, 99))

    async def changed_sla_seen() -> bool | None:
        task, lead = await online_lead_due(client, dealer_id, next(phones))
        due = expected_due(DealerSettings(), lead["created_at"], online)
        return True if parse_time(task["due_at"]) == due else None

    await eventually(
        changed_sla_seen, timeout_s=30, interval_s=1, what="the new SLA in the notifier"
    )
    await assert_online_sla(client, other, "13900139002", default_online)

    # Complaints: the critical acknowledge clock is 10 minutes here, 30 at the other dealer.
    _, ack = await acknowledge_clock(client, dealer_id, "13800138001")
    assert ack == timedelta(minutes=10)
    _, other_ack = await acknowledge_clock(client, other, "13800138002")
    assert other_ack == timedelta(minutes=30)

    # The GM: an unacknowledged critical complaint climbs to the GM; this dealer's GM is
    # gm-zhang, the other dealer (no people configured) gets the placeholder.
    await escalated_to(client, dealer_id, "gm-zhang")
    await escalated_to(client, other, f"gm:{other}")

    # Service-center: the next maintenance is 7,500 km after the visit here, 10,000 there.
    handed = await client.repair_and_hand_over(
        dealer_id, name="陈静", phone="13700137001", vin="LSVAU2180N2183401", advisor_id="sa-1"
    )
    other_handed = await client.repair_and_hand_over(
        other, name="陈静", phone="13700137002", vin="LSVAU2180N2183402", advisor_id="sa-1"
    )
    assert handed["next_maintenance_due_km"] == 5000 + 7500
    assert other_handed["next_maintenance_due_km"] == 5000 + 10_000

    # Restart every service: the materialised configuration is kept, nothing reverts.
    stack.restart()
    assert await stack.configuration_seen(dealer_id, 1)
    await assert_online_sla(client, dealer_id, "13900139003", online)
    await assert_online_sla(client, other, "13900139004", default_online)
    _, ack = await acknowledge_clock(client, dealer_id, "13800138003")
    assert ack == timedelta(minutes=10)
    again = await client.repair_and_hand_over(
        dealer_id, name="陈静", phone="13700137003", vin="LSVAU2180N2183403", advisor_id="sa-1"
    )
    assert again["next_maintenance_due_km"] == 5000 + 7500
    assert (await client.dealer(dealer_id))["configuration_version"] == 1
