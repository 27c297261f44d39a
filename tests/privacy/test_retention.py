"""The retention job: each class goes after its period and not before; a dry run deletes nothing;
the audit log still verifies; the statements run do not grow with the rows."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from lms import clock
from lms.accounts.models import LoginSession, Role, SetPasswordToken, User
from lms.assessment.models import Answer, Attempt, AttemptStatus
from lms.audit.models import AuditEvent, AuditLeaf, AuditPersonal, ProbeTally
from lms.audit.sealing import seal
from lms.audit.services import record
from lms.audit.verify import verify
from lms.certification.models import Award, Enrolment, Programme, ProgrammeVersion
from lms.certification.services import REISSUED
from lms.extensions import db
from lms.jobs.models import Job, JobFile, JobState
from lms.learning.models import Quiz, QuizVersion
from lms.privacy.retention import run_retention
from lms.reminders.models import Message, MessageKind
from lms.pseudonyms import pseudonym
from tests import factories
from tests.audit.conftest import signing_key  # noqa: F401  (a fixture)
from tests.certification.test_scale import counting
from tests.conftest import login

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


@pytest.fixture
def at(app):
    clock.set_now(T0)
    yield clock.set_now
    clock.set_now(None)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def session_row(user: User, *, created: datetime, revoked: datetime | None = None,
                lifetime: timedelta = timedelta(hours=12)) -> LoginSession:
    row = LoginSession(token_hash=secrets.token_hex(32), user=user, created_at=created, last_seen_at=created,
                       revoked_at=revoked, expires_at=created + lifetime, idle_expires_at=created + lifetime)
    db.session.add(row)
    return row


def link(user: User, *, created: datetime, used: datetime | None = None) -> SetPasswordToken:
    row = SetPasswordToken(token_hash=secrets.token_hex(32), user_id=user.id, created_at=created,
                           expires_at=created + timedelta(hours=72), used_at=used)
    db.session.add(row)
    return row


def export(user: User, *, finished: datetime, files: int = 1) -> Job:
    job = Job(kind="certificates_zip", requested_by_id=user.id, organisation_id=user.organisation_id,
              state=JobState.SUCCEEDED, created_at=finished, started_at=finished, finished_at=finished,
              heartbeat_at=finished, attempts=1)
    db.session.add(job)
    db.session.flush()
    for n in range(files):
        data = f"file {job.id}.{n}".encode()
        db.session.add(JobFile(job_id=job.id, name=f"export-{job.id}-{n}.zip", media_type="application/zip",
                               data=data, sha256=hashlib.sha256(data).hexdigest(), size=len(data)))
    return job


def message(*, sent: datetime | None, created: datetime) -> Message:
    row = Message(kind=MessageKind.OVERDUE, recipient="agent@example.org", subject="Overdue", body="…",
                  dedupe_key=secrets.token_hex(8), created_at=created, sent_at=sent, attempts=1 if sent else 0)
    db.session.add(row)
    return row


def quiz(slug: str) -> Quiz:
    row = Quiz(slug=slug)
    version = QuizVersion(quiz=row, content_hash=f"{slug:0<64}"[:64], title=slug, spec={"questions": []})
    row.current_version = version
    db.session.add_all([row, version])
    db.session.flush()
    return row


def programme(slug: str, *quizzes: Quiz) -> Programme:
    spec = {"title": slug, "validity_months": 12, "recertification_window_days": 60, "grace_days": 14,
            "requirements": [{"quiz": q.slug, "min_score": 80} for q in quizzes]}
    row = Programme(slug=slug)
    version = ProgrammeVersion(programme=row, content_hash=f"{slug:0<64}"[:64], title=slug, spec=spec)
    row.current_version = version
    db.session.add_all([row, version])
    db.session.flush()
    return row


def enrol(user: User, prog: Programme) -> None:
    from lms.certification.models import Assignment

    assignment = Assignment(programme_id=prog.id, user_id=user.id, due_days=30)
    db.session.add(assignment)
    db.session.flush()
    db.session.add(Enrolment(user_id=user.id, programme_id=prog.id, assignment_id=assignment.id, assigned_at=T0,
                             due_at=T0 + 30 * DAY, next_due_at=T0 + 30 * DAY))


def attempt(user: User, q: Quiz, finished: datetime, answers: int = 2) -> Attempt:
    row = Attempt(user_id=user.id, quiz_id=q.id, quiz_version_id=q.current_version_id,
                  status=AttemptStatus.SUBMITTED, started_at=finished - timedelta(minutes=20), finished_at=finished,
                  draw=[], earned=9, possible=10, percent=90.0, passed=True)
    db.session.add(row)
    db.session.flush()
    for position in range(1, answers + 1):
        db.session.add(Answer(attempt_id=row.id, position=position, item_id=f"q{position}", response=["a"],
                              saved_at=finished, earned=1, possible=1))
    return row


def award(user: User, prog: Programme, issued: datetime, earned_by: Attempt, *, revoked: str | None = None) -> Award:
    row = Award(user_id=user.id, programme_id=prog.id, programme_version_id=prog.current_version_id,
                issued_at=issued, valid_until=issued + 365 * DAY, window_opens_at=issued + 305 * DAY,
                grace_until=issued + 379 * DAY, verification_code=secrets.token_urlsafe(16),
                evidence={"courses": [], "quizzes": [{"slug": earned_by.quiz.slug if earned_by.quiz else "",
                                                      "attempt": earned_by.id, "percent": earned_by.percent}]},
                revoked_at=issued + DAY if revoked else None, revoke_reason=revoked)
    db.session.add(row)
    db.session.flush()
    return row


def seal_everything() -> None:
    seal()
    assert db.session.scalar(select(func.count()).select_from(AuditLeaf)) == count(AuditEvent)


def answers_of(row: Attempt) -> int:
    return db.session.scalar(select(func.count()).select_from(Answer).where(Answer.attempt_id == row.id))


# --- each class ---------------------------------------------------------------------------------

def test_sessions_and_spent_links_go_30_days_after_they_ended(app, at):
    agent = factories.user(Role.AGENT)
    session_row(agent, created=T0, revoked=T0 + DAY)  # signed out 61 days ago
    session_row(agent, created=T0)  # expired 61 days ago
    signed_out_lately = session_row(agent, created=T0 + 40 * DAY, revoked=T0 + 40 * DAY)
    remembered = session_row(agent, created=T0, lifetime=60 * DAY)  # ends T0+60 days: only 2 days ago
    link(agent, created=T0, used=T0 + DAY)
    link(agent, created=T0)  # expired unused
    fresh = link(agent, created=T0 + 61 * DAY)
    db.session.commit()
    kept = {signed_out_lately.id, remembered.id}
    at(T0 + 62 * DAY)

    report = run_retention()

    assert set(db.session.scalars(select(LoginSession.id))) == kept
    assert set(db.session.scalars(select(SetPasswordToken.id))) == {fresh.id}
    sessions = next(c for c in report.classes if c.key == "sessions")
    assert sessions.counts == {"login sessions": 2, "set-password links": 2}


def test_failed_sign_ins_lose_their_personal_fields_after_90_days_and_the_log_still_verifies(app, at, signing_key):
    agent = factories.user(Role.AGENT, email="known@example.org")
    old_failure = record("auth.login_failed", actor_label="someone@example.org", ip="203.0.113.9", reason="bad")
    old_probe = record("security.probe", actor_label="anonymous", ip="203.0.113.9", kind="not_found", count=3)
    old_login = record("auth.login", actor=agent, ip="198.51.100.4")
    db.session.add_all([
        ProbeTally(kind="not_found", route="jobs.export_detail", actor_key="ip:203.0.113.9", ip="203.0.113.9",
                   minute=T0, count=3, recorded_at=T0 + timedelta(minutes=1)),
        ProbeTally(kind="throttled", route="accounts.login", actor_key="ip:203.0.113.9", ip="203.0.113.9",
                   minute=T0 + timedelta(minutes=1), count=1, recorded_at=None),  # not yet in the log: stays
    ])
    db.session.commit()
    seal_everything()
    at(T0 + 89 * DAY)
    recent_failure = record("mfa.verify_failed", actor=agent, ip="198.51.100.4", method="totp")
    db.session.commit()
    seqs = {e: e.seq for e in (old_failure, old_probe, old_login, recent_failure)}

    assert next(c for c in run_retention().classes if c.key == "failed_sign_ins").counts == {
        "audit events' personal fields": 0, "probe tallies": 0}  # 89 days: nothing yet
    at(T0 + 91 * DAY)
    report = run_retention()

    personal = set(db.session.scalars(select(AuditPersonal.event_seq)))
    assert seqs[old_failure] not in personal and seqs[old_probe] not in personal
    assert seqs[old_login] in personal and seqs[recent_failure] in personal
    assert count(ProbeTally) == 1 and db.session.scalar(select(ProbeTally.recorded_at)) is None
    assert next(c for c in report.classes if c.key == "failed_sign_ins").counts == {
        "audit events' personal fields": 2, "probe tallies": 1}
    # The events stay, and every leaf and checkpoint still verifies.
    assert {seqs[old_failure], seqs[old_probe]} <= set(db.session.scalars(select(AuditEvent.seq)))
    seal_everything()  # the retention.applied events too
    result = verify()
    assert result.ok, result.reason
    assert result.leaves == count(AuditEvent) == 6  # four, and the two runs


def test_export_files_go_30_days_after_the_export_and_the_page_says_expired(app, at, client):
    admin = factories.user(Role.ADMIN)
    old = export(admin, finished=T0, files=2)
    recent = export(admin, finished=T0 + 10 * DAY)
    db.session.commit()
    old_id, recent_id = old.id, recent.id
    at(T0 + 31 * DAY)

    report = run_retention()

    assert next(c for c in report.classes if c.key == "export_files").counts == {
        "exports marked expired": 1, "export files": 2}
    assert set(db.session.scalars(select(JobFile.job_id))) == {recent_id}
    jobs = {j.id: j for j in db.session.scalars(select(Job))}
    assert jobs[old_id].files_expired_at == T0 + 31 * DAY and jobs[old_id].state is JobState.SUCCEEDED
    assert jobs[recent_id].files_expired_at is None
    login(client, admin.email, factories.PASSWORD)
    page = client.get(f"/exports/{old_id}").get_data(as_text=True)
    assert "expired" in page and "Download" not in page
    listing = client.get("/exports").get_data(as_text=True)
    assert "Files expired" in listing
    assert "Download" in client.get(f"/exports/{recent_id}").get_data(as_text=True)
    assert client.get(f"/exports/{old_id}/files/export-{old_id}-0.zip").status_code == 404


def test_sent_emails_go_a_year_after_sending_and_unsent_ones_stay(app, at):
    old_sent = message(sent=T0, created=T0)
    old_pending = message(sent=None, created=T0)
    recent = message(sent=T0 + 300 * DAY, created=T0 + 300 * DAY)
    db.session.commit()
    gone = old_sent.id
    at(T0 + 366 * DAY)

    run_retention()

    ids = set(db.session.scalars(select(Message.id)))
    assert gone not in ids and ids == {old_pending.id, recent.id}


def test_answers_older_than_the_last_two_awards_go_and_the_scores_stay(app, at):
    agent = factories.user(Role.AGENT)
    q = quiz("essentials")
    prog = programme("agent-certification", q)
    enrol(agent, prog)
    cycles = [attempt(agent, q, T0 + n * 365 * DAY) for n in range(3)]
    practice_before_first = attempt(agent, q, T0 - DAY)
    for n, earned_by in enumerate(cycles):
        award(agent, prog, T0 + n * 365 * DAY, earned_by)
    db.session.commit()
    at(T0 + 3 * 365 * DAY)

    report = run_retention()

    assert [answers_of(a) for a in cycles] == [0, 2, 2]  # the first cycle is older than the last two awards
    assert answers_of(practice_before_first) == 0
    assert next(c for c in report.classes if c.key == "quiz_answers").counts == {"quiz answers": 4}
    kept = db.session.get(Attempt, cycles[0].id)
    assert (kept.percent, kept.passed, kept.status) == (90.0, True, AttemptStatus.SUBMITTED)


def test_answers_stay_while_any_programme_of_the_person_needs_the_quiz(app, at):
    """A quiz shared by two programmes: the person's second programme has fewer than three awards."""
    agent, other = factories.user(Role.AGENT), factories.user(Role.AGENT)
    q = quiz("essentials")
    first, second = programme("agent-certification", q), programme("partner-onboarding", q)
    for person in (agent, other):
        enrol(person, first)
        attempts = [attempt(person, q, T0 + n * 365 * DAY) for n in range(3)]
        for n, earned_by in enumerate(attempts):
            award(person, first, T0 + n * 365 * DAY, earned_by)
    enrol(agent, second)  # `other` is not in the second programme
    db.session.commit()
    at(T0 + 3 * 365 * DAY)

    run_retention()

    per_person = dict(db.session.execute(select(Attempt.user_id, func.count(Answer.id))
                                         .join(Answer, Answer.attempt_id == Attempt.id).group_by(Attempt.user_id)).all())
    assert per_person == {agent.id: 6, other.id: 4}


def test_revoked_awards_do_not_count_as_cycles_and_reissues_count_once(app, at):
    agent = factories.user(Role.AGENT)
    q = quiz("essentials")
    prog = programme("agent-certification", q)
    enrol(agent, prog)
    attempts = [attempt(agent, q, T0 + n * 365 * DAY) for n in range(3)]
    award(agent, prog, T0, attempts[0])
    award(agent, prog, T0 + 365 * DAY, attempts[1], revoked="Cheated")
    award(agent, prog, T0 + 730 * DAY, attempts[2], revoked=REISSUED)
    award(agent, prog, T0 + 730 * DAY, attempts[2])  # the re-issue: same date, one cycle
    db.session.commit()
    at(T0 + 3 * 365 * DAY)

    run_retention()

    assert [answers_of(a) for a in attempts] == [2, 2, 2]  # two cycles counted, nothing older than both


# --- the run as a whole ---------------------------------------------------------------------------

def populate(n: int) -> None:
    """`n` rows past their period in every class, and `n` still within it."""
    admin = factories.user(Role.ADMIN)
    q = quiz(f"quiz-{n}")
    prog = programme(f"programme-{n}", q)
    for _ in range(n):
        session_row(admin, created=T0, revoked=T0)
        session_row(admin, created=T0 + 400 * DAY)
        link(admin, created=T0)
        export(admin, finished=T0)
        export(admin, finished=T0 + 399 * DAY)
        message(sent=T0, created=T0)
        message(sent=T0 + 399 * DAY, created=T0)
        record("auth.login_failed", actor_label="x@example.org", ip="203.0.113.1", reason="bad")
        agent = factories.user(Role.AGENT)
        enrol(agent, prog)
        attempts = [attempt(agent, q, T0 + k * 100 * DAY) for k in range(3)]
        for k, earned_by in enumerate(attempts):
            award(agent, prog, T0 + k * 100 * DAY, earned_by)
    db.session.commit()


def test_a_dry_run_deletes_nothing_and_counts_what_the_run_deletes(app, at, runner):
    populate(3)
    at(T0 + 400 * DAY)
    before = {m: count(m) for m in (LoginSession, SetPasswordToken, JobFile, Message, AuditPersonal, Answer)}
    events = count(AuditEvent)

    dry = runner.invoke(args=["lms", "retention", "run", "--dry-run"])

    assert dry.exit_code == 0, dry.output
    assert {m: count(m) for m in before} == before and count(AuditEvent) == events
    assert "Nothing was deleted" in dry.output
    assert "Sign-in sessions (times, browser, second factor used): 3 login sessions, 3 set-password links" in dry.output
    assert "Quiz answers (the options chosen): 6 quiz answers" in dry.output
    assert "Former agents (deactivated accounts): 0 accounts pseudonymised" in dry.output
    assert "@" not in dry.output and "203.0.113" not in dry.output  # nothing personal

    real = runner.invoke(args=["lms", "retention", "run"])

    assert real.exit_code == 0, real.output
    assert real.output.splitlines()[1:-1] == dry.output.splitlines()[1:-2]  # the same counts, class by class
    after = {m: count(m) for m in before}
    assert after[LoginSession] == 3 and after[SetPasswordToken] == 0 and after[JobFile] == 3
    assert after[Message] == 3 and after[Answer] == before[Answer] - 6
    applied = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.applied")).one()
    assert applied.data["counts"]["sessions"] == {"login sessions": 3, "set-password links": 3}
    assert applied.data["counts"]["quiz_answers"] == {"quiz answers": 6}
    assert applied.data["counts"]["former_agents"] == {"accounts pseudonymised": 0}

    again = runner.invoke(args=["lms", "retention", "run"])  # nothing is deleted twice
    assert "Sign-in sessions (times, browser, second factor used): 0 login sessions, 0 set-password links" in again.output


@pytest.mark.parametrize("dry_run", [False, True])
def test_the_statements_run_do_not_grow_with_the_rows(app, at, dry_run):
    def statements(n: int) -> int:
        populate(n)
        at(T0 + 400 * DAY)
        with counting() as run:
            run_retention(dry_run=dry_run)
        at(T0)
        return len(run)

    small = statements(2)
    large = statements(25)
    assert small == large
    assert small < 25


def test_former_agents_are_pseudonymised_after_the_longest_validity_plus_two_years(app, at, runner):
    programme("long-validity")  # 12 months (the helper's spec): the cut is 3 years after deactivation
    old, recent, current = (factories.user(Role.AGENT, name=name, email=f"{name.lower()}@atlas.example")
                            for name in ("Oldfield", "Recently", "Current"))
    for person, deactivated in ((old, T0 - 3 * 365 * DAY - 2 * DAY), (recent, T0 - 3 * 365 * DAY + 20 * DAY)):
        person.active, person.deactivated_at = False, deactivated
    db.session.commit()

    dry = runner.invoke(args=["lms", "retention", "run", "--dry-run"])
    assert "Former agents (deactivated accounts): 1 accounts pseudonymised" in dry.output
    assert db.session.get(User, old.id).erased_at is None

    real = runner.invoke(args=["lms", "retention", "run"])
    assert real.exit_code == 0, real.output
    db.session.expire_all()
    erased = db.session.get(User, old.id)
    assert erased.erased_at is not None and erased.name == f"Agent {pseudonym(old.id)}"
    assert "oldfield" not in erased.email
    assert db.session.get(User, recent.id).erased_at is None and db.session.get(User, current.id).erased_at is None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.erased")).one()
    assert event.actor_id is None and event.data["reference"] == "retention"
    again = runner.invoke(args=["lms", "retention", "run"])
    assert "Former agents (deactivated accounts): 0 accounts pseudonymised" in again.output
