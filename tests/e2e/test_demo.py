"""The demo `make demo` plays, run against the end-to-end stack, so it stays working."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dealerflow.devinfra.client import DealerflowClient
from dealerflow.devinfra.demo import Clock, Demo


async def test_the_demo_day_plays_through(
    stack: Any, client: DealerflowClient, dealer_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = Demo(client, Clock(stack.clock_start, stack.clock_speed), dealer_id)
    ready = asyncio.Event()
    tail = asyncio.create_task(demo.tail(ready))
    await asyncio.wait_for(ready.wait(), 30)
    try:
        await demo.play()
        await demo.summary()
    finally:
        tail.cancel()
        await asyncio.gather(tail, return_exceptions=True)

    # Every step's reaction was seen on the topics as it happened.
    for event in (
        "LeadCreated",
        "LeadContacted",
        "VehicleDelivered",
        "VehicleHandedOver",
        "ComplaintEscalated",
        "TaskScheduled",
        "TaskDue",
        "TaskCompleted",
        "AppointmentRescheduled",
        "AppointmentNoShow",
        "InvitationDeclined",
        "LeadLost",
        "ShowroomVisitRecorded",
        "DiscountApprovalRequested",
        "DiscountApprovalDecided",
        "DeliveryScheduled",
    ):
        assert demo.counts[event] >= 1, (event, demo.counts)
    assert demo.counts["ComplaintOpened"] == 2  # the hotline one and the automatic one
    assert demo.dead_letters == 0
    printed = capsys.readouterr().out
    assert "Summary for dealer" in printed
    assert "dissatisfied" in printed
