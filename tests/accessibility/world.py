"""The data the page crawl needs: one of every record a page can be about, made through the product's
services where they exist, so that every page the crawl visits has something on it.

The shipped content (courses/, quizzes/, programmes/) and the demo's organisations and people
(devtools/demo.py) are the base: Atlas Customer Care's agent is the crawl's agent, so the scoped
auditor (scoped to Atlas) and Atlas's partner admin may see the same person, award and records
as the company-wide staff.
"""
from __future__ import annotations

import hashlib
import random
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pyotp
from sqlalchemy import select, update
from werkzeug.datastructures import MultiDict

from devtools.demo import DEMO_PASSWORD, demo_api_key, ensure_demo_accounts
from lms.accounts.models import LoginSession, User
from lms.accounts.services import issue_password_link, request_password_reset
from lms.assessment import services as assessment
from lms.assessment.models import Attempt
from lms.question_types import REGISTRY
from lms.audit.models import AuditEvent
from lms.authoring import drafts
from lms.certification.models import Assignment, Award, Programme
from lms.clock import now
from lms.extensions import db
from lms.jobs.models import Job, JobFile, JobState
from lms.jobs.services import request_export
from lms.learning.models import Course, JobAid, Quiz
from lms.learning.services import complete_lesson
from lms.learning.sync import load_content
from lms.mfa import services as mfa
from lms.mfa.models import Passkey
from lms.privacy.breaches import BreachData, record_breach
from lms.privacy.requests import Right, record_request
from lms.reminders.models import Message, MessageKind
from lms.roster.services import store_upload
from lms.scim.models import ScimGroup
from lms.scim.tokens import create_token
from lms.sso.services import ConnectionData, save_connection
from lms.webhooks.endpoints import create_endpoint
from lms.webhooks.models import DeliveryState, WebhookDelivery, WebhookEvent

PASSWORD = DEMO_PASSWORD
# The crawl's people (devtools/demo.py), one per role; the agent and the partner admin are Atlas's.
PEOPLE = {
    "agent": "agent@atlascare.example",
    "trainer": "trainer@northwind.example",
    "auditor": "auditor@northwind.example",
    "scoped_auditor": "auditor@atlascare.example",
    "admin": "admin@northwind.example",
    "partner_admin": "admin@atlascare.example",
}
LEARNERS = ("agent", "trainer", "admin")  # the roles that take quizzes (Permission.LEARN)
EXPORTERS = ("trainer", "auditor", "scoped_auditor", "admin", "partner_admin")  # Permission.EXPORT_EVIDENCE
PROGRAMME = "agent-certification"
SECOND_PROGRAMME = "partner-onboarding"  # also assigned to Atlas (devtools/demo.py)
QUIZ = "recording-calls"  # every question type, a call simulation among them
FAILED_QUIZ = "call-security"  # another quiz: a failed attempt starts a cool-down before the next
COURSE = "gdpr-essentials"


@dataclass
class World:
    """The ids and keys the crawl fills URLs with."""

    users: dict[str, int]
    atlas_id: int
    award_id: int
    open_attempts: dict[str, int]  # learner role -> their attempt in progress (QUIZ)
    question_at: dict[str, int]  # question type -> its position in every open attempt
    finished_attempts: dict[str, int]  # learner role -> a finished attempt of theirs
    verification_code: str
    quiz_item: str  # an ordinary question of QUIZ, and its call simulation with a node
    simulation_item: str
    simulation_node: str
    lesson_file: str  # a lesson file of COURSE's draft, and a lesson key of the course
    lesson_key: str
    job_aid: str
    breach_id: int
    request_id: int
    webhook_id: int
    sso_id: int
    scim_token_id: int
    api_key_id: int
    exports: dict[str, int]  # role -> an export of Atlas's certificates they requested
    upload_id: int
    audit_seq: int  # an event by the agent, which every auditor may read
    assignment_id: int  # Atlas's assignment of PROGRAMME, which its partner admin may change too
    passkey_id: int = 0  # the admin's factors come after the admin has signed in (add_admin_factors)

    def user(self, role: str) -> User:
        return db.session.get(User, self.users[role])


def build(content_root: Path) -> World:
    """Everything but the admin's second factors, from the content under `content_root`, committed
    (the live server reads it)."""
    load_content(content_root)
    ensure_demo_accounts()
    db.session.flush()
    people = {role: db.session.scalar(select(User).where(User.email == email)) for role, email in PEOPLE.items()}
    agent, admin, partner_admin = people["agent"], people["admin"], people["partner_admin"]
    atlas = agent.organisation

    award = _certify(agent, PROGRAMME)
    _certify(agent, SECOND_PROGRAMME)  # two awards: the person page repeats its forms per award
    quiz = db.session.scalar(select(Quiz).where(Quiz.slug == QUIZ))
    finished = {"agent": _last_attempt(agent)}
    failed_quiz = db.session.scalar(select(Quiz).where(Quiz.slug == FAILED_QUIZ))
    for role in ("trainer", "admin"):  # an unanswered attempt, submitted: a failed result
        attempt = assessment.start_attempt(people[role], failed_quiz, random.Random(1))
        assessment.submit(people[role], attempt)
        finished[role] = attempt.id
    open_attempts, question_at = {}, {}
    seed = _seed_drawing_every_type(quiz.current_version.spec)
    for role in LEARNERS:
        attempt = assessment.start_attempt(people[role], quiz, random.Random(seed))
        open_attempts[role] = attempt.id
        for position in range(1, len(attempt.draw) + 1):
            question_at.setdefault(assessment.item_at(attempt, position)[0]["type"], position)

    items = quiz.current_version.spec["questions"]
    simulation = next(item for item in items if item["type"] == "call_simulation")
    course = db.session.scalar(select(Course).where(Course.slug == COURSE))
    trainer = people["trainer"]
    course_draft = drafts.open_draft("course", COURSE, trainer)
    lesson_file = sorted(path for path in course_draft.files if path.endswith(".md"))[0]
    # A change in the draft, so the diff page has lines on both sides.
    drafts.save_files(course_draft, {lesson_file: course_draft.files[lesson_file] + "\nA line the trainer added.\n"},
                      course_draft.revision, trainer)
    drafts.open_draft("quiz", QUIZ, trainer)
    drafts.open_draft("programme", PROGRAMME, trainer)

    breach = record_breach(admin, BreachData(
        title="Statement e-mailed to the wrong customer", aware_at=now() - timedelta(days=2),
        occurred_at=now() - timedelta(days=3), facts="An agent typed a similar address.",
        subject_categories="Customers", subjects_approx=1, record_categories="Account statement", records_approx=1))
    data_request = record_request(admin, agent, Right.ACCESS, date.today() - timedelta(days=3),
                                  "Asked from the work address on file")
    webhook, _secret = create_endpoint(admin, "https://wfm.atlascare.example/hooks/callsafe", "Workforce management",
                                       ["award.issued", "award.revoked"], atlas)
    # Two failed deliveries, each with its Retry form (rows, not sends: the crawl calls no one).
    for number in (1, 2):
        event = WebhookEvent(message_id=f"msg_crawl{number}", type="award.issued", user_id=agent.id,
                             organisation_id=atlas.id, data={"award_id": award.id}, occurred_at=now())
        db.session.add(event)
        db.session.flush()
        db.session.add(WebhookDelivery(endpoint_id=webhook.id, event_id=event.id, state=DeliveryState.FAILED,
                                       attempts=1, last_attempt_at=now(), next_try_at=now() + timedelta(hours=1),
                                       response_status=503, last_error="Service Unavailable"))
    sso = save_connection(admin, ConnectionData(
        organisation_id=atlas.id, issuer="https://login.atlascare.example", client_id="callsafe",
        client_secret="not-a-real-secret", scopes="openid email profile", email_claim="email", role_claim="groups",
        trainer_values="atlas-trainers", domains="atlascare.example", jit_provisioning=True, link_by_email=True,
        passwords_forbidden=False, idp_mfa_accepted=False, mfa_acr_values="", enabled=True))
    scim_token, _secret = create_token(admin, atlas, "Atlas directory", 90)
    db.session.add_all([ScimGroup(organisation_id=atlas.id, display_name="atlas-agents", role="agent"),
                        ScimGroup(organisation_id=atlas.id, display_name="atlas-trainers", role="trainer")])
    api_key, _token = demo_api_key()
    upload = store_upload(partner_admin, "atlas-roster.csv", b"Employee id,Name,E-mail,Organisation,Team\n"
                          b"AT-1003,Lina Haddad,lina@atlascare.example,Atlas Customer Care,Billing\n", full_roster=False)
    exports = {role: _finished_export(people[role], atlas.id).id for role in EXPORTERS}
    for kind, sent, error in ((MessageKind.OVERDUE, now(), None), (MessageKind.OVERDUE, None, "Connection refused")):
        db.session.add(Message(kind=kind, recipient=agent.email, subject="Your GDPR training is overdue",
                               body="Please finish your training.", dedupe_key=secrets.token_hex(8),
                               sent_at=sent, attempts=1, error=error))
    db.session.commit()

    world = World(
        users={role: person.id for role, person in people.items()}, atlas_id=atlas.id, award_id=award.id,
        open_attempts=open_attempts, question_at=question_at, finished_attempts=finished,
        verification_code=award.verification_code, quiz_item=items[0]["id"], simulation_item=simulation["id"],
        simulation_node=simulation["start"], lesson_file=lesson_file.rsplit("/", 1)[-1],
        lesson_key=course.current_version.lessons[0].key, job_aid=_first_job_aid(),
        breach_id=breach.id, request_id=data_request.id, webhook_id=webhook.id, sso_id=sso.id,
        scim_token_id=scim_token.id, api_key_id=api_key.id, exports=exports, upload_id=upload.id,
        audit_seq=db.session.scalar(select(AuditEvent.seq).where(AuditEvent.actor_id == agent.id)
                                    .order_by(AuditEvent.seq.desc()).limit(1)),
        assignment_id=db.session.scalar(select(Assignment.id).join(Programme, Programme.id == Assignment.programme_id)
                                        .where(Assignment.organisation_id == atlas.id, Programme.slug == PROGRAMME)))
    return world


def add_admin_factors(world: World) -> None:
    """The admin's authenticator app and passkey: their pages exist only for someone who has them.

    Added after the admin's browser has signed in (a factor makes signing in a second step, which
    the visitor's crawl goes through to reach the second-step page). Enrolling marks the session it
    happens in as having passed the factor, as mfa.totp_enrol does, so the admin may change them.
    """
    admin = world.user("admin")
    secret = mfa.start_totp(admin)
    mfa.confirm_totp(admin, pyotp.TOTP(secret).now())
    passkey = Passkey(user_id=admin.id, name="Work laptop", credential_id=secrets.token_urlsafe(32),
                      public_key=b"\xa5\x01\x02", transports="internal")
    db.session.add(passkey)
    db.session.execute(update(LoginSession).where(LoginSession.user_id == admin.id).values(second_factor="totp"))
    db.session.commit()
    world.passkey_id = passkey.id


def password_link(world: World, reset: bool) -> str:
    """A fresh one-time link for the agent (single use: each browser opens its own)."""
    agent = world.user("agent")
    if reset:
        _user, token = request_password_reset(agent.email, 30)
        path = f"/reset-password/{token}"
    else:
        path = f"/set-password/{issue_password_link(None, agent, 24)}"
    db.session.commit()
    return path


def set_language(world: World, language: str) -> None:
    """Every crawled person reads `language` from their next request on."""
    for person in db.session.scalars(select(User).where(User.id.in_(world.users.values()))):
        person.language = language
    db.session.commit()


# ---- how the agent earns the award ---------------------------------------------------------

def _certify(agent: User, slug: str) -> Award:
    """The agent reads every lesson and passes every quiz of the programme with the key, as a person would."""
    programme = db.session.scalar(select(Programme).where(Programme.slug == slug))
    spec = programme.current_version.spec
    for slug in (r["course"] for r in spec["requirements"] if "course" in r):
        version = db.session.scalar(select(Course).where(Course.slug == slug)).current_version
        for lesson in version.lessons:
            complete_lesson(agent, version, lesson)
    passed = set(db.session.scalars(select(Quiz.slug).join(Attempt, Attempt.quiz_id == Quiz.id)
                                    .where(Attempt.user_id == agent.id, Attempt.passed.is_(True))))
    for slug in (r["quiz"] for r in spec["requirements"] if "quiz" in r and r["quiz"] not in passed):
        attempt = assessment.start_attempt(agent, db.session.scalar(select(Quiz).where(Quiz.slug == slug)),
                                           random.Random(3))
        for position in range(1, len(attempt.draw) + 1):
            _answer_with_the_key(agent, attempt, position)
        assessment.submit(agent, attempt)
    db.session.flush()
    return db.session.scalars(select(Award).where(Award.user_id == agent.id,
                                                  Award.programme_id == programme.id)).one()


def _answer_with_the_key(agent: User, attempt: Attempt, position: int) -> None:
    item, _shown = assessment.item_at(attempt, position)
    kind = item["type"]
    if kind == "call_simulation":  # the best reply at each step, until the call ends
        path: list[str] = []
        while not (node := REGISTRY[kind].walk(item, path)[1]).get("end"):
            best = max(node["choices"], key=lambda choice: choice["score"])["id"]
            assessment.save_answer(agent, attempt, position, MultiDict({"option": best, "action": "say"}))
            path.append(best)
        return
    if kind == "ordering":
        form = MultiDict({f"position-{oid}": str(item["correct"].index(oid) + 1) for oid in item["correct"]})
    elif kind == "multiple_response":
        form = MultiDict([("option", oid) for oid in item["correct"]])
    elif kind == "true_false":
        form = MultiDict({"option": "true" if item["correct"] else "false"})
    else:
        form = MultiDict({"option": item["correct"]})
    assessment.save_answer(agent, attempt, position, form)


def _finished_export(person: User, organisation_id: int) -> Job:
    """An export as the export page requests it, finished with its file: its certificates are not
    rendered (seconds of WeasyPrint for a page the crawl reads the same either way)."""
    job = request_export(person, "certificates_zip", organisation_id)
    data = b"PK\x05\x06" + bytes(18)  # an empty ZIP archive
    job.state, job.attempts, job.progress_done, job.progress_total = JobState.SUCCEEDED, 1, 1, 1
    job.started_at = job.finished_at = now()
    db.session.add(JobFile(job_id=job.id, name=f"certificates-{job.id}.zip", media_type="application/zip",
                           data=data, sha256=hashlib.sha256(data).hexdigest(), size=len(data)))
    return job


def _seed_drawing_every_type(spec: dict) -> int:
    """A seed whose draw holds a question of every type the quiz has (the draw is random per phase)."""
    types = {item["type"] for item in spec["questions"]}
    by_id = assessment.items_by_id(spec)
    return next(seed for seed in range(1000)
                if {by_id[entry["item"]]["type"] for entry in assessment.draw_items(spec, random.Random(seed))} == types)


def _last_attempt(agent: User) -> int:
    return db.session.scalar(select(Attempt.id).where(Attempt.user_id == agent.id).order_by(Attempt.id.desc()))


def _first_job_aid() -> str:
    return db.session.scalar(select(JobAid.slug).order_by(JobAid.slug).limit(1))
