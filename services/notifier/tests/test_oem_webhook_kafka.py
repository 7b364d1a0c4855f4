"""Complaints escalated to the OEM/region rung reach the dealer's OEM webhook
(``people.oem_region.webhook_url``): a real HTTP server on a free local port, the whole
notifier on real Kafka and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.care_enums import EscalationRole
from dealerflow.contracts.events.complaints import ComplaintEscalated
from dealerflow.contracts.examples import example_for
from dealerflow.devinfra.local_http import JsonHandler, serving
from dealerflow.runtime.webhooks import secret_key, verify

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai (the clock's start)
DEALER = "D001"

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks example secret
OTHER_DEALER = "D002"


@dataclass
class Receiver:
    """What the OEM's endpoint received; it answers ``status`` (JSON ``{"id": ...}``)."""

    url: str
    status: int = 200
    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def documents(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.posts]


@pytest.fixture
def oem_endpoint() -> Iterator[Receiver]:
    receiver = Receiver(url="")

    class Hook(JsonHandler):
        def do_POST(self) -> None:
            receiver.posts.append((self.lower_headers(), self.body()))
            self.reply(receiver.status, {"id": f"oem-{len(receiver.posts)}"})

    with serving(Hook) as url:
        receiver.url = f"{url}/hook"
        yield receiver


@pytest.fixture
async def notifier(start_notifier: Any) -> AsyncIterator[Any]:
    """The notifier signing webhooks, trying a message 3 times, 60 s apart at first."""
    async with start_notifier(
        webhook_secret=SECRET,
        message_max_attempts=3,
        message_retry_backoff_s=60.0,
    ) as started:
        yield started


def escalated(complaint_id: str, level: int = 3, dealer_id: str = DEALER) -> ComplaintEscalated:
    role = list(EscalationRole)[level - 1]  # the ladder, in order
    return example_for(ComplaintEscalated).model_copy(
        update={
            "dealer_id": dealer_id,
            "complaint_id": complaint_id,
            "level": level,
            "to_role": role,
            "to_staff_id": None,
            "occurred_at": START,
            "escalated_at": START,
            "due_at": START - timedelta(minutes=1),
        }
    )


def configure_oem(notifier: Any, dealer_id: str, **oem_region: Any) -> None:
    notifier.configure(
        dealer_id, {"profile": {"name": "浦东店"}, "people": {"oem_region": oem_region}}
    )


async def alerts(notifier: Any, dealer_id: str = DEALER) -> list[dict[str, Any]]:
    found = await notifier.notifications(dealer_id=dealer_id)
    return [n for n in found if n["kind"] == "complaint_escalation"]


async def test_an_oem_escalation_is_posted_signed_to_the_dealers_webhook_once(
    notifier: Any, oem_endpoint: Receiver
) -> None:
    configure_oem(notifier, DEALER, name="华东大区", webhook_url=oem_endpoint.url)
    event = escalated("CMP-OEM")
    await notifier.produce(event, event_id="esc-1")
    await notifier.produce(event, event_id="esc-1")  # a redelivery
    await notifier.produce(event, event_id="esc-1-again")  # the same fact re-published

    async def sent() -> list[dict[str, Any]]:
        return [n for n in await alerts(notifier) if n["status"] == "sent"]

    [notification] = await notifier.eventually(sent, "the alert POSTed to the OEM")
    # a marker after every copy: when its alert is sent, all copies were handled
    await notifier.produce(escalated("CMP-MARK", level=2))

    async def marker_sent() -> bool:
        found = await alerts(notifier)
        return any(n["status"] == "sent" and "CMP-MARK" in n["subject"] for n in found)

    await notifier.eventually(marker_sent, "the marker's staff alert")

    [(headers, body)] = oem_endpoint.posts  # one POST for three copies of the event
    # the OEM checks the Standard Webhooks signature; webhook-id is the notification id
    now = int(headers["webhook-timestamp"])
    assert verify(secret_key(SECRET), headers, body, now=now) == notification["id"]
    assert "x-dealerflow-signature" not in headers
    assert headers["idempotency-key"] == notification["id"]
    document = json.loads(body)
    assert document == {
        "type": "complaint_escalated",
        "complaint_id": "CMP-OEM",
        "dealer_id": DEALER,
        "dealer_name": "浦东店",
        "level": 3,
        "role": "oem_region",
        "reason": "resolve_deadline_missed",
        "clock": "resolve",
        "severity": event.severity.value,
        "due_at": "2025-03-03T01:59:00Z",
        "escalated_at": "2025-03-03T02:00:00Z",
        "summary": document["summary"],
    }
    assert "CMP-OEM" in document["summary"]
    assert str(event.customer_id) not in body.decode()  # nothing about the customer

    assert notification["channel"] == "oem_webhook"
    assert notification["recipient"] == f"oem-region:{DEALER}"  # no OEM staff id set
    assert (notification["attempts"], notification["provider_message_id"]) == (1, "oem-1")
    assert json.loads(notification["body"]) == document  # the record of what was sent
    # the task stays on the dealer's list, once
    oem_tasks = [t for t in await notifier.tasks() if t["related"]["id"] == "CMP-OEM"]
    assert [t["assignee"] for t in oem_tasks] == [f"oem-region:{DEALER}"]
    # the marker (GM rung) went through the staff channel as before
    [marker] = [n for n in await alerts(notifier) if "CMP-MARK" in n["subject"]]
    assert marker["channel"] == "staff"


async def test_a_failing_oem_endpoint_is_retried_with_backoff_then_recorded_as_failed(
    notifier: Any, oem_endpoint: Receiver
) -> None:
    oem_endpoint.status = 503
    configure_oem(notifier, DEALER, name="华东大区", webhook_url=oem_endpoint.url)
    configure_oem(notifier, OTHER_DEALER, name="华东大区", staff_id="oem-east")  # no webhook
    await notifier.produce(escalated("CMP-DOWN"))

    async def attempts(count: int, status: str) -> dict[str, Any] | None:
        [alert] = await alerts(notifier) or [None]
        if alert is None or (alert["attempts"], alert["status"]) != (count, status):
            return None
        return alert

    first = await notifier.eventually(lambda: attempts(1, "queued"), "the first attempt")
    assert "503" in first["error"]

    # other work goes on meanwhile: the dealer without a webhook gets today's alert
    await notifier.produce(escalated("CMP-OTHER", dealer_id=OTHER_DEALER))

    async def other_sent() -> list[dict[str, Any]]:
        return [n for n in await alerts(notifier, OTHER_DEALER) if n["status"] == "sent"]

    [other] = await notifier.eventually(other_sent, "the other dealer's staff alert")
    assert (other["channel"], other["recipient"]) == ("staff", "oem-east")
    [other_task] = await notifier.tasks(dealer_id=OTHER_DEALER)
    assert other_task["assignee"] == "oem-east"

    notifier.clock.advance(timedelta(seconds=59))  # backoff 60 s: not yet
    await notifier.produce(escalated("CMP-MARK", level=1, dealer_id=OTHER_DEALER))

    async def marker_sent() -> bool:
        return len(await other_sent()) == 2

    await notifier.eventually(marker_sent, "a marker alert after the first minute")
    assert len(oem_endpoint.posts) == 1

    notifier.clock.advance(timedelta(seconds=1))
    await notifier.eventually(lambda: attempts(2, "queued"), "the second attempt")
    notifier.clock.advance(timedelta(seconds=120))  # then 120 s
    failed = await notifier.eventually(lambda: attempts(3, "failed"), "the last attempt")
    assert "503" in failed["error"]
    assert failed["sent_at"] is None

    notifier.clock.advance(timedelta(hours=6))
    await notifier.produce(escalated("CMP-MARK-2", level=1, dealer_id=OTHER_DEALER))

    async def second_marker_sent() -> bool:
        return len(await other_sent()) == 3

    await notifier.eventually(second_marker_sent, "a marker alert hours later")
    assert len(oem_endpoint.posts) == 3  # no attempt after the last
    keys = {headers["idempotency-key"] for headers, _ in oem_endpoint.posts}
    assert keys == {failed["id"]}  # every retry with the same key
    assert len({body for _, body in oem_endpoint.posts}) == 1  # and the same signed body


async def test_an_oem_endpoint_refusing_the_request_is_final_at_once(
    notifier: Any, oem_endpoint: Receiver
) -> None:
    """A 4xx other than 408/429 (here: the receiver refuses the signature) is not retried."""
    oem_endpoint.status = 401
    configure_oem(notifier, DEALER, name="华东大区", webhook_url=oem_endpoint.url)
    await notifier.produce(escalated("CMP-REFUSED"))

    async def failed() -> dict[str, Any] | None:
        found = [n for n in await alerts(notifier) if n["status"] == "failed"]
        return found[0] if found else None

    alert = await notifier.eventually(failed, "the refused alert recorded as failed")
    assert alert["attempts"] == 1
    assert "401" in alert["error"]
    notifier.clock.advance(timedelta(hours=1))  # well past every backoff
    await notifier.produce(escalated("CMP-MARK", level=2))

    async def marker_sent() -> bool:
        found = await alerts(notifier)
        return any(n["status"] == "sent" and "CMP-MARK" in n["subject"] for n in found)

    await notifier.eventually(marker_sent, "a later alert")
    assert len(oem_endpoint.posts) == 1
