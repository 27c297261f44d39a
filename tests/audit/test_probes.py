"""Probing leaves a trace in the audit log, aggregated so that it cannot flood it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from lms import clock
from lms.accounts.models import Role
from lms.audit.models import AuditEvent, ProbeTally
from lms.audit.verify import verify
from lms.extensions import db
from tests import factories
from tests.conftest import csrf_token, login

T0 = datetime(2026, 12, 5, 10, 0, 5, tzinfo=timezone.utc)


@pytest.fixture
def clock_at():
    clock.set_now(T0)
    yield clock.set_now
    clock.set_now(None)


def _probe_events():
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == "security.probe")
                              .order_by(AuditEvent.seq)).all()


def test_an_agent_trying_other_peoples_records_is_counted_then_recorded_once_per_minute(app, clock_at):
    agent = factories.user(Role.AGENT, email="curious@example.org")
    other = factories.user(Role.AGENT)
    db.session.commit()
    client = app.test_client()
    login(client, agent.email, factories.PASSWORD)
    for award_id in range(1, 6):
        assert client.get(f"/awards/{award_id}/certificate.pdf").status_code == 404
    assert client.get(f"/people/{other.id}/transcript.pdf").status_code == 404
    assert client.get("/no-such-page").status_code == 404  # no route: a wrong address, not a probe

    tallies = {(t.route, t.count) for t in db.session.scalars(select(ProbeTally))}
    assert tallies == {("evidence.certificate_pdf", 5), ("evidence.transcript_pdf", 1)}
    assert _probe_events() == []  # the minute is not over yet

    clock_at(T0 + timedelta(minutes=1))
    assert client.get("/awards/99/certificate.pdf").status_code == 404  # the next probe flushes the last minute
    events = _probe_events()
    assert sorted((e.data["route"], e.data["count"]) for e in events) == [
        ("evidence.certificate_pdf", 5), ("evidence.transcript_pdf", 1)]
    assert {e.actor_label for e in events} == {"curious@example.org"}
    assert events[0].data["first_path"] == "/awards/1/certificate.pdf"
    assert events[0].data["minute"].startswith("2026-12-05T10:00")
    assert verify().ok


def test_throttled_sign_ins_are_recorded_by_address_without_flooding(app, clock_at):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "3 per minute"
    target = factories.user(Role.ADMIN)
    db.session.commit()
    client = app.test_client()
    codes = []
    for _ in range(8):
        token = csrf_token(client, "/login")
        codes.append(client.post("/login", data={"email": target.email, "password": "wrong guess 1",
                                                 "csrf_token": token}).status_code)
    assert codes.count(429) == 5
    clock_at(T0 + timedelta(minutes=2))
    runner = app.test_cli_runner()
    assert "1 probe tally" in runner.invoke(args=["lms", "audit", "flush-probes"]).output
    (event,) = _probe_events()
    assert (event.data["kind"], event.data["route"], event.data["count"]) == ("throttled", "accounts.login", 5)
    assert event.actor_label == "anonymous" and event.ip == "127.0.0.1"


def test_admins_see_probing_in_the_audit_log_filter(app, clock_at):
    agent = factories.user(Role.AGENT)
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    prober = app.test_client()
    login(prober, agent.email, factories.PASSWORD)
    prober.get("/awards/7/certificate.pdf")
    clock_at(T0 + timedelta(minutes=1))
    staff = app.test_client()
    login(staff, admin.email, factories.PASSWORD)
    page = staff.get("/audit/?action=security.probe").get_data(as_text=True)
    assert "security.probe" in page and "evidence.certificate_pdf" in page and agent.email in page
    assert 'aria-current="true">Probing</a>' in page
    # Opening the page recorded the finished minute exactly once.
    staff.get("/audit/?action=security.probe")
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "security.probe")) == 1
