"""Issue 14, done when: the notifier reaches customers through real channels on the running
system (all services, real Kafka and PostgreSQL, the accelerated clock).

The notifier of the session's stack is started again for this module with real drivers:
e-mail by the ``smtp`` driver to an SMTP server in this process (aiosmtpd), SMS by the
``aliyun`` driver to a local provider that verifies each request's signature as Alibaba
Cloud does (dealerflow.devinfra.sms_provider), survey and unsubscribe keys set and the
public URL its own; afterwards it is started again as the other modules expect it.

- an owner gets the satisfaction survey by e-mail, opens its link in headless chromium,
  scores 5, and complaints opens a complaint from the low score;
- holiday greetings (marketing) by SMS: due in the dealer's quiet hours they go out when
  those end; an owner who replies ``TD`` gets no more; the third greeting within a week
  is capped for the other owner;
- a VIP's (two cars bought) repair brings the service manager's courtesy call beside the
  advisor's follow-up, a regular customer's only the advisor's.
"""

from __future__ import annotations

import json
import os
import re
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiosmtpd.controller import Controller
from playwright.async_api import async_playwright

from dealerflow.contracts.contact import ConsentSnapshot, ContactSnapshot
from dealerflow.contracts.enums import ContactChannel, Locale
from dealerflow.contracts.events import VehicleDelivered
from dealerflow.contracts.examples import example_for
from dealerflow.contracts.identity import customer_id_for
from dealerflow.devinfra.client import DealerflowClient, eventually, new_event_id
from dealerflow.devinfra.services import restart_services
from dealerflow.devinfra.sms_provider import (
    ALIYUN_ID,
    ALIYUN_SECRET,
    Provider,
    aliyun_check,
    aliyun_form,
    serving_provider,
)
from tests.e2e.conftest import ISSUER

SHANGHAI = ZoneInfo("Asia/Shanghai")
SENDER = "care@pudong-motors.example.cn"
SMS_TEMPLATE = "SMS_154950909"
#: Debian's chromium, driven by Playwright (as the notifier's browser tests do).
CHROMIUM = os.environ.get("DEALERFLOW_CHROMIUM", "/usr/bin/chromium")


@dataclass
class Mailbox:
    """What the local SMTP server accepted: (envelope sender, recipients, e-mail, when)."""

    port: int
    received: list[tuple[str, list[str], EmailMessage, datetime]] = field(default_factory=list)

    def to(self, address: str) -> list[EmailMessage]:
        return [email for _, rcpt, email, _ in self.received if address in rcpt]


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        email = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(email, EmailMessage)
        self.box.received.append(
            (envelope.mail_from, list(envelope.rcpt_tos), email, datetime.now(UTC))
        )
        return "250 2.0.0 Ok: queued"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving_mailbox() -> Iterator[Mailbox]:
    """An SMTP server on 127.0.0.1 (a free port, no TLS: the driver's ``smtp_tls none``)."""
    box = Mailbox(port=_free_port())
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@dataclass(frozen=True)
class Channels:
    """The running stack with its notifier on real channels, and what they received."""

    stack: Any
    mailbox: Mailbox
    sms: Provider

    def service_time(self, real: datetime) -> datetime:
        """The services' (accelerated) clock at wall-clock instant ``real``."""
        return self.stack.clock_start + (real - self.stack.clock_start) * self.stack.clock_speed

    def sms_to(self, phone: str) -> list[tuple[dict[str, str], datetime]]:
        """The SMS the provider accepted for ``phone``: form and services' time of arrival."""
        return [
            (aliyun_form(request), self.service_time(request.at))
            for request, (status, answer) in zip(self.sms.received, self.sms.answered, strict=False)
            if status == 200
            and answer.get("Code") == "OK"
            and aliyun_form(request).get("PhoneNumbers") == phone
        ]


def notifier_env(stack: Any, mailbox: Mailbox, sms: Provider) -> dict[str, str]:
    """The notifier's real drivers, pointed at this process's servers, and its keys."""
    prefix = "DEALERFLOW_NOTIFIER_"
    drivers = {"email": "smtp", "sms": "aliyun", "wechat": "recording", "webhook": "recording"}
    return {
        prefix + "CHANNEL_DRIVERS": json.dumps(drivers),
        prefix + "SMS_DRIVER": "aliyun",  # wins over CHANNEL_DRIVERS["sms"] when set
        prefix + "STAFF_CHANNEL_DRIVER": "recording",
        prefix + "SMTP_HOST": "127.0.0.1",
        prefix + "SMTP_PORT": str(mailbox.port),
        prefix + "SMTP_FROM": SENDER,
        prefix + "SMTP_TLS": "none",
        prefix + "SMS_ENDPOINT": f"{sms.url}/",
        prefix + "SMS_TEMPLATES": json.dumps({"*": SMS_TEMPLATE}),
        prefix + "ALIYUN_ACCESS_KEY_ID": ALIYUN_ID,
        prefix + "ALIYUN_ACCESS_KEY_SECRET": ALIYUN_SECRET,
        prefix + "ALIYUN_SMS_SIGN_NAME": "浦东汽车",
        prefix + "SURVEY_LINK_SECRET": "e2e-survey-secret",
        prefix + "UNSUBSCRIBE_SECRET": "e2e-unsubscribe-secret",
        prefix + "PUBLIC_BASE_URL": stack.urls["notifier"],
    }


@pytest.fixture(scope="module")
async def channels(stack: Any) -> AsyncIterator[Channels]:
    """The stack's notifier started again on real channels for this module."""
    with serving_mailbox() as mailbox, serving_provider() as sms:
        sms.check = aliyun_check(set())
        config = replace(
            stack.config, extra_env={**stack.config.extra_env, **notifier_env(stack, mailbox, sms)}
        )
        restart_services(config, stack.handles, ["notifier"], timeout_s=120)
        try:
            yield Channels(stack, mailbox, sms)
        finally:
            restart_services(stack.config, stack.handles, ["notifier"], timeout_s=120)


def delivered(
    stack: Any, dealer_id: str, contact: ContactSnapshot, at: datetime | None = None
) -> VehicleDelivered:
    """A VehicleDelivered of a new delivery to ``contact`` (an outside DMS publishes it)."""
    when = at or stack.now()
    customer = customer_id_for("default", contact.phone) if contact.phone else uuid.uuid4()
    return example_for(VehicleDelivered).model_copy(
        update={
            "dealer_id": dealer_id,
            "customer_id": customer,
            "delivery_id": str(uuid.uuid4()),
            "delivered_at": when,
            "occurred_at": when,
            "contact": contact,
        }
    )


async def configured(stack: Any, client: DealerflowClient, dealer_id: str, patch: Any) -> None:
    """Configure the dealer and wait until the notifier and complaints have it."""
    changed = await client.configure_dealer(dealer_id, patch)
    version = changed["configuration_version"]
    await eventually(
        lambda: stack.configuration_seen(dealer_id, version, ("notifier", "complaints")),
        timeout_s=20,
        what=f"{dealer_id}'s configuration {version}",
    )


# --- e-mail, survey in the browser, complaint -------------------------------------------


@pytest.fixture
def chromium() -> str:
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"the survey test needs chromium at {CHROMIUM} (DEALERFLOW_CHROMIUM)")
    return CHROMIUM


async def test_a_survey_by_email_answered_5_in_the_browser_opens_a_complaint(
    channels: Channels, client: DealerflowClient, dealer_id: str, chromium: str
) -> None:
    stack = channels.stack
    await configured(
        stack,
        client,
        dealer_id,
        {"policy": {"owner_care": {"satisfaction_after_delivery": "PT2H"}}},
    )
    address = f"li.lei.{dealer_id}@example.com"
    contact = ContactSnapshot(
        name="Li Lei",
        email=address,
        preferred_channel=ContactChannel.EMAIL,
        consent=ConsentSnapshot(service=True, marketing=False),
        locale=Locale.EN,
    )
    event = delivered(stack, dealer_id, contact)
    await client.publish_external_event(event, event_id=new_event_id())

    # The survey e-mail reaches the SMTP server: from the dealer's sender, in English.
    async def survey_mail() -> EmailMessage | None:
        found = [m for m in channels.mailbox.to(address) if "/s/" in m.get_content()]
        return found[0] if found else None

    email = await eventually(survey_mail, timeout_s=60, what="the survey e-mail")
    assert email["From"] == SENDER
    assert email["To"] == address
    assert email["Subject"] == "How did we do?"
    assert email["Content-Language"] == "en"
    match = re.search(r"(http://\S+/s/\S+)", email.get_content())
    assert match is not None, email.get_content()
    url = match.group(1)
    assert url.startswith(stack.urls["notifier"] + "/s/")

    # The customer opens the link on a phone, scores 5 and sends it.
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            response = await page.goto(url)
            assert response is not None
            assert response.status == 200
            assert await page.title() == "How did we do?"  # the customer's locale
            await page.get_by_text("5", exact=True).click()
            await page.fill("#comment", "Nobody explained the infotainment system")
            async with page.expect_navigation():
                await page.get_by_role("button", name="Send").click()
            assert await page.locator("h1").inner_text() == "Thank you for your feedback"
        finally:
            await browser.close()

    # SurveyResponded -> complaints opens a complaint from the low score.
    async def complaint() -> dict[str, Any] | None:
        found = await client.complaints(dealer_id)
        return found[0] if found else None

    opened = await eventually(complaint, timeout_s=60, what="the complaint from the survey")
    assert opened["customer_id"] == str(event.customer_id), opened
    assert opened["origin"]["kind"] == "low_survey_score", opened
    assert opened["origin"]["survey_score"] == 5, opened
    assert opened["channel"] == "callback_survey", opened

    # ... and the customer hears by e-mail that the complaint was received.
    async def complaint_mail() -> EmailMessage | None:
        found = [m for m in channels.mailbox.to(address) if m["Subject"] == "About your complaint"]
        return found[0] if found else None

    await eventually(complaint_mail, timeout_s=60, what="the complaint-received e-mail")


# --- SMS: quiet hours, opt-out reply, marketing cap ------------------------------------

HOLIDAYS = (("冬至", "Winter Solstice"), ("腊八节", "Laba Festival"), ("小年", "Little New Year"))


def _owner(name: str, phone: str) -> ContactSnapshot:
    return ContactSnapshot(
        name=name,
        phone=phone,
        preferred_channel=ContactChannel.SMS,
        consent=ConsentSnapshot(service=True, marketing=True),
    )


async def _greetings(
    client: DealerflowClient, dealer_id: str, customer: uuid.UUID, count: int
) -> list[dict[str, Any]] | None:
    """The customer's greeting notifications (sent or suppressed) once there are ``count``."""
    found = [
        n
        for n in await client.notifications(dealer_id, str(customer))
        if n["kind"] == "holiday_greeting" and n["status"] in ("sent", "suppressed")
    ]
    return sorted(found, key=lambda n: n["created_at"]) if len(found) >= count else None


async def test_greetings_by_sms_wait_out_quiet_hours_stop_after_td_and_are_capped(
    channels: Channels, client: DealerflowClient, dealer_id: str
) -> None:
    stack = channels.stack
    today = stack.now().astimezone(SHANGHAI).date()
    on = [today + timedelta(days=n) for n in (2, 3, 4)]
    greetings = [
        {"name": zh, "name_en": en, "on": day.isoformat()}
        for (zh, en), day in zip(HOLIDAYS, on, strict=True)
    ]
    # Greetings are planned at 10:00 the day before: inside this dealer's quiet hours.
    quiet = {"quiet_hours_start": "09:00:00", "quiet_hours_end": "15:00:00"}
    await configured(
        stack,
        client,
        dealer_id,
        {"policy": {"contact": quiet, "owner_care": {"greetings": greetings}}},
    )
    capped_phone, stopping_phone = "+8613700137101", "+8613700137102"
    capped = delivered(stack, dealer_id, _owner("王芳", capped_phone))
    stopping = delivered(stack, dealer_id, _owner("李娜", stopping_phone))
    for event in (capped, stopping):
        await client.publish_external_event(event, event_id=new_event_id())

    def greeting_sms(phone: str, holiday: str) -> list[tuple[dict[str, str], datetime]]:
        return [
            (form, at)
            for form, at in channels.sms_to(phone)
            if holiday in json.loads(form["TemplateParam"])["content"]
        ]

    # The first greeting reaches both owners as a signed SMS the provider accepted, not at
    # 10:00 but when the quiet hours end at 15:00 (dealer-local) that day.
    first_day = on[0] - timedelta(days=1)
    for phone in (capped_phone, stopping_phone):
        [(form, at)] = await eventually(
            lambda phone=phone: _nonempty(greeting_sms(phone, HOLIDAYS[0][0])),
            timeout_s=stack.real_seconds_until(_local(first_day, 15)) + 30,
            what=f"the first greeting SMS to {phone}",
        )
        # (the upper bound leaves the lag of a loaded machine: 1 s is 2 h here)
        assert _local(first_day, 15) <= at < _local(on[0], 9), at.astimezone(SHANGHAI)
        assert form["SignName"] == "浦东汽车"
        assert form["TemplateCode"] == SMS_TEMPLATE
        content = json.loads(form["TemplateParam"])["content"]
        assert "/v1/unsubscribe/" in content  # marketing carries its way out

    # One owner replies TD to it: the SMS gateway passes the reply on.
    token = ISSUER.token(sub="sms-gateway", roles=["integration"], dealers=[dealer_id])
    async with httpx.AsyncClient(base_url=stack.urls["notifier"], timeout=30) as http:
        reply = await http.post(
            "/v1/inbound/sms",
            json={
                "dealer_id": dealer_id,
                "from": stopping_phone,
                "text": "TD",
                "received_at": stack.now().isoformat(),
            },
            headers={"Authorization": f"Bearer {token}"},
        )
    assert reply.status_code == 201, reply.text
    assert reply.json()["opt_out"] is True

    # The third greeting: capped for the owner who had two this week; the one who
    # replied TD got none after the first.
    wait = stack.real_seconds_until(_local(on[2] - timedelta(days=1), 15)) + 45
    three = await eventually(
        lambda: _greetings(client, dealer_id, capped.customer_id, 3),
        timeout_s=wait,
        what="the three greetings of the capped owner",
    )
    assert [(n["status"], n["policy"]) for n in three] == [
        ("sent", None),
        ("sent", None),
        ("suppressed", "marketing_cap"),
    ], three
    assert len(greeting_sms(capped_phone, HOLIDAYS[1][0])) == 1
    assert greeting_sms(capped_phone, HOLIDAYS[2][0]) == []
    stopped = await eventually(
        lambda: _greetings(client, dealer_id, stopping.customer_id, 3),
        timeout_s=30,
        what="the three greetings of the owner who replied TD",
    )
    assert [(n["status"], n["policy"]) for n in stopped] == [
        ("sent", None),
        ("suppressed", "opted_out"),
        ("suppressed", "opted_out"),
    ], stopped
    assert [holiday for holiday, _ in HOLIDAYS if greeting_sms(stopping_phone, holiday)] == [
        HOLIDAYS[0][0]
    ]


async def _nonempty(items: list[Any]) -> list[Any] | None:
    return items or None


def _local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=SHANGHAI)


# --- a VIP's care ------------------------------------------------------------------------


async def test_a_vips_repair_brings_the_service_managers_courtesy_call(
    channels: Channels, client: DealerflowClient, dealer_id: str
) -> None:
    stack = channels.stack
    vip_phone, regular_phone = "+8613700137201", "+8613700137202"
    for vin in ("LSVAU2180N2183501", "LSVAU2180N2183502"):  # two cars bought: VIP
        await client.sell_and_deliver(
            dealer_id,
            name="周杰",
            phone=vip_phone,
            vin=vin,
            consultant_id="consultant-li",
            delivery_on=(stack.now() + timedelta(days=1)).date(),
        )
    vip = customer_id_for("default", vip_phone)
    regular = customer_id_for("default", regular_phone)

    async def tier_of(customer: uuid.UUID) -> str:
        body = await client.call(
            "notifier", "GET", f"/v1/customers/{customer}/tier", params={"dealer_id": dealer_id}
        )
        return str(body["tier"])

    async def is_vip() -> bool:
        return await tier_of(vip) == "vip"

    await eventually(is_vip, timeout_s=60, what="the VIP tier from two purchases")
    for name, phone, vin in (
        ("周杰", vip_phone, "LSVAU2180N2183501"),
        ("郑爽", regular_phone, "LSVAU2180N2183503"),
    ):
        await client.repair_and_hand_over(
            dealer_id, name=name, phone=phone, vin=vin, advisor_id="advisor-zhao"
        )

    async def follow_ups(customer: uuid.UUID, count: int) -> list[str] | None:
        tasks = await client.tasks(dealer_id, customer_id=str(customer))
        found = sorted(t["assignee"] for t in tasks if t["kind"] == "service_callback")
        return found if len(found) >= count else None

    assert await eventually(
        lambda: follow_ups(vip, 2), timeout_s=60, what="the VIP's follow-ups"
    ) == sorted(["advisor-zhao", f"service-manager:{dealer_id}"])
    assert await eventually(
        lambda: follow_ups(regular, 1), timeout_s=60, what="the regular follow-up"
    ) == ["advisor-zhao"]
    assert await tier_of(regular) == "regular"
