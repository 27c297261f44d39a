"""A real SMTP server on 127.0.0.1 (aiosmtpd), a movable clock, and programmes to remind about."""
from __future__ import annotations

import email
import logging
import socket
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

from lms import clock
from lms.accounts.models import Organisation, Role, User
from lms.certification import services as certification
from lms.certification.services import refresh_snapshot
from lms.certification.models import Award, Enrolment, Programme, ProgrammeVersion
from lms.extensions import db
from tests import factories

START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)  # a Monday (ISO week 2026-W02)


class Inbox:
    """An aiosmtpd handler that keeps what arrives and can refuse chosen recipients."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=default_policy)
        assert envelope.rcpt_tos == [message["To"]]
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(app):
    """Start an SMTP server and point MAIL_SERVER at it; yields its Inbox."""
    inbox = Inbox()
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP line at INFO
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USERNAME="", MAIL_USE_TLS=False,
                      MAIL_FROM="CallSafe Academy <no-reply@callsafe.example>")
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def no_smtp(app):
    app.config["MAIL_SERVER"] = ""


@pytest.fixture
def at(app):
    """Move the clock: at(datetime) sets it; the real clock comes back after the test."""
    clock.set_now(START)
    yield clock.set_now
    clock.set_now(None)


@pytest.fixture
def send(runner):
    """Run `flask lms reminders send` as cron would; returns its output."""

    def _send() -> str:
        result = runner.invoke(args=["lms", "reminders", "send"])
        assert result.exit_code == 0, result.output
        return result.output

    return _send


def make_programme(slug: str = "gdpr-basics", title: str = "GDPR for contact centres") -> Programme:
    spec = {"title": title, "description": "Test programme", "validity_months": 12,
            "recertification_window_days": 60, "grace_days": 14,
            "requirements": [{"course": "recording-calls"}]}
    programme = Programme(slug=slug)
    version = ProgrammeVersion(programme=programme, content_hash=f"{slug:0<64}"[:64], title=title, spec=spec)
    programme.current_version = version
    db.session.add_all([programme, version])
    db.session.flush()
    return programme


def organisation(name: str, contact: str) -> Organisation:
    org = factories.organisation(name)
    org.contact_email = contact
    return org


def agent(org: Organisation, name: str, email: str) -> User:
    return factories.user(Role.AGENT, org, name=name, email=email)


def assign(programme: Programme, org: Organisation, due_days: int) -> None:
    certification.assign(None, programme, organisation_id=org.id, due_days=due_days)


def enrolment(user: User, programme: Programme) -> Enrolment:
    return db.session.scalars(db.select(Enrolment).filter_by(user_id=user.id, programme_id=programme.id)).one()


def give_award(user: User, programme: Programme, valid_until: datetime) -> Award:
    """A certificate valid until `valid_until` (window opens 60 days before, grace 14 days after)."""
    award = Award(user_id=user.id, programme_id=programme.id, programme_version_id=programme.current_version_id,
                  issued_at=valid_until - timedelta(days=365), valid_until=valid_until,
                  window_opens_at=valid_until - timedelta(days=60), grace_until=valid_until + timedelta(days=14),
                  verification_code=f"code-{user.id}-{programme.id}", evidence={})
    db.session.add(award)
    db.session.flush()
    record = enrolment(user, programme)
    record.current_award = award
    refresh_snapshot(record)  # as services._issue does
    db.session.flush()
    return award
