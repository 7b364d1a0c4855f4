"""ConsentChanged (notifier topic) on real Kafka -> service-center refreshes the consent in
the contact snapshots it keeps for the customer (here the owned vehicle VehicleDelivered
registered): a withdrawal for every channel flips the purpose, a per-channel withdrawal
opts that channel out, a grant on the channel lifts it; another customer is untouched."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from dealerflow.contracts.enums import ConsentPurpose, MessageChannel
from dealerflow.contracts.events.notifier import ConsentChanged
from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.contracts.examples import example_for
from dealerflow.devinfra.service_testing import (
    RunningService,
    eventually,
    produce_event,
)

pytestmark = pytest.mark.integration

AT = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)


def delivered(vin: str, customer_id: uuid.UUID) -> VehicleDelivered:
    event = example_for(VehicleDelivered)
    contact = event.contact.model_copy(
        update={"consent": event.contact.consent.model_copy(update={"marketing": True})}
    )
    return event.model_copy(
        update={
            "dealer_id": "D001",
            "customer_id": customer_id,
            "vin": vin,
            "delivered_at": AT,
            "occurred_at": AT,
            "contact": contact,
        }
    )


def consent(customer_id: uuid.UUID, **changes: Any) -> ConsentChanged:
    return example_for(ConsentChanged).model_copy(
        update={"dealer_id": "D001", "customer_id": customer_id, "consent_id": str(uuid.uuid4())}
        | changes
    )


async def test_consent_changes_refresh_the_stored_contact(
    center: RunningService, producer: AIOKafkaProducer, pg_pool: asyncpg.Pool
) -> None:
    owner, other = uuid.uuid4(), uuid.uuid4()
    await produce_event(producer, center.topics, delivered("LFV2A21K6D4100001", owner))
    await produce_event(producer, center.topics, delivered("LFV2A21K6D4100002", other))

    async def consent_of(customer_id: uuid.UUID) -> Any:
        return await pg_pool.fetchval(
            "SELECT contact->'consent' FROM owned_vehicles WHERE customer_id = $1", customer_id
        )

    async def both_registered() -> bool:
        return (await consent_of(owner)) is not None and (await consent_of(other)) is not None

    await eventually(both_registered, "both vehicles registered")

    marketing, sms = ConsentPurpose.MARKETING, MessageChannel.SMS
    withdrawn = consent(owner, purpose=marketing, channel=None, granted=False)
    no_sms = consent(owner, purpose=ConsentPurpose.SERVICE, channel=sms, granted=False)
    for event in (withdrawn, no_sms):
        await produce_event(producer, center.topics, event)

    expected = '{"service": true, "marketing": false, "opted_out_channels": ["sms"]}'

    async def refreshed() -> bool:
        return bool(
            await pg_pool.fetchval(
                "SELECT $1::jsonb = $2::jsonb", await consent_of(owner), expected
            )
        )

    await eventually(refreshed, "the owner's consent refreshed")
    untouched = await pg_pool.fetchval("SELECT $1::jsonb->>'marketing'", await consent_of(other))
    assert untouched == "true"

    sms_again = consent(owner, purpose=ConsentPurpose.SERVICE, channel=sms, granted=True)
    await produce_event(producer, center.topics, sms_again)
    lifted = '{"service": true, "marketing": false, "opted_out_channels": []}'

    async def sms_lifted() -> bool:
        return bool(
            await pg_pool.fetchval("SELECT $1::jsonb = $2::jsonb", await consent_of(owner), lifted)
        )

    await eventually(sms_lifted, "the SMS opt-out lifted")
