"""The ``smtp`` channel driver: customer e-mail through an SMTP server (aiosmtplib).

Settings (``DEALERFLOW_NOTIFIER_SMTP_*``): ``host``, ``port``, ``from_address``, ``tls``
(``starttls``: upgrade a plain connection, the usual submission port 587; ``tls``:
implicit TLS, port 465; ``none``: plain, only for a local relay or tests), ``user`` and
``password`` (AUTH when a user is set), ``timeout_s``.

The message is the rendered one (subject and body are already in the customer's locale,
chosen by the template rendering); it goes out as UTF-8 text with ``Content-Language``
set to that locale and ``Message-ID`` made from the notification id, stable across retries
so a receiving system can drop a repeat. Answers: accepted = sent (the server's queue id
is the provider message id); SMTP 4xx replies and connection problems are retryable; 5xx
replies (unknown mailbox, refused sender, failed authentication) are final.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from dealerflow.notifier.channels import OutboundMessage, SendResult
from dealerflow.notifier.settings import NotifierSettings

__all__ = ["SmtpChannel", "smtp_driver"]

log = logging.getLogger("dealerflow.notifier.channels.smtp")


class SmtpChannel:
    """Sends each message as one e-mail to ``message.recipient``."""

    name = "smtp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        from_address: str,
        tls: str = "starttls",
        user: str | None = None,
        password: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        if tls not in ("starttls", "tls", "none"):
            raise ValueError(f"SMTP tls is starttls, tls or none, not {tls!r}")
        self.host = host
        self.port = port
        self.from_address = from_address
        self.tls = tls
        self._user = user
        self._password = password
        self.timeout_s = timeout_s

    def email_of(self, message: OutboundMessage) -> EmailMessage:
        """The e-mail of ``message`` (headers and UTF-8 text body)."""
        email = EmailMessage()
        email["From"] = self.from_address
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email["Date"] = formatdate(usegmt=True)
        email["Message-ID"] = f"<{message.id}@{self.from_address.rpartition('@')[2]}>"
        email.set_content(message.body, charset="utf-8")  # clears Content-* headers: first
        if message.locale:
            email["Content-Language"] = message.locale
        return email

    async def send(self, message: OutboundMessage) -> SendResult:
        email = self.email_of(message)
        try:
            _, answer = await aiosmtplib.send(
                email,
                hostname=self.host,
                port=self.port,
                username=self._user,
                password=self._password,
                use_tls=self.tls == "tls",
                start_tls=self.tls == "starttls",
                timeout=self.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            reason = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            retryable = all(400 <= code < 500 for code in codes)
            return SendResult(ok=False, error=f"smtp refused: {reason}", retryable=retryable)
        except aiosmtplib.SMTPResponseException as exc:
            retryable = 400 <= exc.code < 500
            error = f"smtp answered {exc.code}: {exc.message}"
            return SendResult(ok=False, error=error[:500], retryable=retryable)
        except (aiosmtplib.SMTPException, OSError) as exc:
            # connection refused or lost, timeout, TLS failure: the server may be back later
            return SendResult(ok=False, error=f"{type(exc).__name__}: {exc}", retryable=True)
        log.info(
            "e-mail %s to %s: %s",
            message.id,
            message.recipient,
            answer,
            extra={"dealer_id": message.dealer_id, "kind": message.kind},
        )
        return SendResult(ok=True, provider_message_id=answer[:200] or None)


def smtp_driver(settings: NotifierSettings) -> SmtpChannel:
    """The ``smtp`` driver from ``DEALERFLOW_NOTIFIER_SMTP_*``."""
    if not settings.smtp_host or not settings.smtp_from:
        raise ValueError(
            "the smtp channel driver needs DEALERFLOW_NOTIFIER_SMTP_HOST and ..._SMTP_FROM"
        )
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpChannel(
        host=settings.smtp_host,
        port=settings.smtp_port,
        from_address=settings.smtp_from,
        tls=settings.smtp_tls,
        user=settings.smtp_user,
        password=password,
        timeout_s=settings.smtp_timeout_s,
    )
