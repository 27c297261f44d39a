"""Assignments, enrolments, awards, revocation and recertification.

Called by the views and the CLI, and by the receivers below of the signals that accounts,
learning and assessment send (lms/signals.py): a person saved is enrolled, a lesson read or an
attempt started starts an enrolment, a lesson read or an attempt finished may earn an award.
They flush; callers commit.
"""
from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from functools import cache
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _, ngettext
from sqlalchemy import Select, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import joinedload

from lms import plain_rows, signals
from lms.accounts.locale_defaults import is_time_zone, organisation_defaults
from lms.accounts.models import Role, User
from lms.assessment.models import Attempt, AttemptStatus
from lms.audit.services import record
from lms.certification import programmes  # noqa: F401  (its receiver syncs programmes on content loads)
from lms.certification.models import Assignment, Award, Enrolment, Programme, Recertification
from lms.clock import now
from lms.content.translations import SOURCE_LANGUAGE
from lms.extensions import db
from lms.i18n import score
from lms.learning import translated
from lms.learning.models import Course, CourseVersion, Lesson, LessonProgress, Quiz, QuizVersion

MONTH = timedelta(days=30.4375)  # an average month, so 12 months is a year


class CertificationError(ValueError):
    """A request that breaks a certification rule; the message is shown to the user."""


# ---- assignments and enrolments --------------------------------------------------------

def assign(actor: User | None, programme: Programme, *, organisation_id: int | None = None,
           user: User | None = None, due_at: datetime | None = None, due_days: int | None = None,
           mandatory: bool = True) -> Assignment:
    """Assign a programme to an organisation (its agents now and later) or to one agent."""
    if (organisation_id is None) == (user is None):
        raise CertificationError(_("Assign to an organisation or to one agent."))
    if (due_at is None) == (due_days is None):
        raise CertificationError(_("Give either a due date or a number of days."))
    if user is not None and user.role is not Role.AGENT:
        raise CertificationError(_("Programmes are assigned to agents."))
    assignment = Assignment(programme=programme, organisation_id=organisation_id, user=user, due_at=due_at,
                            due_days=due_days, mandatory=mandatory, created_by_id=getattr(actor, "id", None))
    db.session.add(assignment)
    db.session.flush()
    record("assignment.created", actor=actor, target=assignment, programme=programme.slug,
           organisation_id=organisation_id, user_id=getattr(user, "id", None),
           due_at=due_at.isoformat() if due_at else None, due_days=due_days)
    sync_enrolments()
    return assignment


def sync_enrolments(user_ids: Collection[int] | None = None) -> int:
    """Create the enrolments that assignments imply and that do not exist yet (agents added later too),
    for every agent or for those given.

    Three queries and one bulk insert, whatever the number of agents (one when no assignment applies);
    for given people, only the assignments that can reach them are loaded.
    """
    existing_query = select(Enrolment.user_id, Enrolment.programme_id)
    agents_query = select(User.id, User.organisation_id, User.created_at, User.time_zone).where(
        User.role == Role.AGENT, User.active.is_(True))
    assignments_query = select(Assignment).order_by(Assignment.id)
    if user_ids is not None:
        existing_query = existing_query.where(Enrolment.user_id.in_(user_ids))
        agents_query = agents_query.where(User.id.in_(user_ids))
        # Only the assignments that can reach these agents: a new starter's sync (a SCIM create, a
        # sign-in that creates the person) loaded every assignment of every organisation.
        assignments_query = assignments_query.where(or_(
            Assignment.organisation_id.in_(agents_query.with_only_columns(User.organisation_id).scalar_subquery()),
            Assignment.user_id.in_(user_ids)))
    assignments = db.session.scalars(assignments_query).all()
    if not assignments:
        return 0
    existing = set(db.session.execute(existing_query).all())
    agents = db.session.execute(agents_query).all()
    by_org: dict[int, list] = {}
    by_id = {}
    for agent in agents:
        by_org.setdefault(agent.organisation_id, []).append(agent)
        by_id[agent.id] = agent
    rows = []
    for assignment in assignments:
        targets = by_org.get(assignment.organisation_id, []) if assignment.organisation_id else \
            [by_id[assignment.user_id]] if assignment.user_id in by_id else []
        for agent in targets:
            if (agent.id, assignment.programme_id) in existing:
                continue
            existing.add((agent.id, assignment.programme_id))
            start = assigned_from(assignment, agent)
            due = due_under(assignment, agent, start)
            rows.append({"user_id": agent.id, "programme_id": assignment.programme_id,
                         "assignment_id": assignment.id, "assigned_at": start, "due_at": due,
                         "mandatory": assignment.mandatory, "current_award_id": None, "recert_after": None,
                         "recert_due_at": None, **snapshot(None, due)})
    if rows:
        _carry_awards(rows, user_ids)
        db.session.execute(Enrolment.__table__.insert(), rows)
    return len(rows)


def assigned_from(assignment: Assignment, agent) -> datetime:
    """When an agent got a programme through an assignment: new starters get their N days from
    when they joined, not from when the rule was made."""
    return max(assignment.created_at, agent.created_at)


def due_under(assignment: Assignment, agent, start: datetime) -> datetime:
    """The agent's due date under the assignment's rule, for an enrolment that started at `start`:
    the end of the assignment's date where the agent is, or `start` plus its days. `agent` is a
    User or a row with its time_zone and organisation_id."""
    if assignment.due_at is not None:
        return _end_of_day_for(agent, assignment.due_at.date())
    return start + timedelta(days=assignment.due_days)


def _carry_awards(rows: list[dict], user_ids: Collection[int] | None) -> None:
    """Point new enrolment rows at the award their agent already holds in the programme.

    An agent is enrolled again after an assignment was removed (lms/certification/assignments.py
    deletes the enrolments it made) and the programme assigned anew: the new enrolment stands where
    the old one stood, so a certified agent stays certified instead of being asked to earn what
    they hold, and a recertification required since their award still applies. At most two queries,
    only when there are new rows; for brand-new agents and programmes the first finds nothing.
    """
    programme_ids = {row["programme_id"] for row in rows}
    query = (select(Award.id, Award.user_id, Award.programme_id, Award.issued_at, Award.valid_until,
                    Award.window_opens_at, Award.grace_until, Award.revoked_at, Award.verification_code)
             .where(Award.programme_id.in_(programme_ids)).order_by(Award.issued_at, Award.id))
    if user_ids is not None:
        query = query.where(Award.user_id.in_(user_ids))
    # The latest wins: as _issue and reissue leave it, the current award is the newest one.
    held = {(award.user_id, award.programme_id): award._asdict() for award in db.session.execute(query)}
    if not held:
        return
    # require_recertification overwrites the enrolments' dates, so only each programme's latest counts.
    recertifications = {r.programme_id: r for r in db.session.execute(
        select(Recertification.programme_id, Recertification.effective_at, Recertification.required_by)
        .where(Recertification.programme_id.in_(programme_ids)).order_by(Recertification.effective_at))}
    for row in rows:
        award = held.get((row["user_id"], row["programme_id"]))
        if award is None:
            continue
        recert = recertifications.get(row["programme_id"])
        after, required_by = ((recert.effective_at, recert.required_by)
                              if recert is not None and recert.effective_at > award["issued_at"] else (None, None))
        row.update(current_award_id=award["id"], recert_after=after, recert_due_at=required_by,
                   **snapshot(award, row["due_at"], required_by, after))


def _end_of_day_for(agent, day: date) -> datetime:
    """A due DATE means the end of that day where the agent is (#19): 23:59:59 in their zone
    (theirs, else their organisation's, else the site's), stored as UTC. An assignment keeps the
    date it was given (Assignment.due_at, that day's 23:59 UTC); each agent's enrolment gets its
    own moment, so Manila is due eight hours before London and Bogotá five after."""
    zone = agent.time_zone or organisation_defaults(agent.organisation_id)[1] \
        or current_app.config.get("BABEL_DEFAULT_TIMEZONE", "UTC")
    local = datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(zone if is_time_zone(zone) else "UTC"))
    return local.astimezone(timezone.utc)


@signals.user_saved.connect
def _enrol_saved_user(actor: User | None, user: User, **_: object) -> None:
    """Whoever creates or changes a person, they join the programmes assigned to them at once."""
    sync_enrolments(user_ids=[user.id])


@signals.users_saved.connect
def _enrol_saved_users(actor: User | None, users: list[User], **_: object) -> None:
    sync_enrolments(user_ids=[user.id for user in users])


def snapshot(award, due_at: datetime, recert_due_at: datetime | None = None, recert_after=None) -> dict:
    """The enrolment columns that mirror its current award, and when the agent next has to act.

    A plain function of its inputs, so the demo generator's bulk rows and the services agree.
    Accepts an Award or a dict with the same keys (the generator's rows).
    """
    get = (award.get if isinstance(award, dict) else lambda key: getattr(award, key)) if award else None
    fields = {"award_issued_at": None, "award_valid_until": None, "award_window_opens_at": None,
              "award_grace_until": None, "award_revoked_at": None, "award_code": None}
    if get is not None:
        fields.update(award_issued_at=get("issued_at"), award_valid_until=get("valid_until"),
                      award_window_opens_at=get("window_opens_at"), award_grace_until=get("grace_until"),
                      award_revoked_at=get("revoked_at"), award_code=get("verification_code"))
    applies = get is not None and (recert_after is None or get("issued_at") >= recert_after)
    counts = applies and get("revoked_at") is None
    fields["next_due_at"] = get("valid_until") if counts else (recert_due_at or due_at)
    return fields


def refresh_snapshot(enrolment: Enrolment) -> None:
    """Copy the current award's dates onto the enrolment (after an award, a revocation, a change)."""
    for key, value in snapshot(enrolment.current_award, enrolment.due_at, enrolment.recert_due_at,
                               enrolment.recert_after).items():
        setattr(enrolment, key, value)


# ---- activity and awards ---------------------------------------------------------------

@dataclass(frozen=True)
class RequirementState:
    kind: str          # "course" or "quiz"
    slug: str
    title: str
    met: bool
    detail: str        # "3 of 5 lessons read", "best score 72% (needs 80%)"


def _requirements(enrolment: Enrolment) -> list[dict]:
    return enrolment.programme.current_version.spec["requirements"]


def cycle_start(enrolment: Enrolment) -> datetime | None:
    """Activity on or after this moment counts towards the next award (None: any time)."""
    award = enrolment.current_award
    if enrolment.recert_after is not None and (award is None or award.issued_at < enrolment.recert_after):
        return enrolment.recert_after  # a material change: only work done since then counts
    if award is None:
        return None
    return award.revoked_at or award.window_opens_at


def requirement_states(enrolment: Enrolment) -> list[RequirementState]:
    """Each requirement of the programme and whether the agent has met it in the current cycle."""
    return requirement_states_for([enrolment])[enrolment.id]


@dataclass(frozen=True)
class _CourseLessons:
    """What requirement_states_for needs of a course's current version."""

    course_id: int
    title: str  # in the reader's language when the course is shown translated to them
    keys: set[str]
    content_hash: str


@dataclass(frozen=True)
class _StateQueries:
    """requirement_states_for's two statements, built once per process: the slugs and people are
    expanding parameters. Building them anew took a tenth of the agent's home page."""

    # Each course's current version (title, content hash) with its lessons, each lesson with the
    # people who read it (one row per reader, or one with no reader): "slugs", "user_ids".
    courses: Select
    # Each quiz's current version (title, content hash) with the people's finished attempts (one
    # row per attempt, or one with none): "slugs", "user_ids".
    quizzes: Select

    @staticmethod
    @cache
    def get() -> _StateQueries:
        slugs, user_ids = bindparam("slugs", expanding=True), bindparam("user_ids", expanding=True)
        return _StateQueries(
            courses=select(Course.slug, Course.id, CourseVersion.title, CourseVersion.content_hash, Lesson.key,
                           LessonProgress.user_id, LessonProgress.completed_at)
            .join(CourseVersion, CourseVersion.id == Course.current_version_id)
            .outerjoin(Lesson, Lesson.course_version_id == CourseVersion.id)
            .outerjoin(LessonProgress, and_(LessonProgress.course_id == Course.id,
                                            LessonProgress.lesson_key == Lesson.key,
                                            LessonProgress.user_id.in_(user_ids)))
            .where(Course.slug.in_(slugs)),
            quizzes=select(Quiz.slug, QuizVersion.title, QuizVersion.content_hash, Attempt.user_id,
                           Attempt.percent, Attempt.finished_at, Attempt.critical_failure)
            .outerjoin(QuizVersion, QuizVersion.id == Quiz.current_version_id)
            .outerjoin(Attempt, and_(Attempt.quiz_id == Quiz.id, Attempt.user_id.in_(user_ids),
                                     Attempt.status != AttemptStatus.IN_PROGRESS))
            .where(Quiz.slug.in_(slugs)),
        )


def requirement_states_for(enrolments: Sequence[Enrolment]) -> dict[int, list[RequirementState]]:
    """`requirement_states` of several enrolments (one agent's, usually), by enrolment id.

    A fixed number of queries however many programmes and requirements there are: the
    courses with their lessons and reading, and the quizzes with their finished attempts,
    are each read in one statement, and every enrolment's own cycle start is applied here.
    """
    wanted = {e.id: _requirements(e) for e in enrolments}
    user_ids = list({e.user_id for e in enrolments})
    course_slugs = {r["course"] for reqs in wanted.values() for r in reqs if "course" in r}
    quiz_slugs = {r["quiz"] for reqs in wanted.values() for r in reqs if "quiz" in r}

    # Only each current version's title and lesson keys, as plain rows: loading the versions
    # with their lessons (Markdown bodies, JSON columns) took a fifth of the agent's home page.
    # Reading comes in the same rows, on PostgreSQL one round trip instead of two.
    courses: dict[str, _CourseLessons] = {}
    reading: dict[tuple[int, int], list[tuple[str, datetime]]] = {}
    if course_slugs:
        for row in plain_rows.rows(_StateQueries.get().courses, {"slugs": list(course_slugs), "user_ids": user_ids}):
            course = courses.setdefault(row.slug, _CourseLessons(row.id, row.title, set(), row.content_hash))
            if row.key is not None:
                course.keys.add(row.key)
            if row.user_id is not None:
                reading.setdefault((row.user_id, row.id), []).append((row.key, row.completed_at))
        # Named as the reader sees them (lms/learning/translated.py): no query in the source language.
        translated_titles = translated.titles(translated.shown_many(
            "course", {slug: course.content_hash for slug, course in courses.items()}))
        for slug, title in translated_titles.items():
            courses[slug] = replace(courses[slug], title=title)
    quiz_titles: dict[str, str] = {}
    scores: dict[tuple[int, str], list[tuple[float, datetime]]] = {}
    if quiz_slugs:
        quiz_hashes: dict[str, str] = {}
        for row in plain_rows.rows(_StateQueries.get().quizzes, {"slugs": list(quiz_slugs), "user_ids": user_ids}):
            quiz_titles[row.slug] = row.title or row.slug
            if row.content_hash:
                quiz_hashes[row.slug] = row.content_hash
            if row.user_id is not None:
                # An attempt failed by a critical reply in a call simulation (a simulated breach)
                # never meets a requirement, whatever its percent: None stands for it.
                scores.setdefault((row.user_id, row.slug), []).append(
                    (None if row.critical_failure else row.percent, row.finished_at))
        quiz_titles.update(translated.titles(translated.shown_many("quiz", quiz_hashes)))

    states: dict[int, list[RequirementState]] = {}
    for enrolment in enrolments:
        since = cycle_start(enrolment)
        states[enrolment.id] = []
        for requirement in wanted[enrolment.id]:
            if "course" in requirement:
                slug = requirement["course"]
                version = courses.get(slug)
                if version is None:
                    states[enrolment.id].append(RequirementState("course", slug, slug, False, _("course not published")))
                    continue
                keys = version.keys
                read = keys & {key for key, at in reading.get((enrolment.user_id, version.course_id), []) if _in_cycle(at, since)}
                states[enrolment.id].append(RequirementState(
                    "course", slug, version.title, read == keys,
                    ngettext("%(read)s of %(num)s lesson read", "%(read)s of %(num)s lessons read", len(keys),
                             read=len(read))))
            else:
                slug, min_score = requirement["quiz"], requirement["min_score"]
                taken = [percent for percent, at in scores.get((enrolment.user_id, slug), []) if _in_cycle(at, since)]
                best = max((percent for percent in taken if percent is not None), default=None)
                detail = _("not taken yet") if not taken else (
                    _("failed on a critical reply in a call simulation") if best is None
                    else _("best score %(score)s%% (needs %(min)s%%)", score=score(best), min=min_score))
                states[enrolment.id].append(RequirementState("quiz", slug, quiz_titles.get(slug, slug),
                                                             best is not None and best >= min_score, detail))
    return states


def _in_cycle(at: datetime, since: datetime | None) -> bool:
    return since is None or at >= since


@signals.lesson_completed.connect
def _lesson_completed(agent: User, version: CourseVersion, **_: object) -> None:
    note_activity(agent, course=version.course.slug)
    evaluate(agent)


@signals.attempt_started.connect
def _attempt_started(agent: User, attempt: Attempt, **_: object) -> None:
    note_activity(agent, quiz=attempt.quiz.slug)


@signals.attempt_finished.connect
def _attempt_finished(agent: User, attempt: Attempt, **_: object) -> None:
    evaluate(agent)


def note_activity(agent: User, *, course: str | None = None, quiz: str | None = None) -> None:
    """Mark as started the agent's enrolments whose programme needs this course or quiz."""
    wanted = {"course": course} if course else {"quiz": quiz}
    for enrolment in db.session.scalars(select(Enrolment).where(
            Enrolment.user_id == agent.id, Enrolment.started_at.is_(None))):
        version = enrolment.programme.current_version
        if version and any(all(r.get(k) == v for k, v in wanted.items()) for r in version.spec["requirements"]):
            enrolment.started_at = now()


def evaluate(agent: User) -> list[Award]:
    """Issue an award for every enrolment whose requirements are now met in the current cycle."""
    at = now()
    issued = []
    candidates = [enrolment for enrolment in agent_enrolments(agent.id)
                  if enrolment.programme.current_version is not None and not _holds_valid_award(enrolment, at)]
    for enrolment, states in zip(candidates, requirement_states_for(candidates).values()):
        if states and all(state.met for state in states):
            issued.append(_issue(enrolment, states, at))
    return issued


def new_verification_code() -> str:
    """128 random bits, URL-safe, starting with a letter or digit.

    A code starting with "-" would be escaped in CSV exports (a spreadsheet reads a leading
    "-" as a formula) and would look like an option on a command line; redrawing those
    costs under a tenth of a bit.
    """
    while True:
        code = secrets.token_urlsafe(16)
        if code[0].isalnum():
            return code


def agent_enrolments(user_id: int) -> list[Enrolment]:
    """An agent's enrolments with their programme's current version (which says what is required)."""
    return list(db.session.scalars(_agent_enrolments_query(), {"user_id": user_id}))


@cache
def _agent_enrolments_query() -> Select:
    # Built once per process (on first use, when every mapper is configured): building it with its
    # three eager loads on every call cost a tenth of the agent's home page.
    return (select(Enrolment).where(Enrolment.user_id == bindparam("user_id")).order_by(Enrolment.id)
            .options(joinedload(Enrolment.programme).joinedload(Programme.current_version),
                     joinedload(Enrolment.current_award)))


def _holds_valid_award(enrolment: Enrolment, at: datetime) -> bool:
    award = enrolment.current_award
    return (award is not None and award.revoked_at is None and at < award.window_opens_at
            and (enrolment.recert_after is None or award.issued_at >= enrolment.recert_after))


def _issue(enrolment: Enrolment, states: list[RequirementState], at: datetime) -> Award:
    version = enrolment.programme.current_version
    spec = version.spec
    valid_until = at + spec["validity_months"] * MONTH
    award = Award(
        user_id=enrolment.user_id, programme_id=enrolment.programme_id, programme_version=version,
        issued_at=at, valid_until=valid_until,
        window_opens_at=valid_until - timedelta(days=spec["recertification_window_days"]),
        grace_until=valid_until + timedelta(days=spec.get("grace_days", 0)),
        verification_code=new_verification_code(),
        evidence=_evidence(enrolment.user_id, states, cycle_start(enrolment)),
    )
    db.session.add(award)
    db.session.flush()
    enrolment.current_award = award
    enrolment.started_at = None  # the next cycle starts afresh
    enrolment.recert_after = enrolment.recert_due_at = None
    refresh_snapshot(enrolment)
    record("award.issued", actor=None, target=award, user_id=enrolment.user_id,
           programme=enrolment.programme.slug, valid_until=valid_until.isoformat(), evidence=award.evidence)
    signals.award_issued.send(None, award=award)
    return award


def _evidence(user_id: int, states: list[RequirementState], since: datetime | None) -> dict:
    """The content versions and the attempts that earned the award."""
    evidence: dict[str, list] = {"courses": [], "quizzes": []}
    for state in states:
        if state.kind == "course":
            version = db.session.scalar(select(CourseVersion).join(Course, Course.current_version_id == CourseVersion.id)
                                        .where(Course.slug == state.slug))
            evidence["courses"].append({"slug": state.slug, "title": version.title,
                                        "version": version.content_hash[:12], "lessons": len(version.lessons)})
        else:
            query = select(Attempt).join(Quiz, Quiz.id == Attempt.quiz_id).where(
                Quiz.slug == state.slug, Attempt.user_id == user_id, Attempt.status != AttemptStatus.IN_PROGRESS,
                Attempt.critical_failure.is_(False))
            if since is not None:
                query = query.where(Attempt.finished_at >= since)
            best = db.session.scalars(query.order_by(Attempt.percent.desc(), Attempt.finished_at)).first()
            evidence["quizzes"].append({
                "slug": state.slug, "title": state.title, "attempt": best.id, "percent": best.percent,
                "phases": best.phase_scores, "version": best.quiz_version.content_hash[:12],
                "finished_at": best.finished_at.isoformat(), "language": best.language or SOURCE_LANGUAGE})
    return evidence


@signals.attempt_passed_shown.connect
def awards_earned_by(_agent, *, attempt: Attempt, **__: object) -> list[Award]:
    """The standing awards this quiz attempt earned (their evidence names it): what its result
    page congratulates the agent on. The agent's own awards only, a handful."""
    awards = db.session.scalars(select(Award).where(Award.user_id == attempt.user_id, Award.revoked_at.is_(None))
                                .order_by(Award.issued_at)).all()
    return [award for award in awards
            if any(quiz.get("attempt") == attempt.id for quiz in award.evidence.get("quizzes", []))]


def revoke(actor: User, award: Award, reason: str) -> None:
    """Revoke an award with a reason; the award stays, with who revoked it and when."""
    reason = reason.strip()
    if not reason:
        raise CertificationError(_("Give the reason for revoking this award."))
    if award.revoked_at is not None:
        raise CertificationError(_("This award is already revoked."))
    award.revoked_at, award.revoked_by_id, award.revoke_reason = now(), actor.id, reason
    for enrolment in db.session.scalars(select(Enrolment).where(Enrolment.current_award_id == award.id)):
        refresh_snapshot(enrolment)
    record("award.revoked", actor=actor, target=award, user_id=award.user_id, reason=reason)
    signals.award_revoked.send(actor, award=award)


REISSUED = "re-issued"


def reissue(actor: User, award: Award) -> Award:
    """Replace an award's certificate with a new one: a new award with a new code, the same facts.

    Nothing is edited in place: the old award is revoked with the reason "re-issued" (its
    certificate then verifies as revoked), and the new one copies its dates and evidence, so
    the holder's status does not change. Used when a stored certificate carries a wrong address.
    """
    if award.revoked_at is not None:
        raise CertificationError(_("A revoked award cannot be re-issued."))
    new = Award(user_id=award.user_id, programme_id=award.programme_id,
                programme_version_id=award.programme_version_id, issued_at=award.issued_at,
                valid_until=award.valid_until, window_opens_at=award.window_opens_at,
                grace_until=award.grace_until, verification_code=new_verification_code(),
                evidence=award.evidence, reissued_from_id=award.id)
    db.session.add(new)
    award.revoked_at, award.revoked_by_id, award.revoke_reason = now(), actor.id, REISSUED
    db.session.flush()
    for enrolment in db.session.scalars(select(Enrolment).where(Enrolment.current_award_id == award.id)):
        enrolment.current_award = new
        refresh_snapshot(enrolment)
    record("award.revoked", actor=actor, target=award, user_id=award.user_id, reason=REISSUED)
    record("award.reissued", actor=actor, target=new, user_id=new.user_id, replaces=award.id)
    signals.award_revoked.send(actor, award=award)
    signals.award_issued.send(actor, award=new)
    return new


def require_recertification(actor: User | None, course_slug: str, required_by: datetime, reason: str) -> int:
    """After a material change to a course: every holder of an award from a programme that
    requires it must recertify by `required_by`. Past awards are not altered."""
    if required_by <= now():
        raise CertificationError(_("The date must be in the future."))
    programmes = [p for p in db.session.scalars(select(Programme).where(Programme.archived_at.is_(None)))
                  if p.current_version and any(r.get("course") == course_slug
                                               for r in p.current_version.spec["requirements"])]
    if not programmes:
        raise CertificationError(_("No programme requires the course “%(course)s”.", course=course_slug))
    at = now()
    affected = 0
    for programme in programmes:
        db.session.add(Recertification(programme_id=programme.id, course_slug=course_slug, effective_at=at,
                                       required_by=required_by, reason=reason, created_by_id=getattr(actor, "id", None)))
        affected += db.session.execute(
            update(Enrolment).where(Enrolment.programme_id == programme.id, Enrolment.current_award_id.is_not(None))
            .values(recert_after=at, recert_due_at=required_by, started_at=None, next_due_at=required_by)
            .execution_options(synchronize_session=False)).rowcount
    record("recertification.required", actor=actor, course=course_slug, required_by=required_by.isoformat(),
           programmes=[p.slug for p in programmes], enrolments=affected, reason=reason)
    return affected
