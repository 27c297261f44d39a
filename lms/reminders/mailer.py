"""Delivering outbox messages: over SMTP with the MAIL_* settings, or to the log without them."""
from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any, Protocol

from lms.clock import now
from lms.reminders.models import Message, Transport

log = logging.getLogger("lms.reminders")
SMTP_TIMEOUT = 30  # seconds; a dead server must not hang the daily run


class DeliveryError(Exception):
    """This message could not be delivered; the message says why (no secrets in it)."""


class Mailer(Protocol):
    transport: Transport

    def open(self) -> None: ...
    def send(self, message: Message) -> None: ...
    def close(self) -> None: ...


def build_email(message: Message, sender: str) -> EmailMessage:
    """The MIME message for an outbox row: plain text, marked as automatic (RFC 3834)."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(now())
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    email["Message-ID"] = make_msgid(idstring=f"reminder{message.id}", domain=domain)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body)
    return email


class LogMailer:
    """No MAIL_SERVER: each message goes to the "lms.reminders" log (and stays in the outbox)."""

    transport = Transport.LOG

    def open(self) -> None:
        pass

    def send(self, message: Message) -> None:
        log.info("E-mail not sent (MAIL_SERVER is not set) to %s: %s\n%s", message.recipient, message.subject,
                 message.body)

    def close(self) -> None:
        pass


class SMTPMailer:
    """One SMTP connection per run, reopened if the server drops it."""

    transport = Transport.SMTP

    def __init__(self, config: dict[str, Any]) -> None:
        self.host = config["MAIL_SERVER"]
        self.port = int(config["MAIL_PORT"])
        self.username = config.get("MAIL_USERNAME") or ""
        self.password = config.get("MAIL_PASSWORD") or ""
        self.use_tls = bool(config.get("MAIL_USE_TLS"))
        self.sender = config["MAIL_FROM"]
        self._smtp: smtplib.SMTP | None = None

    def open(self) -> None:
        if self._smtp is not None:
            return
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        try:
            if self.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
        except (OSError, smtplib.SMTPException) as exc:
            _quietly_close(smtp)
            raise DeliveryError(f"cannot start a session with {self.host}:{self.port}: {exc}") from exc
        self._smtp = smtp

    def send(self, message: Message) -> None:
        self.open()
        try:
            refused = self._smtp.send_message(build_email(message, self.sender))
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"refused: {exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = "; ".join(f"{code} {_text(text)}" for code, text in exc.recipients.values())
            raise DeliveryError(f"recipient refused: {codes}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            # The connection is in an unknown state: start a fresh one for the next message.
            self.close()
            raise DeliveryError(f"connection failed: {exc}") from exc
        if refused:  # only some recipients refused; each message has one, so this is a failure
            raise DeliveryError(f"recipient refused: {refused}")

    def close(self) -> None:
        if self._smtp is not None:
            _quietly_close(self._smtp)
            self._smtp = None


def _quietly_close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def mailer_for(config: dict[str, Any]) -> Mailer:
    """SMTP when MAIL_SERVER is set, otherwise the log."""
    return SMTPMailer(config) if config.get("MAIL_SERVER") else LogMailer()
