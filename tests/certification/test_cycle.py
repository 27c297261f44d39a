"""Status across a whole cycle, with the clock moved: assigned, overdue, certified,
expiring, expired, recertified, revoked, and a material change."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms.accounts.models import Role
from lms.assessment import services as assessment
from lms.audit.models import AuditEvent
from lms.certification import reports, services
from lms.certification.models import Award, Enrolment
from lms.clock import now
from lms.extensions import db
from lms.learning.models import CourseVersion, Course
from lms.learning.services import complete_lesson
from tests import factories
from tests.assessment.conftest import best_form, start, worst_form
from tests.certification.conftest import START


def _status(viewer, agent, at=None) -> str:
    at = at or now()
    rows = db.session.execute(reports.status_rows(viewer, reports.Filters(user_id=agent.id), at)).all()
    assert len(rows) == 1
    # The agent's home reads the same row from its statement built once (reports.own_status_rows).
    assert db.session.execute(reports.own_status_rows(), {"agent_id": agent.id, "at": at}).all() == rows
    return rows[0].status


def _read_course(agent) -> None:
    version = db.session.scalar(select(CourseVersion).join(Course, Course.current_version_id == CourseVersion.id)
                                .where(Course.slug == "recording-calls"))
    for lesson in version.lessons:
        complete_lesson(agent, version, lesson)


def _take_quiz(agent, quiz, form_for) -> None:
    attempt = start(agent, quiz)
    for position in range(1, len(attempt.draw) + 1):
        while True:
            item, shown = assessment.item_at(attempt, position)
            answer = assessment.answers_by_position(attempt).get(position)
            if item["type"] == "call_simulation" and answer and \
                    assessment.question_type(item).answered(item, answer.response):
                break
            from werkzeug.datastructures import MultiDict

            assessment.save_answer(agent, attempt, position,
                                   MultiDict(form_for(item, shown, answer.response if answer else None)))
            if item["type"] != "call_simulation":
                break
    assessment.submit(agent, attempt)
    db.session.commit()


def test_a_whole_cycle(app, content, at):
    quiz = content
    org = factories.organisation("Atlas Care")
    agent = factories.user(Role.AGENT, org)
    admin = factories.user(Role.ADMIN)
    programme = factories.programme()
    services.assign(admin, programme, organisation_id=org.id, due_days=14)
    db.session.commit()
    enrolment = db.session.scalars(select(Enrolment)).one()
    assert enrolment.due_at == START + timedelta(days=14)
    assert _status(admin, agent) == "not_started"

    at(START + timedelta(days=2))
    _read_course(agent)
    db.session.commit()
    assert _status(admin, agent) == "in_progress"

    at(START + timedelta(days=15))
    assert _status(admin, agent) == "overdue"
    _take_quiz(agent, quiz, worst_form)  # a fail earns nothing
    assert _status(admin, agent) == "overdue"
    at(START + timedelta(days=16, hours=2))  # after the 60-minute cooldown
    _take_quiz(agent, quiz, best_form)
    first = db.session.scalars(select(Award)).one()
    assert _status(admin, agent) == "certified"
    assert first.valid_until.date() == (START + timedelta(days=16, hours=2) + timedelta(days=365.25)).date()
    assert first.evidence["quizzes"][0]["percent"] == 100.0
    assert first.evidence["courses"][0]["version"] == quiz_course_hash()
    assert len(first.verification_code) >= 22  # 128 bits, url-safe
    assert _status(admin, agent, first.window_opens_at - timedelta(days=1)) == "certified"
    assert _status(admin, agent, first.window_opens_at + timedelta(days=1)) == "expiring"
    assert _status(admin, agent, first.valid_until + timedelta(days=7)) == "expiring"  # grace period
    assert _status(admin, agent, first.grace_until + timedelta(days=1)) == "expired"

    # Recertify inside the window: the old award stays, a new one is issued.
    at(first.window_opens_at + timedelta(days=5))
    _take_quiz(agent, quiz, best_form)
    assert db.session.scalars(select(Award)).all() == [first]  # lessons must be reread this cycle
    _read_course(agent)
    db.session.commit()
    awards = db.session.scalars(select(Award).order_by(Award.issued_at)).all()
    assert len(awards) == 2 and awards[0].id == first.id and awards[1].valid_until > first.valid_until
    assert _status(admin, agent) == "certified"

    # Revoke the new award: status says so, both awards remain.
    trainer = factories.user(Role.TRAINER)
    services.revoke(trainer, awards[1], "Shared answers with a colleague")
    db.session.commit()
    assert _status(admin, agent) == "revoked"
    assert db.session.scalar(select(db.func.count(Award.id))) == 2
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("award.%"))))
    assert actions == ["award.issued", "award.issued", "award.revoked"]


def quiz_course_hash() -> str:
    return db.session.scalar(select(CourseVersion.content_hash).join(
        Course, Course.current_version_id == CourseVersion.id).where(Course.slug == "recording-calls"))[:12]


def test_material_change_makes_holders_due_without_touching_awards(app, content, at):
    quiz = content
    org = factories.organisation()
    agent = factories.user(Role.AGENT, org)
    admin = factories.user(Role.ADMIN)
    programme = factories.programme()
    services.assign(admin, programme, organisation_id=org.id, due_days=30)
    _read_course(agent)
    db.session.commit()
    _take_quiz(agent, quiz, best_form)
    award = db.session.scalars(select(Award)).one()
    before = (award.issued_at, award.valid_until, award.revoked_at)
    at(START + timedelta(days=40))
    affected = services.require_recertification(admin, "recording-calls", START + timedelta(days=70), "New PCI rules")
    db.session.commit()
    assert affected == 1
    assert _status(admin, agent) == "not_started"
    assert _status(admin, agent, START + timedelta(days=71)) == "overdue"
    db.session.refresh(award)
    assert (award.issued_at, award.valid_until, award.revoked_at) == before
    at(START + timedelta(days=45))
    _read_course(agent)
    db.session.commit()
    assert _status(admin, agent) == "in_progress"
    _take_quiz(agent, quiz, best_form)
    assert _status(admin, agent) == "certified"
    assert db.session.scalar(select(db.func.count(Award.id))) == 2


def test_agents_added_later_are_enrolled_with_their_own_due_date(app, content, at):
    org = factories.organisation()
    admin = factories.user(Role.ADMIN)
    programme = factories.programme()
    services.assign(admin, programme, organisation_id=org.id, due_days=14)
    db.session.commit()
    at(START + timedelta(days=20))
    newcomer = factories.user(Role.AGENT, org)
    services.sync_enrolments()
    db.session.commit()
    enrolment = db.session.scalars(select(Enrolment).where(Enrolment.user_id == newcomer.id)).one()
    assert enrolment.due_at == START + timedelta(days=34)
    assert _status(admin, newcomer) == "not_started"


def test_scoped_auditor_sees_only_their_organisation(app, content, at):
    partner, other = factories.organisation("Partner A"), factories.organisation("Partner B")
    mine, theirs = factories.user(Role.AGENT, partner), factories.user(Role.AGENT, other)
    admin = factories.user(Role.ADMIN)
    auditor = factories.user(Role.AUDITOR, scope=partner)
    programme = factories.programme()
    for org in (partner, other):
        services.assign(admin, programme, organisation_id=org.id, due_days=14)
    db.session.commit()
    rows = db.session.execute(reports.status_rows(auditor, reports.Filters(), now())).all()
    assert {r.user_id for r in rows} == {mine.id}
    for agent in (mine, theirs):  # an agent's home: their own row alone
        own = db.session.execute(reports.own_status_rows(), {"agent_id": agent.id, "at": now()}).all()
        assert [r.user_id for r in own] == [agent.id]
    assert set(reports.agent_counts(auditor, reports.Filters(), now()).by_group) == {"Partner A"}
    assert theirs.id in {r.user_id for r in db.session.execute(reports.status_rows(admin, reports.Filters(), now()))}


def test_verification_codes_are_128_random_bits_that_never_start_with_a_dash():
    """A leading "-" would be escaped in CSV manifests and read as an option on a command line."""
    codes = {services.new_verification_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(code) == 22 and code[0].isalnum() for code in codes)
