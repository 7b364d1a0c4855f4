"""The ``smtp`` e-mail driver against a real SMTP server (aiosmtpd) on a free local port."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from dealerflow.notifier.channels import ChannelRegistry, OutboundMessage
from dealerflow.notifier.channels_smtp import SmtpChannel
from dealerflow.notifier.settings import NotifierSettings

MESSAGE = OutboundMessage(
    id=uuid.UUID(int=9),
    dealer_id="D1",
    customer_id=uuid.UUID(int=1),
    audience="customer",
    channel="email",
    recipient="zhang.wei@example.cn",
    kind="maintenance_due",
    subject="保养提醒",
    body="张伟先生，您好：您的车辆即将到期保养。",
    locale="zh-CN",
)


@dataclass
class Mailbox:
    """What the SMTP server accepted; ``answer`` replaces its reply to DATA when set."""

    port: int
    answer: str | None = None
    refuse_rcpt: str | None = None
    received: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


class Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if self.box.refuse_rcpt is not None:
            return self.box.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.box.answer is not None:
            return self.box.answer
        email = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(email, EmailMessage)
        self.box.received.append((envelope.mail_from, list(envelope.rcpt_tos), email))
        return "250 2.0.0 Ok: queued as Q42"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(port=free_port())

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and data.password == b"app-password"
        if ok:
            box.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        Handler(box),
        hostname="127.0.0.1",
        port=box.port,
        authenticator=authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def channel(box: Mailbox, **overrides: Any) -> SmtpChannel:
    settings = NotifierSettings(
        channel_drivers={"email": "smtp"},
        smtp_host="127.0.0.1",
        smtp_port=box.port,
        smtp_from="service@pudong-motors.example",
        smtp_tls="none",
        **overrides,
    )
    driver = ChannelRegistry.from_settings(settings).for_customer("email")
    assert isinstance(driver, SmtpChannel)
    return driver


async def test_an_email_arrives_with_recipient_subject_body_and_locale(mailbox: Mailbox) -> None:
    result = await channel(mailbox).send(MESSAGE)
    assert result.ok, result.error
    assert "Q42" in (result.provider_message_id or "")
    [(sender, recipients, email)] = mailbox.received
    assert sender == "service@pudong-motors.example"
    assert recipients == ["zhang.wei@example.cn"]
    assert email["To"] == "zhang.wei@example.cn"
    assert email["Subject"] == "保养提醒"
    assert email["Content-Language"] == "zh-CN"
    assert email["Message-ID"] == f"<{MESSAGE.id}@pudong-motors.example>"
    assert email.get_content().strip() == MESSAGE.body
    assert mailbox.logins == []  # no user: no AUTH


async def test_with_a_user_the_driver_logs_in(mailbox: Mailbox) -> None:
    ok = await channel(mailbox, smtp_user="service", smtp_password="app-password").send(MESSAGE)
    assert ok.ok, ok.error
    assert mailbox.logins == ["service"]
    wrong = await channel(mailbox, smtp_user="service", smtp_password="wrong").send(MESSAGE)
    assert (wrong.ok, wrong.retryable) == (False, False)  # 535: fix the settings, not retry
    assert "535" in (wrong.error or "")


@pytest.mark.parametrize(
    ("refusal", "retryable"),
    [("550 5.1.1 no such mailbox", False), ("450 4.2.1 mailbox busy", True)],
)
async def test_a_refused_recipient_is_final_or_retried_by_its_code(
    mailbox: Mailbox, refusal: str, retryable: bool
) -> None:
    mailbox.refuse_rcpt = refusal
    result = await channel(mailbox).send(MESSAGE)
    assert (result.ok, result.retryable) == (False, retryable)
    assert refusal.split()[0] in (result.error or "")
    assert mailbox.received == []


@pytest.mark.parametrize(
    ("answer", "retryable"),
    [("554 5.7.1 rejected as spam", False), ("451 4.3.0 try again later", True)],
)
async def test_a_refused_message_is_final_or_retried_by_its_code(
    mailbox: Mailbox, answer: str, retryable: bool
) -> None:
    mailbox.answer = answer
    result = await channel(mailbox).send(MESSAGE)
    assert (result.ok, result.retryable) == (False, retryable)
    assert answer.split()[0] in (result.error or "")


async def test_no_server_is_retryable() -> None:
    result = await channel(Mailbox(port=free_port()), smtp_timeout_s=2.0).send(MESSAGE)
    assert (result.ok, result.retryable) == (False, True)


def test_the_driver_needs_a_host_and_a_sender() -> None:
    with pytest.raises(ValueError, match="SMTP_HOST"):
        ChannelRegistry.from_settings(NotifierSettings(channel_drivers={"email": "smtp"}))
