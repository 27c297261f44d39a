"""Plain factory functions for test data (they flush; tests commit when they need to)."""
from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

from sqlalchemy import select

from lms.accounts.models import Organisation, OrganisationKind, Role, User
from lms.accounts.passwords import hash_password
from lms.assessment import services as assessment
from lms.assessment.models import Answer, Attempt, AttemptStatus
from lms.certification import services as certification
from lms.certification.models import Award, Enrolment, Programme, ProgrammeVersion
from lms.clock import now
from lms.content.model import sha256_json
from lms.extensions import db
from lms.learning.models import ContentTranslation, Quiz

PASSWORD = "correct horse battery staple"
_seq = count(1)
_hash_cache: dict[str, str] = {}


def organisation(name: str | None = None, kind: OrganisationKind = OrganisationKind.PARTNER,
                 country: str = "PT") -> Organisation:
    org = Organisation(name=name or f"Partner {next(_seq)}", kind=kind, country=country,
                       contract_reference="DPA-1", contact_email="contact@partner.example")
    db.session.add(org)
    db.session.flush()
    return org


def user(role: Role = Role.AGENT, org: Organisation | None = None, *, email: str | None = None,
         name: str | None = None, scope: Organisation | None = None, password: str | None = PASSWORD,
         active: bool = True) -> User:
    n = next(_seq)
    if password and password not in _hash_cache:  # Argon2 is slow on purpose; hash once per run
        _hash_cache[password] = hash_password(password)
    person = User(email=email or f"{role.value}{n}@example.org", name=name or f"{role.label} Person {n}",
                  role=role, organisation=org or organisation(), scope_organisation=scope,
                  password_hash=_hash_cache.get(password) if password else None, active=active)
    db.session.add(person)
    db.session.flush()
    return person


def programme(slug: str = "recording-cert", *, title: str = "Recorded lines certification",
              validity_months: int = 12, window_days: int = 60, grace_days: int = 14,
              requirements: list[dict] | None = None) -> Programme:
    """A published programme (by default the fixture course and its quiz at 80%), without files."""
    spec = {"title": title, "description": "Test programme", "validity_months": validity_months,
            "recertification_window_days": window_days, "grace_days": grace_days,
            "requirements": requirements or [{"course": "recording-calls"},
                                             {"quiz": "recording-calls", "min_score": 80}]}
    row = Programme(slug=slug)
    version = ProgrammeVersion(programme=row, content_hash=f"{slug:0<64}"[:64], title=title, spec=spec)
    row.current_version = version
    db.session.add_all([row, version])
    db.session.flush()
    return row


def award(agent: User, of: Programme, issued_at: datetime, *, months: int = 12) -> Award:
    """An award as certification issues one, on the agent's enrolment (assign the programme first);
    the way to earn one is tested in tests/certification."""
    enrolment = db.session.scalars(select(Enrolment).where(Enrolment.user_id == agent.id,
                                                           Enrolment.programme_id == of.id)).one()
    valid_until = issued_at + months * certification.MONTH
    row = Award(user_id=agent.id, programme_id=of.id, programme_version_id=of.current_version_id,
                issued_at=issued_at, valid_until=valid_until, window_opens_at=valid_until - timedelta(days=60),
                grace_until=valid_until + timedelta(days=14),
                verification_code=certification.new_verification_code(), evidence={})
    db.session.add(row)
    db.session.flush()
    enrolment.current_award = row
    certification.refresh_snapshot(enrolment)
    return row


def attempt(agent: User, quiz: Quiz, responses: dict[str, object], *,
            status: AttemptStatus = AttemptStatus.SUBMITTED, unanswered: tuple[str, ...] = ()) -> Attempt:
    """A finished attempt of exactly these items and responses (and, drawn after them, items left
    unanswered), graded by the real question types as a submit grades it."""
    version = quiz.current_version
    draw = [{"item": item_id, "shown": {}} for item_id in [*responses, *unanswered]]
    grade = assessment.grade_responses(version.spec, assessment.items_by_id(version.spec), draw,
                                       dict(enumerate(responses.values(), start=1)))
    at = now()
    row = Attempt(user_id=agent.id, quiz_id=quiz.id, quiz_version_id=version.id, status=status,
                  started_at=at - timedelta(minutes=10), finished_at=at, draw=draw, earned=grade.earned,
                  possible=grade.possible, percent=grade.percent, passed=grade.passed,
                  phase_scores=grade.phases, graded_version_id=version.id)
    db.session.add(row)
    db.session.flush()
    db.session.add_all(Answer(attempt_id=row.id, position=position, item_id=item_id, response=response,
                              saved_at=at, earned=grade.items[position].earned,
                              possible=grade.items[position].possible)
                       for position, (item_id, response) in enumerate(responses.items(), start=1))
    return row


def translation(kind: str, slug: str, language: str, text: dict, *, translation_of: str,
                if_stale: str = "source") -> ContentTranslation:
    """A loaded translation of a course, quiz, job aid or programme (as lms/learning/sync.py stores
    it from a `<name>.<language>` file), current unless another one is made after it."""
    row = ContentTranslation(kind=kind, slug=slug, language=language, text=text, translation_of=translation_of,
                             if_stale=if_stale, content_hash=sha256_json([translation_of, if_stale, text]),
                             current=True)
    db.session.add(row)
    db.session.flush()
    return row
