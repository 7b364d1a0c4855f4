"""Issue 11's done-when: one customer from a showroom visit to delivery, every reaction
checked on the running services (real Kafka and PostgreSQL, the accelerated clock).

Walk-in visit (leads creates the walk-in lead) -> needs analysis (the lead's interest)
-> test drive booked (the notifier's reminder), started with licence and signed consent,
completed with feedback (a touch on the lead) -> a quote beyond the discount threshold
(DiscountApprovalRequested: the sales manager's task) -> approved (the task closes) ->
contract signed on it (lead O) -> loan: the lender's approval (LoanDecided), the down
payment entered and confirmed by finance (PaymentConfirmed), the disbursement -> delivery
scheduled (the customer's reminders) -> PDI -> VehicleDelivered with the odometer and the
expected yearly km (lead D) -> owner-care tasks and the plate-registration task.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dealerflow.contracts.identity import customer_id_for
from dealerflow.devinfra.client import (
    DELIVERY_DOCUMENTS,
    PDI_ITEMS,
    DealerflowClient,
    events_of,
    eventually,
)

PHONE = "+8613800138123"
CONSULTANT = "consultant-li"
MANAGER = "manager-zhou"
SHANGHAI = ZoneInfo("Asia/Shanghai")
CUSTOMER = {"name": "王芳", "phone": PHONE, "consent": {"service": True, "marketing": False}}
NEEDS = {
    "use": "family",
    "budget": {"amount": "200000.00", "currency": "CNY"},
    "body_type": "suv",
    "priorities": ["space", "economy"],
    "urgency": "within_90_days",
    "expected_yearly_km": 20000,
}
VEHICLE = {"model": "Aurora X5", "configuration": "Luxury", "colour": "white"}
VIN = "LSVAU2180N2187777"


def at_local_afternoon(after: datetime) -> datetime:
    """The first 15:00 in Shanghai at or after ``after`` (reminders stay out of quiet hours)."""
    local = after.astimezone(SHANGHAI)
    slot = datetime.combine(local.date(), time(15, 0), SHANGHAI)
    return slot if slot >= local else slot + timedelta(days=1)


def by_kind(items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        found.setdefault(item["kind"], []).append(item)
    return found


async def test_a_customer_from_the_showroom_to_delivery(
    stack: Any, client: DealerflowClient, dealer_id: str
) -> None:
    customer = str(customer_id_for("default", PHONE))
    sales_topic, leads_topic = stack.topics.name("sales"), stack.topics.name("leads")
    staff = [
        {"staff_id": CONSULTANT, "roles": ["consultant"], "on_duty": True},
        {"staff_id": MANAGER, "roles": ["sales_manager"], "on_duty": True},
    ]
    await client.call(
        "dealers", "PUT", f"/v1/dealers/{dealer_id}/people", json_body={"staff": staff}
    )

    async def sales(method: str, path: str, body: dict[str, Any], key: str | None = None) -> Any:
        headers = {"Idempotency-Key": key} if key else None
        return await client.call(
            "sales", method, path, json_body={"dealer_id": dealer_id, **body}, headers=headers
        )

    async def tasks_of(kind: str) -> list[dict[str, Any]]:
        return by_kind(await client.tasks(dealer_id, customer_id=customer)).get(kind, [])

    async def reminders_of(kind: str) -> list[dict[str, Any]]:
        return by_kind(await client.reminders(dealer_id, customer)).get(kind, [])

    async def lead() -> dict[str, Any] | None:
        page = await client.call(
            "leads", "GET", "/v1/leads", params={"dealer_id": dealer_id, "phone": PHONE}
        )
        return page["items"][0] if page["items"] else None

    async def lead_detail(lead_id: str) -> dict[str, Any]:
        detail: dict[str, Any] = await client.call(
            "leads", "GET", f"/v1/leads/{lead_id}", params={"dealer_id": dealer_id}
        )
        return detail

    # -- the showroom visit: a walk-in without a lead; leads creates one ------------------
    arrived = stack.now() - timedelta(minutes=10)
    visit = await sales(
        "POST",
        "/v1/visits",
        {
            "customer": CUSTOMER,
            "consultant_id": CONSULTANT,
            "arrived_at": arrived.isoformat(),
            "party_size": 2,
        },
    )
    assert visit["visit_kind"] == "first"
    walk_in = await eventually(lead, what="the walk-in lead leads creates from the visit")
    assert (walk_in["channel"], walk_in["consultant_id"]) == ("walk_in", CONSULTANT)
    lead_id = str(walk_in["lead_id"])

    # -- needs analysis: it feeds the lead's interest -------------------------------------
    visit_path = f"/v1/visits/{visit['visit_id']}"
    with_needs = await sales("POST", f"{visit_path}/needs", NEEDS, key=f"needs-{dealer_id}")
    assert with_needs["needs"]["expected_yearly_km"] == 20000

    async def interest_fed() -> dict[str, Any] | None:
        interest = (await lead_detail(lead_id))["interest"]
        return interest if interest.get("vehicle_type") == "suv" else None

    interest = await eventually(interest_fed, what="the needs in the lead's interest")
    assert interest["use"] == "family"
    assert interest["purchase_horizon"] == "within_90_days"
    await sales("POST", f"{visit_path}/departure", {"left_at": stack.now().isoformat()})

    # -- the test drive: booked (reminder planned, then sent), licence + consent, feedback
    slot = at_local_afternoon(stack.now() + timedelta(hours=6))
    drive = await sales(
        "POST",
        "/v1/test-drives",
        {
            "customer": CUSTOMER,
            "vehicle_id": "TD-01",
            "model": "Aurora X5",
            "consultant_id": CONSULTANT,
            "lead_id": lead_id,
            "starts_at": slot.isoformat(),
            "ends_at": (slot + timedelta(hours=1)).isoformat(),
            "licence": {"number": "310101199001011234", "expires_on": "2031-01-01"},
        },
    )
    drive_path = f"/v1/test-drives/{drive['test_drive_id']}"
    [reminder] = await eventually(
        lambda: reminders_of("test_drive"), what="the test-drive reminder planned"
    )
    assert datetime.fromisoformat(reminder["send_at"]) <= slot

    async def reminder_sent() -> list[dict[str, Any]] | None:
        found = await reminders_of("test_drive")
        return found if [r["status"] for r in found] == ["sent"] else None

    await eventually(
        reminder_sent,
        timeout_s=stack.real_seconds_until(slot) + 30,
        what="the test-drive reminder sent before the slot",
    )
    started = await sales(
        "POST",
        f"{drive_path}/start",
        {
            "licence": {"number": "310101199001011234", "expires_on": "2031-01-01"},
            "consent": {
                "signed_by": "王芳",
                "signed_at": stack.now().isoformat(),
                "text_version": "TD-2025-01",
            },
            "route": "city loop B",
        },
        key=f"start-{dealer_id}",
    )
    assert started["status"] == "started"
    assert started["consent"]["text_version"] == "TD-2025-01"
    touches_before = (await lead_detail(lead_id))["touch_count"]
    completed = await sales(
        "POST",
        f"{drive_path}/complete",
        {"ratings": {"overall": 5, "vehicle": 5, "consultant": 4}, "notes": "安静, 空间大"},
        key=f"complete-{dealer_id}",
    )
    assert completed["feedback"]["overall"] == 5

    async def touched() -> dict[str, Any] | None:
        detail = await lead_detail(lead_id)
        return detail if detail["touch_count"] > touches_before else None

    await eventually(touched, what="the completed test drive's touch on the lead")

    # -- a quote beyond the discount threshold: the manager's task, approved ------------
    quote = await sales(
        "POST",
        "/v1/quotes",
        {
            "customer_phone": PHONE,
            "lead_id": lead_id,
            "consultant_id": CONSULTANT,
            "vehicle": VEHICLE,
            "vehicle_price": "200000.00",
            "discount": "12000.00",  # 6 %: beyond the default 5 %
            "payment": {
                "method": "loan",
                "down_payment": "48000.00",
                "term_months": 36,
                "annual_rate_percent": "3.85",
            },
        },
    )
    assert quote["discount_needs_approval"] is True
    [approval_task] = await eventually(
        lambda: tasks_of("discount_approval"), what="the manager's discount-approval task"
    )
    assert approval_task["assignee"] == MANAGER
    assert approval_task["status"] in ("scheduled", "due")
    decided = await sales(
        "POST",
        f"/v1/quotes/{quote['quote_id']}/approval",
        {"decision": "approve", "note": "loyal family, second car"},
        key=f"approve-{dealer_id}",
    )
    assert decided["approval"]["status"] == "approved"

    async def approval_closed() -> list[dict[str, Any]] | None:
        found = await tasks_of("discount_approval")
        return found if [t["status"] for t in found] == ["cancelled"] else None

    await eventually(approval_closed, what="the approval task closed by the decision")

    # -- the contract on the approved quote, paid by loan -------------------------------
    contract = await sales(
        "POST",
        "/v1/contracts",
        {
            "quote_id": quote["quote_id"],
            "lead_id": lead_id,
            "customer": {**CUSTOMER, "address": "上海市浦东新区世纪大道100号"}
            | {"id_document_verified": True},
            "consultant_id": CONSULTANT,
            "vehicle": {**VEHICLE, "vin": VIN},
            "price": {"amount": "188000.00", "currency": "CNY"},
            "payment": {
                "method": "loan",
                "down_payment": {"amount": "48000.00", "currency": "CNY"},
                "loan_amount": {"amount": "140000.00", "currency": "CNY"},
                "term_months": 36,
                "annual_rate_percent": "3.85",
            },
            "planned_delivery_on": (stack.now() + timedelta(days=10)).date().isoformat(),
        },
    )
    contract_path = f"/v1/contracts/{contract['contract_id']}"

    async def lead_grade(grade: str) -> dict[str, Any] | None:
        detail = await lead_detail(lead_id)
        return detail if detail["grade"] == grade else None

    await eventually(lambda: lead_grade("O"), what="the lead converted (O) by the contract")

    entered = await sales(
        "POST",
        f"{contract_path}/payments",
        {
            "kind": "deposit",
            "method": "bank_transfer",
            "amount": {"amount": "48000.00", "currency": "CNY"},
            "confirmed_by_finance": False,
        },
        key=f"down-{dealer_id}",
    )
    assert entered["ledger"]["awaiting_confirmation"]["amount"] == "48000.00"
    payment_id = entered["payments"][0]["payment_id"]
    confirmed = await sales(
        "POST", f"{contract_path}/payments/{payment_id}/confirmation", {}, key=f"c-{dealer_id}"
    )
    assert confirmed["ledger"]["awaiting_confirmation"]["amount"] == "0.00"
    await sales(
        "POST",
        f"{contract_path}/loan-approval",
        {
            "lender": "招商银行",
            "decision": "approved",
            "reference": "CMB-2026-0042",
            "approved_amount": {"amount": "140000.00", "currency": "CNY"},
            "decided_at": stack.now().isoformat(),
        },
        key=f"loan-{dealer_id}",
    )
    paid = await sales(
        "POST",
        f"{contract_path}/payments",
        {
            "kind": "loan_disbursement",
            "method": "bank_transfer",
            "amount": {"amount": "140000.00", "currency": "CNY"},
        },
        key=f"loan-paid-{dealer_id}",
    )
    assert paid["ledger"]["balance_due"]["amount"] == "0.00"
    assert paid["loan_approval"]["decision"] == "approved"

    # -- delivery scheduled: the customer's reminders; PDI; delivered --------------------
    handover = at_local_afternoon(stack.now() + timedelta(hours=30))
    await sales(
        "POST",
        f"{contract_path}/deliveries/schedule",
        {"scheduled_for": handover.isoformat(), "location": "Handover bay 1"},
        key=f"schedule-{dealer_id}",
    )

    async def delivery_reminders() -> list[dict[str, Any]] | None:
        found = await reminders_of("delivery")
        return found if len(found) == 2 else None

    planned = await eventually(delivery_reminders, what="the delivery reminders planned")
    sends = sorted(datetime.fromisoformat(r["send_at"]) for r in planned)
    assert sends == [handover - timedelta(hours=24), handover - timedelta(hours=2)]

    async def day_before_sent() -> list[dict[str, Any]] | None:
        found = await reminders_of("delivery")
        return found if "sent" in [r["status"] for r in found] else None

    await eventually(
        day_before_sent,
        timeout_s=stack.real_seconds_until(sends[0]) + 30,
        what="the reminder the day before the delivery sent",
    )

    await sales(
        "PUT",
        f"{contract_path}/pdi",
        {
            "inspector_id": "tech-7",
            "inspected_at": stack.now().isoformat(),
            "items": [{"item": item, "passed": True} for item in PDI_ITEMS],
        },
    )
    delivered = await sales(
        "POST",
        f"{contract_path}/deliver",
        {
            "checklist": {"documents": list(DELIVERY_DOCUMENTS)},
            "odometer_km": 12,
        },
        key=f"deliver-{dealer_id}",
    )
    assert delivered["status"] == "delivered"

    # -- owner care and the plate registration; the lead delivered (D) ------------------
    async def care() -> dict[str, list[dict[str, Any]]] | None:
        kinds = by_kind(await client.tasks(dealer_id, customer_id=customer))
        wanted = {"delivery_callback", "satisfaction_callback", "plate_registration"}
        return kinds if wanted <= kinds.keys() else None

    care_tasks = await eventually(care, what="owner care and the plate-registration task")
    [callback] = care_tasks["delivery_callback"]
    [plate] = care_tasks["plate_registration"]
    assert callback["assignee"] == plate["assignee"] == CONSULTANT
    assert plate["related"] == {"kind": "contract", "id": contract["contract_id"]}
    await eventually(lambda: lead_grade("D"), what="the lead delivered (D)")

    # -- every step is on the sales topic, the lead's on the leads topic ----------------
    expected_sales = (
        "ShowroomVisitRecorded",
        "TestDriveScheduled",
        "TestDriveCompleted",
        "QuoteIssued",
        "DiscountApprovalRequested",
        "DiscountApprovalDecided",
        "ContractSigned",
        "PaymentReceived",
        "PaymentConfirmed",
        "LoanDecided",
        "DeliveryScheduled",
        "VehicleDelivered",
    )
    for name in expected_sales:
        assert await events_of(stack.kafka_bootstrap, sales_topic, dealer_id, name), name
    [vehicle_delivered] = await events_of(
        stack.kafka_bootstrap, sales_topic, dealer_id, "VehicleDelivered"
    )
    event: Any = vehicle_delivered.event
    assert (event.odometer_km, event.expected_yearly_km) == (12, 20000)
    assert event.pdi_inspector_id == "tech-7"
    [loan] = await events_of(stack.kafka_bootstrap, sales_topic, dealer_id, "LoanDecided")
    assert loan.event.decision == "approved"  # type: ignore[attr-defined]
    [created] = await events_of(stack.kafka_bootstrap, leads_topic, dealer_id, "LeadCreated")
    assert created.event.channel.value == "walk_in"  # type: ignore[attr-defined]
    assert await events_of(stack.kafka_bootstrap, leads_topic, dealer_id, "LeadUpdated")
