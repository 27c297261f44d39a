"""Bulk demo data: a realistic company for staff pages and load tests (`flask lms demo --agents N`).

`generate_bulk` adds ten organisations (devtools/company.py), thousands of agents with 18 months
of certification history (attempts, lesson progress, awards, some revoked, a material change to a
course that sent holders back to recertify) and the enrolments that follow from the programmes
assigned to each organisation. It writes with bulk INSERTs in chunks and explicit ids, never one
ORM object at a time (10,000 agents through the services would take hours), and records one
`demo.generated` audit event.

The history is simulated with the application's own rules, called where they are plain
functions: certification's `cycle_start` (which work counts towards the next award, `recert_after`
included) and `snapshot` (the enrolment's mirror of its award) run on the simulator's records;
an award is issued when every requirement is met in the current cycle, at most `attempts.max`
attempts per quiz, with the cooldown between attempts, and the programme's validity, window and
grace. Each agent's history depends only on the seed, the agent's index and the clock, so agent
17 is the same person at 100 or 10,000 agents.
"""
from __future__ import annotations

import bisect
import heapq
import itertools
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import JSON, func, select, text

from devtools.company import (DEFAULT_DUE_DAYS, DUE_DAYS, NAMES, ORG_PLANS, REVOKE_REASONS, OrgPlan,
                              email_part)
from devtools.demo import demo_password_hash, ensure_demo_accounts
from lms.accounts.models import Organisation, Role, User
from lms.assessment.models import Attempt, AttemptStatus
from lms.audit.models import AuditEvent
from lms.audit.services import record
from lms.certification.models import Assignment, Award, Enrolment, Recertification
from lms.certification.services import cycle_start, new_verification_code, snapshot, sync_enrolments
from lms.certification.status import status_expression
from lms.clock import UTCDateTime, now
from lms.extensions import db
from lms.learning.models import LessonProgress

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MONTH = timedelta(days=30.4375)  # as certification.services.MONTH
CHUNK = 5000                     # rows per INSERT batch


# The material change of the history: the course, and what the trainer wrote.
CHANGED_COURSE = "call-security"
CHANGE_REASON = "New payment-card rules: card numbers are never read back, even partly, on a recorded line."


class DemoError(RuntimeError):
    """The bulk demo data cannot be generated; the message says why and what to do."""


class BulkAlreadyGenerated(DemoError):
    """Bulk data is in this database already: it is generated once per database."""


# ---- what the generator reads from the loaded content ----------------------------------

@dataclass
class _QuizInfo:
    id: int
    version_id: int
    slug: str
    title: str
    version: str          # content hash, 12 characters, as evidence shows it
    pass_mark: float
    max_attempts: int | None
    cooldown: timedelta
    time_limit: timedelta | None
    draws: list[tuple[str, list[tuple[str, float, str]]]]  # (draw as JSON, [(phase, points, type)])
    partial: bool


@dataclass
class _CourseInfo:
    id: int
    version_id: int
    slug: str
    title: str
    version: str
    lesson_keys: list[str]


@dataclass
class _ProgrammeInfo:
    id: int
    version_id: int
    slug: str
    validity: timedelta
    window: timedelta
    grace: timedelta
    requirements: list[dict]
    courses: set[str]
    quizzes: set[str]


@dataclass
class _Content:
    programmes: dict[str, _ProgrammeInfo]
    quizzes: dict[str, _QuizInfo]
    courses: dict[str, _CourseInfo]


def _load_content(seed: int) -> _Content:
    from lms.assessment.services import draw_items
    from lms.certification.models import Programme, ProgrammeVersion
    from lms.learning.models import Course, CourseVersion, Lesson, Quiz, QuizVersion

    rows = db.session.execute(
        select(Programme.id, Programme.slug, ProgrammeVersion.id, ProgrammeVersion.spec)
        .join(ProgrammeVersion, ProgrammeVersion.id == Programme.current_version_id)
        .where(Programme.archived_at.is_(None)).order_by(Programme.slug)).all()
    if not rows:
        raise DemoError("No programme is loaded, so there is nothing to certify agents in. "
                        "Run `flask --app wsgi lms content load` first (programmes/*.yaml), then this again.")
    programmes = {}
    for pid, slug, vid, spec in rows:
        reqs = list(spec["requirements"])
        programmes[slug] = _ProgrammeInfo(
            pid, vid, slug, spec["validity_months"] * MONTH, timedelta(days=spec["recertification_window_days"]),
            timedelta(days=spec.get("grace_days", 0)), reqs,
            {r["course"] for r in reqs if "course" in r}, {r["quiz"] for r in reqs if "quiz" in r})

    quizzes = {}
    for qid, slug, vid, title, digest, spec in db.session.execute(
            select(Quiz.id, Quiz.slug, QuizVersion.id, QuizVersion.title, QuizVersion.content_hash, QuizVersion.spec)
            .join(QuizVersion, QuizVersion.id == Quiz.current_version_id).where(Quiz.archived_at.is_(None))
            .order_by(Quiz.slug)):
        items = {item["id"]: item for item in spec["questions"]}
        rng = random.Random(f"{seed}:draws:{slug}")
        draws = []
        for _ in range(48):  # a pool of real draws, reused: 100,000 fresh draws would only cost time
            draw = draw_items(spec, rng)
            draws.append((json.dumps(draw), [(items[e["item"]]["phase"], float(items[e["item"]].get("points", 1)),
                                              items[e["item"]]["type"]) for e in draw]))
        attempts = spec.get("attempts") or {}
        limit = spec.get("time_limit_minutes")
        quizzes[slug] = _QuizInfo(
            qid, vid, slug, title, digest[:12], float(spec["pass_mark"]), attempts.get("max"),
            timedelta(minutes=attempts.get("cooldown_minutes", 0)), timedelta(minutes=limit) if limit else None,
            draws, spec.get("multiple_response_scoring") == "partial")

    courses = {}
    lessons: dict[int, list[str]] = {}
    for version_id, key in db.session.execute(
            select(Lesson.course_version_id, Lesson.key)
            .join(Course, Course.current_version_id == Lesson.course_version_id).order_by(Lesson.position)):
        lessons.setdefault(version_id, []).append(key)
    for cid, slug, vid, title, digest in db.session.execute(
            select(Course.id, Course.slug, CourseVersion.id, CourseVersion.title, CourseVersion.content_hash)
            .join(CourseVersion, CourseVersion.id == Course.current_version_id).where(Course.archived_at.is_(None))):
        courses[slug] = _CourseInfo(cid, vid, slug, title, digest[:12], lessons.get(vid, []))

    for programme in programmes.values():
        missing = sorted((programme.courses - courses.keys()) | (programme.quizzes - quizzes.keys()))
        if missing:
            raise DemoError(f"Programme {programme.slug} needs {', '.join(missing)}, which is not loaded. "
                            "Run `flask --app wsgi lms content load`.")
    return _Content(programmes, quizzes, courses)


# ---- one agent's history ----------------------------------------------------------------
# Times here are naive UTC (faster to compare than aware ones); rows are converted on insert.

@dataclass
class _Ids:
    """The next id of each table: rows are inserted with explicit ids, known before insertion."""

    user: int
    attempt: int
    award: int
    enrolment: int

    def take(self, name: str) -> int:
        value = getattr(self, name)
        setattr(self, name, value + 1)
        return value


@dataclass(eq=False)
class _Enrolment:
    programme: _ProgrammeInfo
    assignment_id: int
    assigned_at: datetime
    due_at: datetime
    id: int = 0
    started_at: datetime | None = None
    award: dict | None = None       # the current award's row
    gen: int = 0                    # bumped when an award is issued or revoked: older plans are void
    recert_after: datetime | None = None   # a material change: only work since then counts
    recert_due_at: datetime | None = None
    changed: bool = False                  # the material change has reached this enrolment

    @property
    def current_award(self) -> _AwardView | None:
        """The award as certification's rules read it (attributes, not keys)."""
        return None if self.award is None else _AwardView(self.award)


class _AwardView:
    """An award row (a dict of columns) read as an Award: `award.issued_at`, `award.revoked_at`..."""

    __slots__ = ("_row",)

    def __init__(self, row: dict) -> None:
        self._row = row

    def __getattr__(self, name: str):
        return self._row[name]


@dataclass(eq=False)
class _Agent:
    id: int
    org: OrgPlan
    ends_at: datetime                # now, or when the agent left
    rng: random.Random
    reliability: int                 # 0 keen, 1 average, 2 reluctant
    skill: float                     # chance of passing a first attempt
    lessons: dict[tuple[str, str], datetime] = field(default_factory=dict)
    attempts: dict[str, list[dict]] = field(default_factory=dict)
    enrolments: list[_Enrolment] = field(default_factory=list)
    busy_until: datetime | None = None


_TIEBREAK = itertools.count()  # orders plans made for the same moment

# (on time, late; the rest never start or give up) by reliability
_BEHAVIOUR = [(0.96, 0.035), (0.84, 0.12), (0.60, 0.28)]


@dataclass(frozen=True)
class MaterialChange:
    """A course changed materially: holders of awards that require it recertify by `required_by`."""

    course: str
    effective_at: datetime
    required_by: datetime
    reason: str


class _Simulator:
    """Replays an agent's training with the certification rules, collecting the rows to insert."""

    def __init__(self, content: _Content, ids: _Ids, revokers: list[int], change: MaterialChange | None) -> None:
        self.content = content
        self.ids = ids
        self.revokers = revokers
        self.change = change
        self.attempt_rows: list[dict] = []
        self.award_rows: list[dict] = []
        self.progress_rows: list[dict] = []
        self.enrolment_rows: list[dict] = []

    @staticmethod
    def _office_time(agent: _Agent, moment: datetime) -> datetime:
        """That day at a plausible hour of the agent's office (as UTC), or a little later."""
        result = datetime(moment.year, moment.month, moment.day) + \
            timedelta(hours=agent.rng.uniform(8.0, 19.5) - agent.org.utc_offset)
        return result if result >= moment else moment + timedelta(minutes=agent.rng.uniform(5, 90))

    # -- the rules, as certification.services applies them (its cycle_start runs on our records) --

    def _met(self, agent: _Agent, requirement: dict, since: datetime | None, t: datetime) -> bool:
        if "course" in requirement:
            slug = requirement["course"]
            for key in self.content.courses[slug].lesson_keys:
                done = agent.lessons.get((slug, key))
                if done is None or done > t or (since is not None and done < since):
                    return False
            return True
        return self._best(agent, requirement["quiz"], since, t, requirement["min_score"]) is not None

    @staticmethod
    def _best(agent: _Agent, quiz: str, since: datetime | None, t: datetime, min_score: float) -> dict | None:
        """The best attempt of the cycle (the earliest of equals), if it reaches min_score."""
        best = None
        for attempt in agent.attempts.get(quiz, ()):
            finished = attempt["finished_at"]
            if finished > t or (since is not None and finished < since):
                continue
            if best is None or attempt["percent"] > best["percent"]:
                best = attempt
        return best if best is not None and best["percent"] >= min_score else None

    def _evaluate(self, agent: _Agent, t: datetime, queue: list, *, course: str = "", quiz: str = "") -> None:
        """certification.services.evaluate after finishing a course or passing a quiz at t."""
        for enrolment in agent.enrolments:
            programme = enrolment.programme
            if enrolment.assigned_at > t or (course not in programme.courses and quiz not in programme.quizzes):
                continue
            self._material_change(agent, enrolment, t, queue)
            since = cycle_start(enrolment)
            # The cycle has not started while a valid award's window is still closed (certification
            # does not evaluate an enrolment holding a valid award); a revocation or a material
            # change starts it at once.
            if since is not None and t < since:
                continue
            if all(self._met(agent, r, since, t) for r in programme.requirements):
                self._issue(agent, enrolment, since, t, queue)

    @staticmethod
    def _note_activity(agent: _Agent, t: datetime, course: str = "", quiz: str = "") -> None:
        for enrolment in agent.enrolments:
            if enrolment.started_at is None and enrolment.assigned_at <= t and (
                    course in enrolment.programme.courses or quiz in enrolment.programme.quizzes):
                enrolment.started_at = t

    def _issue(self, agent: _Agent, enrolment: _Enrolment, since: datetime | None, t: datetime, queue: list) -> None:
        programme = enrolment.programme
        valid_until = t + programme.validity
        evidence: dict[str, list] = {"courses": [], "quizzes": []}
        for requirement in programme.requirements:
            if "course" in requirement:
                course = self.content.courses[requirement["course"]]
                evidence["courses"].append({"slug": course.slug, "title": course.title, "version": course.version,
                                            "lessons": len(course.lesson_keys)})
            else:
                quiz = self.content.quizzes[requirement["quiz"]]
                best = self._best(agent, quiz.slug, since, t, requirement["min_score"])
                evidence["quizzes"].append({
                    "slug": quiz.slug, "title": quiz.title, "attempt": best["id"], "percent": best["percent"],
                    "phases": best["phase_scores"], "version": quiz.version,
                    "finished_at": best["finished_at"].isoformat() + "+00:00"})
        award = {"id": self.ids.take("award"), "user_id": agent.id, "programme_id": programme.id,
                 "programme_version_id": programme.version_id, "issued_at": t, "valid_until": valid_until,
                 "window_opens_at": valid_until - programme.window, "grace_until": valid_until + programme.grace,
                 "verification_code": new_verification_code(), "evidence": evidence,
                 "revoked_at": None, "revoked_by_id": None, "revoke_reason": None}
        self.award_rows.append(award)
        enrolment.award = award
        enrolment.started_at = None
        enrolment.recert_after = enrolment.recert_due_at = None
        enrolment.gen += 1
        rng = agent.rng
        revoke_at = t + DAY * rng.uniform(10, 150)
        if rng.random() < 0.006 and revoke_at < min(award["window_opens_at"], agent.ends_at):
            heapq.heappush(queue, (revoke_at, next(_TIEBREAK), "revoke", enrolment, enrolment.gen))
        else:
            self._plan(agent, enrolment, award["window_opens_at"], valid_until, queue, recertify=True)

    def _plan(self, agent: _Agent, enrolment: _Enrolment, opens: datetime, deadline: datetime, queue: list,
              recertify: bool = False) -> None:
        """When the agent works on this cycle: on time, late, never, or starts and gives up."""
        rng = agent.rng
        on_time, late = _BEHAVIOUR[agent.reliability]
        if recertify:  # a reminder is easier to put off when you already hold the certificate
            on_time, late = on_time - 0.06, late + 0.06
        roll = rng.random()
        span = max(deadline - opens, DAY)
        if roll < on_time:
            start, kind = opens + span * rng.uniform(0.03, 0.8), "work"
        elif roll < on_time + late:
            start, kind = deadline + DAY * rng.expovariate(1 / 20), "work"
        elif rng.random() < 0.45:
            start, kind = opens + span * rng.uniform(0.05, 1.6), "abandon"
        else:
            return
        if start < agent.ends_at:
            heapq.heappush(queue, (start, next(_TIEBREAK), kind, enrolment, enrolment.gen))

    # -- activities --

    def _read(self, agent: _Agent, course: _CourseInfo, t: datetime, stop_after: int | None) -> tuple[datetime, bool]:
        """Read the course's lessons from t on; False when the agent stopped (time ran out or gave up)."""
        rng = agent.rng
        for n, key in enumerate(course.lesson_keys):
            if stop_after is not None and n >= stop_after:
                return t, False
            # A lesson or two in one sitting, then back another day.
            t = t + timedelta(minutes=rng.uniform(4, 25)) if rng.random() < 0.45 else \
                self._office_time(agent, t + DAY * rng.randint(1, 4))
            if t > agent.ends_at:
                return t, False
            agent.lessons[(course.slug, key)] = t
            self._note_activity(agent, t, course=course.slug)
        return t, True

    def _attempt(self, agent: _Agent, quiz: _QuizInfo, started: datetime, passed: bool) -> dict | None:
        """A submitted attempt that passes or fails as asked, with plausible item scores."""
        rng = agent.rng
        duration = timedelta(minutes=rng.uniform(6, 19))
        if quiz.time_limit is not None:
            duration = min(duration, quiz.time_limit)
        finished = started + duration
        if finished > agent.ends_at:
            return None
        draw, items = quiz.draws[rng.randrange(len(quiz.draws))]
        for _ in range(30):
            p = rng.uniform(0.84, 1.0) if passed else rng.uniform(0.3, 0.8)
            phases: dict[str, list[float]] = {}
            earned = possible = 0.0
            for phase, points, kind in items:
                if rng.random() < p:
                    got = points
                elif kind == "call_simulation":
                    got = float(rng.randint(0, int(points) - 1)) if points >= 1 else 0.0
                elif kind == "multiple_response" and quiz.partial:
                    got = round(points * rng.choice((0.0, 0.33, 0.5, 0.67)), 4)
                else:
                    got = 0.0
                bucket = phases.setdefault(phase, [0.0, 0.0])
                bucket[0] += got
                bucket[1] += points
                earned += got
                possible += points
            percent = round(100 * earned / possible, 1) if possible else 0.0
            if (percent >= quiz.pass_mark) == passed:
                break
        row = {"id": self.ids.take("attempt"), "user_id": agent.id, "quiz_id": quiz.id,
               "quiz_version_id": quiz.version_id, "status": AttemptStatus.SUBMITTED.value, "started_at": started,
               "deadline": started + quiz.time_limit if quiz.time_limit else None, "finished_at": finished,
               "draw": draw, "earned": round(earned, 4), "possible": possible, "percent": percent,
               "passed": percent >= quiz.pass_mark,
               "phase_scores": {phase: {"earned": round(e, 4), "possible": p_, "percent": round(100 * e / p_, 1)}
                                for phase, (e, p_) in phases.items() if p_},
               "graded_version_id": quiz.version_id, "regraded_at": None}
        self.attempt_rows.append(row)
        agent.attempts.setdefault(quiz.slug, []).append(row)
        self._note_activity(agent, started, quiz=quiz.slug)
        return row

    def _take_quiz(self, agent: _Agent, quiz: _QuizInfo, min_score: float, t: datetime, since: datetime | None,
                   queue: list, give_up: bool) -> tuple[datetime, bool]:
        """Attempts until a pass (or no attempts left, or the agent gives up after a fail).

        The attempt limit is counted per certification cycle, as recertification needs
        (assessment.services.availability counts it over the agent's whole history).
        """
        rng = agent.rng
        used = sum(1 for a in agent.attempts.get(quiz.slug, ()) if since is None or a["finished_at"] >= since)
        skill = agent.skill + (0.15 if since is not None else 0.0)  # better when recertifying
        while quiz.max_attempts is None or used < quiz.max_attempts:
            t = self._office_time(agent, t)
            passed = not give_up and rng.random() < min(0.97, skill + 0.25 * used)  # and on a retry
            row = self._attempt(agent, quiz, t, passed)
            if row is None:
                return t, False
            used += 1
            t = row["finished_at"]
            if row["percent"] >= min_score:
                self._evaluate(agent, t, queue, quiz=quiz.slug)
                return t, True
            if give_up:
                return t, False
            # The cooldown, then (often) a day or more to reread before trying again.
            t += quiz.cooldown + (timedelta(minutes=rng.uniform(5, 90)) if rng.random() < 0.4
                                  else DAY * rng.uniform(0.5, 4))
        return t, False

    def _work(self, agent: _Agent, enrolment: _Enrolment, start: datetime, queue: list, abandon: bool) -> None:
        """A study session for one cycle: read what is not read this cycle, then pass each quiz."""
        rng = agent.rng
        if agent.busy_until is not None and start < agent.busy_until:
            start = agent.busy_until + HOUR * rng.uniform(1, 30)
        t = self._office_time(agent, start)
        since = cycle_start(enrolment)
        stop = rng.randint(1, 6) if abandon else None
        for requirement in enrolment.programme.requirements:
            if t > agent.ends_at:
                break
            if self._met(agent, requirement, since, t):
                continue
            if "course" in requirement:
                t, done = self._read(agent, self.content.courses[requirement["course"]], t, stop)
                if not done:
                    break
                self._evaluate(agent, t, queue, course=requirement["course"])
            else:
                t, done = self._take_quiz(agent, self.content.quizzes[requirement["quiz"]],
                                          requirement["min_score"], t + HOUR * rng.uniform(0.05, 72),
                                          since, queue, abandon)
                if not done:
                    break
        agent.busy_until = t

    def _practise(self, agent: _Agent, quiz: _QuizInfo, start: datetime) -> None:
        """A quiz nobody asked the agent to take, out of interest (one or two attempts)."""
        t = start
        for _ in range(agent.rng.choice((1, 1, 2))):
            row = self._attempt(agent, quiz, self._office_time(agent, t), agent.rng.random() < agent.skill)
            if row is None or row["passed"]:
                return
            t = row["finished_at"] + quiz.cooldown + DAY * agent.rng.uniform(0, 3)

    def _revoke(self, agent: _Agent, enrolment: _Enrolment, t: datetime, queue: list) -> None:
        rng = agent.rng
        award = enrolment.award
        award["revoked_at"] = t
        award["revoked_by_id"] = rng.choice(self.revokers) if self.revokers else None
        award["revoke_reason"] = rng.choice(REVOKE_REASONS).format(n=rng.randint(1000, 9999))
        enrolment.gen += 1
        if rng.random() < 0.5:  # retrained and recertified since; the others still show as revoked
            start = t + DAY * rng.uniform(3, 25)
            if start < agent.ends_at:
                heapq.heappush(queue, (start, next(_TIEBREAK), "work", enrolment, enrolment.gen))

    def _material_change(self, agent: _Agent, enrolment: _Enrolment, t: datetime, queue: list) -> None:
        """certification.services.require_recertification, for this enrolment, once `t` is past it: set
        recert_after, and the agent plans a new cycle against the required date (what they did before
        no longer counts). Checked before every evaluation too, since a study session that began before
        the change may run past it."""
        change = self.change
        if change is None or enrolment.changed or t < change.effective_at \
                or change.course not in enrolment.programme.courses:
            return
        enrolment.changed = True
        if enrolment.award is None:
            return
        enrolment.recert_after, enrolment.recert_due_at = change.effective_at, change.required_by
        enrolment.started_at = None
        enrolment.gen += 1  # the plans of the cycle before the change are void
        self._plan(agent, enrolment, change.effective_at, change.required_by, queue, recertify=True)

    def run(self, agent: _Agent, hired: datetime) -> None:
        queue: list = []
        for enrolment in agent.enrolments:
            self._plan(agent, enrolment, enrolment.assigned_at, enrolment.due_at, queue)
            if self.change is not None and self.change.course in enrolment.programme.courses:
                heapq.heappush(queue, (self.change.effective_at, next(_TIEBREAK), "change", enrolment, 0))
        required = set().union(*(e.programme.quizzes for e in agent.enrolments))
        for quiz in self.content.quizzes.values():
            if quiz.slug not in required and agent.rng.random() < 0.5:
                heapq.heappush(queue, (hired + (agent.ends_at - hired) * agent.rng.random(), next(_TIEBREAK),
                                       "practise", quiz, 0))
        while queue:
            start, _, kind, target, gen = heapq.heappop(queue)
            if start >= agent.ends_at:
                continue
            if kind == "practise":
                self._practise(agent, target, start)
            elif kind == "change":
                self._material_change(agent, target, start, queue)
            elif gen != target.gen:
                continue
            elif kind == "revoke":
                self._revoke(agent, target, start, queue)
            else:
                self._work(agent, target, start, queue, abandon=kind == "abandon")
        for (course_slug, key), done in agent.lessons.items():
            course = self.content.courses[course_slug]
            self.progress_rows.append({"user_id": agent.id, "course_id": course.id, "lesson_key": key,
                                       "course_version_id": course.version_id, "completed_at": done})
        for enrolment in agent.enrolments:
            award = enrolment.award
            self.enrolment_rows.append({
                "id": enrolment.id, "user_id": agent.id, "programme_id": enrolment.programme.id,
                "assignment_id": enrolment.assignment_id, "assigned_at": enrolment.assigned_at,
                "due_at": enrolment.due_at, "mandatory": True, "started_at": enrolment.started_at,
                "current_award_id": award["id"] if award else None,
                "recert_after": enrolment.recert_after, "recert_due_at": enrolment.recert_due_at,
                **snapshot(award, enrolment.due_at, enrolment.recert_due_at, enrolment.recert_after)})


# ---- writing -----------------------------------------------------------------------------

def _insert(model, rows: list[dict]) -> None:
    """Bulk INSERT in chunks through the driver's executemany, with values already in database form.

    Going through the model's column types would convert a million timestamps
    and 200,000 JSON documents one by one (most of the run time at 10,000
    agents). Here a timestamp becomes naive UTC, as UTCDateTime stores it (text
    on SQLite, in SQLAlchemy's format), and a JSON column gets its text (the
    pooled draws are serialised once).
    """
    if not rows:
        return
    connection = db.session.connection()
    dialect = connection.dialect
    sqlite = dialect.name == "sqlite"
    names = list(rows[0])
    types = model.__table__.columns
    times = {i for i, name in enumerate(names) if isinstance(types[name].type, UTCDateTime)}
    documents = {i for i, name in enumerate(names) if isinstance(types[name].type, JSON)}
    quote = dialect.identifier_preparer.quote
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {quote(model.__table__.name)} ({', '.join(quote(n) for n in names)}) "
           f"VALUES ({', '.join([marker] * len(names))})")

    def convert(i: int, value):
        if value is None:
            return None
        if i in times:
            if value.tzinfo is not None:
                value = value.astimezone(timezone.utc).replace(tzinfo=None)
            return value.isoformat(" ", "microseconds") if sqlite else value
        if i in documents and not isinstance(value, str):
            return json.dumps(value)
        return value

    special = sorted(times | documents)
    for start in range(0, len(rows), CHUNK):
        batch = []
        for row in rows[start:start + CHUNK]:
            values = list(row.values())
            for i in special:
                values[i] = convert(i, values[i])
            batch.append(tuple(values))
        connection.exec_driver_sql(sql, batch)


# ---- the whole company -----------------------------------------------------------------

@dataclass
class BulkReport:
    organisations: int
    agents: int
    assignments: int
    enrolments: int
    attempts: int
    awards: int
    revoked: int
    lessons_read: int
    statuses: dict[str, int]

    def summary(self) -> str:
        mix = ", ".join(f"{status.replace('_', ' ')} {count}" for status, count in self.statuses.items())
        return (f"Bulk demo data: {self.organisations} organisations, {self.agents} agents, "
                f"{self.assignments} assignments, {self.enrolments} enrolments, {self.attempts} finished attempts, "
                f"{self.awards} awards ({self.revoked} revoked), {self.lessons_read} lessons read.\n"
                f"Enrolments of active agents by status now: {mix}.")


def _next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def _bulk_already_generated() -> int | None:
    """The agent count of an earlier bulk run on this database, if there was one."""
    data = db.session.scalar(select(AuditEvent.data).where(AuditEvent.action == "demo.generated").limit(1))
    return None if data is None else int(data.get("agents", 0))


def generate_bulk(agents: int, *, seed: int = 2026, at: datetime | None = None) -> BulkReport:
    """Add `agents` agents with 18 months of history to the demo company (demo accounts first).

    Refuses (BulkAlreadyGenerated) when bulk data was generated on this database before, and
    (DemoError) when no programme is loaded. Flushes; the caller commits.
    """
    if agents < 1:
        raise DemoError("Give a number of agents of at least 1.")
    previous = _bulk_already_generated()
    if previous is not None:
        raise BulkAlreadyGenerated(f"Bulk demo data is already in this database ({previous} agents); it is generated once. "
                        "To start again, use an empty database: delete it (or point DATABASE_URL at a new one), "
                        "then `flask --app wsgi db upgrade`, `lms content load` and `lms demo --agents N`.")
    aware_at = at or now()
    at = aware_at.astimezone(timezone.utc).replace(tzinfo=None)
    demo_users = ensure_demo_accounts()
    content = _load_content(seed)
    by_email = {u.email: u for u in demo_users}
    admin = by_email["admin@northwind.example"]
    revokers = [admin.id, by_email["trainer@northwind.example"].id]

    # Organisations: the three demo ones exist; add the partners in other countries.
    existing_orgs = dict(db.session.execute(select(Organisation.name, Organisation.id)).all())
    org_id: dict[str, int] = {}
    org_rows = []
    next_org = _next_id(Organisation)
    for plan in ORG_PLANS:
        if plan.name in existing_orgs:
            org_id[plan.name] = existing_orgs[plan.name]
            continue
        org_id[plan.name] = next_org
        org_rows.append({"id": next_org, "name": plan.name, "kind": plan.kind.value, "country": plan.country,
                         "contract_reference": plan.contract, "contact_email": plan.contact,
                         "created_at": at - DAY * (plan.joined_days_ago + 20)})
        next_org += 1

    # Assignments: each organisation's programmes from when it joined, due N days after (new starters too).
    assignment_rows = []
    assignment_of: dict[tuple[str, str], dict] = {}
    next_assignment = _next_id(Assignment)
    for plan in ORG_PLANS:
        joined = at - DAY * plan.joined_days_ago
        for n, slug in enumerate(s for s in plan.programmes if s in content.programmes):
            row = {"id": next_assignment, "programme_id": content.programmes[slug].id,
                   "organisation_id": org_id[plan.name], "user_id": None, "due_at": None,
                   "due_days": DUE_DAYS.get(slug, DEFAULT_DUE_DAYS), "mandatory": True,
                   "created_at": joined + DAY * (20 * n) + HOUR * 10, "created_by_id": admin.id}
            assignment_rows.append(row)
            assignment_of[(plan.name, slug)] = row
            next_assignment += 1

    # Agents: names from their country; hired before the organisation joined, or since (turnover).
    ids = _Ids(user=_next_id(User), attempt=_next_id(Attempt), award=_next_id(Award), enrolment=_next_id(Enrolment))
    taken_emails = set(db.session.scalars(select(User.email)))
    suffixes: Counter = Counter()
    cumulative = list(itertools.accumulate(plan.weight for plan in ORG_PLANS))
    password_hash = demo_password_hash()
    change = None
    if CHANGED_COURSE in content.courses:  # some holders are recertifying after it, a few are late
        change = MaterialChange(CHANGED_COURSE, at - DAY * 75, at + DAY * 15, CHANGE_REASON)
    simulator = _Simulator(content, ids, revokers, change)
    user_rows = []
    for index in range(agents):
        rng = random.Random(f"{seed}:agent:{index}")
        plan = ORG_PLANS[bisect.bisect_right(cumulative, rng.randrange(cumulative[-1]))]
        firsts, lasts, double = NAMES[plan.country]
        first, last = rng.choice(firsts), rng.choice(lasts)
        primary = last
        if rng.random() < double:  # Portuguese go by the second surname, Colombians by the first
            second = rng.choice([x for x in lasts if x != last])
            primary = last if plan.country == "CO" else second
            last = f"{last} {second}"
        local = f"{email_part(first)}.{email_part(primary)}"
        email = f"{local}@{plan.domain}"
        while email in taken_emails:
            suffixes[email] += 1
            email = f"{local}{suffixes[email] + 1}@{plan.domain}"
        taken_emails.add(email)
        joined = at - DAY * plan.joined_days_ago
        if rng.random() < 0.55:
            hired = joined - DAY * rng.uniform(20, 1400)
        else:
            hired = joined + (at - joined) * rng.random()
        hired = hired.replace(microsecond=0)
        left = None
        if rng.random() < 0.08 and at - hired > DAY * 60:
            left = hired + (at - hired) * rng.uniform(0.3, 0.97)
        agent = _Agent(ids.take("user"), plan, left or at, rng, reliability=rng.choices((0, 1, 2), (60, 28, 12))[0],
                       skill=min(0.95, max(0.25, rng.gauss(0.5, 0.15))))
        user_rows.append({"id": agent.id, "email": email, "name": f"{first} {last}", "role": Role.AGENT.value,
                          "organisation_id": org_id[plan.name], "scope_organisation_id": None,
                          "password_hash": password_hash, "active": left is None, "created_at": hired,
                          "deactivated_at": left})
        for slug in plan.programmes:
            assignment = assignment_of.get((plan.name, slug))
            if assignment is None or (left is not None and left <= assignment["created_at"]):
                continue
            assigned = max(assignment["created_at"], hired)  # as sync_enrolments does
            agent.enrolments.append(_Enrolment(content.programmes[slug], assignment["id"], assigned,
                                               assigned + DAY * assignment["due_days"], id=ids.take("enrolment")))
        simulator.run(agent, hired)

    for model, rows in ((Organisation, org_rows), (Assignment, assignment_rows), (User, user_rows),
                        (Attempt, simulator.attempt_rows), (Award, simulator.award_rows),
                        (Enrolment, simulator.enrolment_rows), (LessonProgress, simulator.progress_rows)):
        _insert(model, rows)
    if db.session.get_bind().dialect.name == "postgresql":
        # Explicit ids do not move PostgreSQL's sequences: move them past the new rows.
        for name in ("organisation", "user", "assignment", "attempt", "award", "enrolment"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                                    f"(SELECT COALESCE(MAX(id), 1) FROM \"{name}\"))"))
    if change is not None:
        for programme in content.programmes.values():
            if change.course in programme.courses:
                db.session.add(Recertification(programme_id=programme.id, course_slug=change.course,
                                               effective_at=change.effective_at.replace(tzinfo=timezone.utc),
                                               required_by=change.required_by.replace(tzinfo=timezone.utc),
                                               reason=change.reason, created_by_id=admin.id))
    sync_enrolments()  # the named demo agents join their organisations' programmes too
    if db.session.get_bind().dialect.name == "postgresql":
        # Fresh tables have no planner statistics until autovacuum comes round; without them
        # PostgreSQL plans the dashboard as 25,000 nested index lookups (3x slower).
        db.session.execute(text("ANALYZE"))

    status = status_expression(aware_at)
    statuses = dict(db.session.execute(
        select(status, func.count()).select_from(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .where(User.active.is_(True)).group_by(status).order_by(func.count().desc())).all())
    report = BulkReport(
        organisations=len(ORG_PLANS), agents=agents, assignments=len(assignment_rows),
        enrolments=len(simulator.enrolment_rows), attempts=len(simulator.attempt_rows),
        awards=len(simulator.award_rows), revoked=sum(1 for a in simulator.award_rows if a["revoked_at"]),
        lessons_read=len(simulator.progress_rows), statuses=statuses)
    record("demo.generated", actor=None, seed=seed, organisations_added=len(org_rows),
           agents=report.agents, assignments=report.assignments, enrolments=report.enrolments,
           attempts=report.attempts, awards=report.awards, revoked=report.revoked,
           lessons_read=report.lessons_read, statuses=statuses)
    db.session.flush()
    return report
