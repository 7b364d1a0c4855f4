"""Personal data across the running system (issue 9, item 6).

1. An erasure request at leads reaches every service: a customer known to leads, sales,
   service-center, complaints and the notifier is anonymised everywhere at that store, and
   each service still answers its records (200) with the business numbers kept.
2. The services' logs of the whole end-to-end run carry no phone number, ID-card number or
   e-mail address in the clear. pytest runs this module after the other e2e modules
   (files in name order), so the logs it reads are those of every scenario before it too.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from dealerflow.contracts.identity import customer_id_for
from dealerflow.devinfra.client import DealerflowClient, eventually
from tests.e2e.conftest import ISSUER

NAME = "欧阳娜娜"
PHONE = "+8613611112222"
VIN = "LSVAU2180N2189001"

# What the logs must not show in the clear (mask_pii keeps the last four digits of a
# number and only the domain of an address): a Chinese mobile number with or without +86,
# any other E.164 number, an 18-character ID-card number, an e-mail address; not inside
# a longer run of letters and digits (a trace id's hex can hold eleven digits).
_LEAKS = re.compile(
    r"(?<![0-9A-Za-z*+])(?:\+?86)?1[3-9]\d{9}(?![0-9A-Za-z])"
    r"|\+[1-9]\d{6,14}(?![0-9A-Za-z])"
    r"|(?<![0-9A-Za-z*])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"\d{3}[\dXx](?![0-9A-Za-z])"
    r"|[\w.%+-]*[\w%+-]@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}"
)


def _gm(dealer_id: str) -> dict[str, str]:
    token = ISSUER.token(sub="gm-e2e", roles=["gm"], dealers=[dealer_id])
    return {"Authorization": f"Bearer {token}"}


def _text(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False)


async def test_an_erasure_request_anonymises_the_customer_in_every_service(
    stack: Any, client: DealerflowClient, dealer_id: str
) -> None:
    customer = str(customer_id_for("default", PHONE))
    lead = await client.submit_lead(dealer_id, name=NAME, phone=PHONE, channel="online")
    delivered = await client.sell_and_deliver(
        dealer_id,
        name=NAME,
        phone=PHONE,
        vin=VIN,
        consultant_id="consultant-li",
        delivery_on=(stack.now() + timedelta(days=1)).date(),
    )
    order = await client.repair_and_hand_over(
        dealer_id, name=NAME, phone=PHONE, vin=VIN, advisor_id="advisor-zhao"
    )
    complaint = await client.open_complaint(dealer_id, name=NAME, phone=PHONE)

    async def care_planned() -> bool:
        tasks = await client.tasks(dealer_id, customer_id=customer)
        reminders = await client.reminders(dealer_id, customer_id=customer)
        return any(t["kind"] == "delivery_callback" for t in tasks) and any(
            r["status"] == "scheduled" for r in reminders
        )

    await eventually(care_planned, what="the notifier's care tasks and reminders")

    reads = {
        "leads": (f"/v1/leads/{lead['lead_id']}", "contact"),
        "sales": (f"/v1/contracts/{delivered['contract_id']}", "contact"),
        "service-center": (f"/v1/repair-orders/{order['repair_order_id']}", "contact"),
        "complaints": (f"/v1/complaints/{complaint['id']}", "contact"),
    }

    async def read_all() -> dict[str, Any]:
        found = {}
        for service, (path, _) in reads.items():
            found[service] = await client.call(
                service, "GET", path, params={"dealer_id": dealer_id}
            )
        found["notifier"] = {
            "tasks": await client.tasks(dealer_id, customer_id=customer),
            "reminders": await client.reminders(dealer_id, customer_id=customer),
            "notifications": await client.notifications(dealer_id, customer_id=customer),
        }
        return found

    before = await read_all()
    for service in reads:
        assert PHONE[3:] in _text(before[service]), service
        assert NAME in _text(before[service]), service

    request = await client.call(
        "leads",
        "POST",
        f"/v1/customers/{customer}/erasure",
        json_body={"dealer_id": dealer_id, "basis": "pipl-art-47"},
        headers=_gm(dealer_id),
        expect=(202,),
    )
    assert request["customer_id"] == customer

    async def erased_everywhere() -> dict[str, Any] | None:
        found = await read_all()
        left = [
            s for s, record in found.items() if NAME in _text(record) or PHONE[3:] in _text(record)
        ]
        return found if not left else None

    after = await eventually(erased_everywhere, what="every service's erasure", timeout_s=60)
    for service, (_, field) in reads.items():
        assert after[service][field]["erased"] is True, service
    # business records stay: the contract's price and status, the repair order's status,
    # the complaint's severity, the lead's grade
    assert after["sales"]["price"] == before["sales"]["price"]
    assert after["sales"]["status"] == before["sales"]["status"]
    assert after["service-center"]["status"] == before["service-center"]["status"]
    assert after["complaints"]["severity"] == before["complaints"]["severity"]
    assert after["leads"]["grade"] == before["leads"]["grade"]
    # nothing still planned would reach the erased customer
    assert all(r["status"] != "scheduled" for r in after["notifier"]["reminders"])


def test_no_personal_data_in_the_logs_of_the_run(stack: Any) -> None:
    leaks = []
    logs = sorted(stack.log_dir.glob("*.log"))
    assert logs, "no service logs to read"
    for path in logs:
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for match in _LEAKS.finditer(line):
                leaks.append(f"{path.name}:{number}: {match.group(0)!r} in {line[:300]}")
    assert leaks == [], "\n".join(leaks[:20])
    assert sum(len(p.read_text(errors="replace")) for p in logs) > 10_000  # they did log
