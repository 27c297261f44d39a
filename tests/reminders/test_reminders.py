"""`flask lms reminders send` against a real SMTP server, with the clock moved day by day."""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import event, func, select

from lms.accounts.models import Role
from lms.audit.models import AuditEvent
from lms.certification import services as certification
from lms.extensions import db
from lms.reminders import services as reminders
from lms.reminders.models import Message, MessageKind, Transport
from tests import factories
from tests.reminders.conftest import (START, agent, assign, free_port, give_award, make_programme,
                                      organisation)

BASE_URL = "http://127.0.0.1:5000"


def _kinds(inbox, address) -> list[str]:
    return [m["Subject"] for m in inbox.to(address)]


def test_due_soon_arrives_once_at_14_and_at_3_days(app, smtp, at, send):
    org = organisation("Atlas Care", "lead@atlas.example")
    maria = agent(org, "Maria Costa", "maria@atlas.example")
    programme = make_programme(title="Recorded lines")
    assign(programme, org, due_days=20)  # due Sunday 25 January 2026
    db.session.commit()

    for day in range(0, 6):  # 20 .. 15 days before: too early
        at(START + timedelta(days=day))
        send()
    assert smtp.messages == []

    at(START + timedelta(days=6))  # 14 days before
    send()
    send()  # a second run the same day sends nothing
    [first] = smtp.to(maria.email)
    assert first["Subject"] == "Reminder: Recorded lines is due in 14 days"
    assert first["From"] == "CallSafe Academy <no-reply@callsafe.example>"
    body = first.get_content()
    assert "Hello Maria Costa" in body and '"Recorded lines"' in body and "25 January 2026" in body
    assert BASE_URL in body

    for day in range(7, 17):  # 13 .. 4 days before: the 14-day reminder has gone
        at(START + timedelta(days=day))
        send()
    assert len(smtp.messages) == 1

    at(START + timedelta(days=17))  # 3 days before
    send()
    send()
    at(START + timedelta(days=18))
    send()
    subjects = _kinds(smtp, maria.email)
    assert subjects == ["Reminder: Recorded lines is due in 14 days", "Reminder: Recorded lines is due in 3 days"]
    assert smtp.to(org.contact_email) == []  # nobody is overdue: no digest

    rows = db.session.scalars(select(Message).order_by(Message.id)).all()
    assert [(m.kind, m.transport, m.error) for m in rows] == [(MessageKind.DUE_SOON, Transport.SMTP, None)] * 2
    assert all(m.sent_at is not None and m.attempts == 1 for m in rows)


def test_a_missed_day_or_a_late_assignment_sends_one_reminder_per_threshold(app, smtp, at, send):
    org = organisation("Atlas Care", "lead@atlas.example")
    early = agent(org, "Early Bird", "early@atlas.example")
    assign(make_programme(), org, due_days=20)
    db.session.commit()
    at(START + timedelta(days=8))  # the runs at 14 and 13 days before were missed: 12 days left
    late = agent(org, "Late Joiner", "late@atlas.example")
    urgent = make_programme("urgent", "Urgent refresher")
    certification.assign(None, urgent, user=late, due_days=2)  # inside both thresholds at once
    db.session.commit()
    send()
    send()
    assert _kinds(smtp, early.email) == ["Reminder: GDPR for contact centres is due in 12 days"]
    assert _kinds(smtp, late.email) == ["Reminder: Urgent refresher is due in 2 days"]  # one, not two

    at(START + timedelta(days=9))
    send()
    assert len(smtp.messages) == 2


def test_expiring_certificate_is_reminded_before_expiry(app, smtp, at, send):
    org = organisation("Atlas Care", "lead@atlas.example")
    ana = agent(org, "Ana Reis", "ana@atlas.example")
    programme = make_programme()
    assign(programme, org, due_days=10)
    give_award(ana, programme, valid_until=START + timedelta(days=100, hours=3))
    db.session.commit()

    at(START + timedelta(days=85))  # 15 days before expiry: in the window, not yet reminded
    send()
    assert smtp.messages == []
    at(START + timedelta(days=86))
    send()
    send()
    at(START + timedelta(days=97))
    send()
    subjects = _kinds(smtp, ana.email)
    assert subjects == ["Your GDPR for contact centres certificate expires in 14 days",
                        "Your GDPR for contact centres certificate expires in 3 days"]
    assert "15 April 2026" in smtp.to(ana.email)[0].get_content()  # 5 Jan + 100 days
    assert not any("due" in s.lower() for s in subjects)  # a certified agent gets no due-date reminder


def test_overdue_is_sent_once_a_week(app, smtp, at, send):
    org = organisation("Atlas Care", "")  # no contact: no digest in this test
    rui = agent(org, "Rui Alves", "rui@atlas.example")
    programme = make_programme()
    assign(programme, org, due_days=14)  # due Monday 19 January 09:00
    db.session.commit()

    at(START + timedelta(days=15))  # Tuesday 20 January, ISO week 4
    send()
    send()
    at(START + timedelta(days=20))  # Sunday 25 January, still week 4
    send()
    overdue = [m for m in smtp.to(rui.email) if m["Subject"].startswith("Overdue")]
    assert [m["Subject"] for m in overdue] == ["Overdue: GDPR for contact centres was due on 19 January 2026"]
    assert "now overdue" in overdue[0].get_content()

    at(START + timedelta(days=21))  # Monday 26 January, week 5: a new weekly reminder
    send()
    send()
    assert len([m for m in smtp.to(rui.email) if m["Subject"].startswith("Overdue")]) == 2
    keys = list(db.session.scalars(select(Message.dedupe_key).where(Message.kind == MessageKind.OVERDUE)
                                   .order_by(Message.id)))
    enrolment_id = keys[0].split(":")[1]
    assert keys == [f"overdue:{enrolment_id}:2026-W04", f"overdue:{enrolment_id}:2026-W05"]


def _listed(digest) -> set[str]:
    """The e-mail addresses of the agents a digest lists (lines "- Name <email>")."""
    return {line.rsplit("<", 1)[1].rstrip(">") for line in digest.get_content().splitlines()
            if line.startswith("- ")}


def test_digest_lists_exactly_the_organisations_overdue_agents(app, smtp, at, send):
    atlas = organisation("Atlas Care", "lead@atlas.example")
    borealis = organisation("Borealis Contact", "ops@borealis.example")
    silent = organisation("No Contact Ltd", "")
    programme = make_programme()
    late1 = agent(atlas, "João Silva", "joao@atlas.example")
    late2 = agent(atlas, "Late Two", "late2@atlas.example")
    expired = agent(atlas, "Expired Cert", "expired@atlas.example")
    certified = agent(atlas, "Certified One", "certified@atlas.example")
    gone = agent(atlas, "Left Company", "gone@atlas.example")
    other = agent(borealis, "Borealis Late", "late@borealis.example")
    agent(silent, "Silent Late", "late@silent.example")
    for org in (atlas, borealis, silent):
        assign(programme, org, due_days=14)
    give_award(expired, programme, valid_until=START - timedelta(days=30))  # grace ended 16 days ago
    give_award(certified, programme, valid_until=START + timedelta(days=200))
    db.session.commit()
    at(START + timedelta(days=10))
    on_time = agent(atlas, "New Starter", "new@atlas.example")  # joined later: due in 14 days from today
    certification.sync_enrolments()
    gone.active = False
    db.session.commit()

    at(START + timedelta(days=15))
    send()
    send()
    [digest] = smtp.to("lead@atlas.example")
    assert _listed(digest) == {late1.email, late2.email, expired.email}
    assert digest["Subject"] == "Weekly overdue training for Atlas Care: 3 agents"
    body = digest.get_content()
    assert "João Silva <joao@atlas.example>" in body
    assert "GDPR for contact centres: overdue, was due on 19 January 2026" in body
    assert "GDPR for contact centres: certificate expired on 6 December 2025" in body
    assert on_time.email not in body and certified.email not in body and other.email not in body
    [other_digest] = smtp.to("ops@borealis.example")
    assert _listed(other_digest) == {other.email}
    assert len([m for m in smtp.messages if m["Subject"].startswith("Weekly")]) == 2  # none without a contact

    at(START + timedelta(days=21))  # next ISO week: the digest again
    send()
    assert len(smtp.to("lead@atlas.example")) == 2


def test_a_refused_message_is_recorded_and_the_others_still_go_then_it_is_retried(app, smtp, at, send):
    org = organisation("Atlas Care", "")
    refused = agent(org, "Full Mailbox", "full@atlas.example")
    fine = agent(org, "Fine Person", "fine@atlas.example")
    assign(make_programme(), org, due_days=14)
    db.session.commit()
    smtp.refuse = {refused.email}

    output = send()
    assert "1 sent, 1 failed" in output
    assert _kinds(smtp, fine.email) == ["Reminder: GDPR for contact centres is due in 14 days"]
    failed = db.session.scalars(select(Message).where(Message.recipient == refused.email)).one()
    assert failed.sent_at is None and failed.attempts == 1 and "550" in failed.error

    smtp.refuse = set()
    send()  # the same day: the failed one is retried, the sent one is not sent again
    assert _kinds(smtp, refused.email) == ["Reminder: GDPR for contact centres is due in 14 days"]
    assert len(smtp.to(fine.email)) == 1
    db.session.refresh(failed)
    assert failed.sent_at is not None and failed.error is None and failed.attempts == 2


def test_an_unreachable_server_fails_every_message_and_the_next_run_sends_them(app, smtp, at, send):
    org = organisation("Atlas Care", "")
    person = agent(org, "Some One", "someone@atlas.example")
    assign(make_programme(), org, due_days=14)
    db.session.commit()
    port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = free_port()  # nothing listens there

    assert "0 sent, 1 failed" in send()
    message = db.session.scalars(select(Message)).one()
    assert message.sent_at is None and "cannot connect" in message.error

    app.config["MAIL_PORT"] = port
    send()
    assert len(smtp.to(person.email)) == 1
    db.session.refresh(message)
    assert message.sent_at is not None and message.attempts == 2


def test_without_a_mail_server_messages_go_to_the_log_and_the_outbox(app, no_smtp, at, send, client, login_as):
    org = organisation("Atlas Care", "lead@atlas.example")
    person = agent(org, "Log Person", "log@atlas.example")
    admin = factories.user(Role.ADMIN, org)
    assign(make_programme(), org, due_days=14)
    db.session.commit()

    login_as(admin)
    empty = client.get("/admin/outbox").get_data(as_text=True)
    assert "The outbox is empty" in empty

    logged: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = logged.append
    logger = logging.getLogger("lms.reminders")
    logger.addHandler(handler)
    # INFO must get through whatever the root logger's level is (pytest's logging plugin sets it).
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        output = send()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert "1 logged (MAIL_SERVER is not set)" in output
    message = db.session.scalars(select(Message)).one()
    assert message.transport is Transport.LOG and message.sent_at is not None
    assert [r.getMessage().splitlines()[0] for r in logged] == [
        f"E-mail not sent (MAIL_SERVER is not set) to {person.email}: "
        "Reminder: GDPR for contact centres is due in 14 days"]

    page = client.get("/admin/outbox")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Reminder: GDPR for contact centres is due in 14 days" in html and person.email in html
    assert "Logged" in html and "No mail server is set" in html and "The outbox is empty" not in html


def test_the_outbox_is_for_admins_only(app, no_smtp, at, send, client, login_as):
    org = organisation("Atlas Care", "")
    person = agent(org, "Agent Person", "agent@atlas.example")
    db.session.commit()
    login_as(person)
    assert client.get("/admin/outbox").status_code == 403


def test_the_outbox_shows_newest_first_and_pages(app, no_smtp, client, login_as):
    admin = factories.user(Role.ADMIN)
    db.session.add_all(Message(kind=MessageKind.DUE_SOON, recipient=f"p{i}@example.org", subject=f"Subject {i:03d}",
                               body="Hello", dedupe_key=f"test:{i}") for i in range(60))
    db.session.commit()
    login_as(admin)
    first = client.get("/admin/outbox").get_data(as_text=True)
    assert first.index("Subject 059") < first.index("Subject 058")
    assert "Subject 009" not in first and "Page 1 of 2" in first and "Pending" in first
    second = client.get("/admin/outbox?page=2").get_data(as_text=True)
    assert "Subject 009" in second and "Subject 059" not in second


def test_one_audit_event_per_run_with_counts_and_no_bodies(app, smtp, at, send):
    org = organisation("Atlas Care", "lead@atlas.example")
    agent(org, "Audit Person", "audit@atlas.example")
    assign(make_programme(), org, due_days=14)
    db.session.commit()
    send()
    send()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reminders.sent")
                                .order_by(AuditEvent.seq)).all()
    assert [e.data for e in events] == [
        {"queued": {"due_soon": 1}, "sent": 1, "failed": 0, "transport": "smtp"},
        {"queued": {}, "sent": 0, "failed": 0, "transport": "smtp"},
    ]
    assert events[0].actor_label == "system"


def _statements(fn) -> int:
    count = 0

    def on_execute(*args):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
    return count


def test_selecting_and_queueing_takes_the_same_queries_for_3_or_30_agents(app, at):
    app.config["BASE_URL"] = BASE_URL
    programme = make_programme()
    counts = []
    for size, day in ((3, 0), (30, 1)):
        at(START + timedelta(days=day))
        org = organisation(f"Org {size}", f"lead{size}@example.org")
        for i in range(size):
            agent(org, f"Agent {size}-{i}", f"a{size}-{i}@example.org")
        assign(programme, org, due_days=1)  # due tomorrow: reminded today, overdue the day after
        db.session.commit()
        at(START + timedelta(days=day, hours=1))

        def run():
            reminders.queue(reminders.plan(reminders.now(), (14, 3), BASE_URL), reminders.now())
        counts.append(_statements(run))
        db.session.commit()
    queued = db.session.scalar(select(func.count(Message.id)))
    assert queued == 3 + 3 + 30 + 1  # day 0: 3 due soon; day 1: 3 overdue, 30 due soon, 1 digest
    assert counts[0] == counts[1]


def test_an_optional_programme_gets_due_soon_reminders_but_no_overdue_nagging(app, smtp, at, send):
    org = organisation("Atlas Care", "lead@atlas.example")
    person = agent(org, "Optional Person", "optional@atlas.example")
    certification.assign(None, make_programme("extra", "Extra reading"), organisation_id=org.id, due_days=14,
                         mandatory=False)
    db.session.commit()
    send()
    assert _kinds(smtp, person.email) == ["Reminder: Extra reading is due in 14 days"]
    at(START + timedelta(days=15))
    send()
    assert len(smtp.messages) == 1  # no overdue reminder, and no digest for an optional programme
