"""ConsentChanged on the notifier topic (from the notifier or any system capturing
consent) refreshes the consent in the contact snapshots of the customer's leads, against
real Kafka and PostgreSQL: an opt-in to marketing, a per-channel opt-out; another
customer's lead is untouched."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from dealerflow.contracts.enums import ConsentPurpose, MessageChannel
from dealerflow.contracts.events.notifier import ConsentChanged
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

DEALER = "gz-tianhe-03"


async def new_lead(leads: Any, phone: str) -> dict[str, Any]:
    body = {"dealer_id": DEALER, "customer": {"name": "陈静", "phones": [phone]}}
    answer = await leads.http.post("/v1/leads", json=body, params={"consultant_id": "c-he"})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def consent_of(leads: Any, lead: dict[str, Any]) -> dict[str, Any]:
    stored = await leads.pool.fetchval(
        "SELECT contact->'consent' FROM leads WHERE lead_id = $1", uuid.UUID(lead["lead_id"])
    )
    assert stored is not None
    found: dict[str, Any] = json.loads(stored)
    return found


async def test_consent_changes_refresh_the_leads_contact(leads: Any) -> None:
    lead, other = await new_lead(leads, "13900005555"), await new_lead(leads, "13900006666")
    assert (await consent_of(leads, lead))["marketing"] is False
    customer = uuid.UUID(lead["customer_id"])
    base = example_for(ConsentChanged).model_copy(
        update={"dealer_id": DEALER, "customer_id": customer}
    )
    opt_in = base.model_copy(
        update={
            "consent_id": "cons-in",
            "purpose": ConsentPurpose.MARKETING,
            "channel": None,
            "granted": True,
        }
    )
    no_wechat = base.model_copy(
        update={
            "consent_id": "cons-wechat",
            "purpose": ConsentPurpose.MARKETING,
            "channel": MessageChannel.WECHAT,
            "granted": False,
        }
    )
    await leads.handled(await leads.publish(opt_in))
    await leads.handled(await leads.publish(no_wechat))
    await leads.handled(await leads.publish(no_wechat.model_copy()))  # again: the same
    assert await consent_of(leads, lead) == {
        "service": True,
        "marketing": True,
        "opted_out_channels": ["wechat"],
    }
    assert (await consent_of(leads, other))["marketing"] is False
