"""The small named demo for `make run`: organisations, logins, a certified agent and an API key.

Development only (devtools/ is not part of the product): `flask --app wsgi lms demo` calls these.
Everything goes through the product's services, so the demo shows what the product does:

- `ensure_demo_accounts` creates the named organisations and logins (idempotent: found by name
  and e-mail, never duplicated) and assigns them programmes;
- `certify_demo_agent` has the demo agent read every lesson and pass every quiz of their
  programme the way a person would (learning and assessment services), so certification issues
  a real award, with its Open Badges credential and certificate (award_issued's subscribers);
- `demo_api_key` creates (or rotates) a read-only clearance key and returns its token once.
"""
from __future__ import annotations

import functools
import random

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from lms.accounts import services as accounts
from lms.accounts.models import Organisation, OrganisationKind, ProgrammeAvailability, Role, User
from lms.accounts.passwords import hash_password
from lms.api.keys import create_key, rotate_key
from lms.api.models import ApiKey
from lms.assessment import services as assessment
from lms.question_types import REGISTRY
from lms.certification.models import Assignment, Award, Enrolment, Programme
from lms.certification.services import assign
from lms.extensions import db
from lms.learning.models import Course, Quiz
from lms.learning.services import complete_lesson

DEMO_PASSWORD = "callsafe-demo-2026"

ORGANISATIONS = [
    ("Northwind Utilities", OrganisationKind.CLIENT, "IE", "", "privacy@northwind.example"),
    ("Lisboa Contact Services", OrganisationKind.PARTNER, "PT", "DPA-2025-014", "compliance@lisboacs.example"),
    ("Atlas Customer Care", OrganisationKind.PARTNER, "MA", "DPA-2025-022 (SCC module 2)", "dpo@atlascare.example"),
]

# (e-mail, name, role, organisation, auditor scope)
PEOPLE = [
    ("admin@northwind.example", "Aoife Byrne", Role.ADMIN, "Northwind Utilities", None),
    ("trainer@northwind.example", "Tomás Walsh", Role.TRAINER, "Northwind Utilities", None),
    ("auditor@northwind.example", "Fiona Keane", Role.AUDITOR, "Northwind Utilities", None),
    ("auditor@atlascare.example", "Karim Benali", Role.AUDITOR, "Northwind Utilities", "Atlas Customer Care"),
    ("agent@northwind.example", "Niamh Doyle", Role.AGENT, "Northwind Utilities", None),
    ("sean@northwind.example", "Seán Murphy", Role.AGENT, "Northwind Utilities", None),
    ("agent@lisboacs.example", "Inês Carvalho", Role.AGENT, "Lisboa Contact Services", None),
    ("rui@lisboacs.example", "Rui Costa", Role.AGENT, "Lisboa Contact Services", None),
    ("agent@atlascare.example", "Yasmine El Idrissi", Role.AGENT, "Atlas Customer Care", None),
    ("omar@atlascare.example", "Omar Tazi", Role.AGENT, "Atlas Customer Care", None),
    # Delegated administration: manages Atlas's agents and nobody else's (#15).
    ("admin@atlascare.example", "Salma Ouazzani", Role.PARTNER_ADMIN, "Atlas Customer Care", None),
]

# Employee ids and teams of some demo agents, so the dashboard's team filter has something to show.
DEMO_TEAMS = {
    "agent@atlascare.example": ("AT-1001", "Billing"), "omar@atlascare.example": ("AT-1002", "Home moves"),
    "agent@lisboacs.example": ("LX-201", "Billing"), "rui@lisboacs.example": ("LX-202", "Billing"),
}

# Demo agents who read the academy in their own language, to show the translated content (#19).
DEMO_LANGUAGES = {"rui@lisboacs.example": "pt", "omar@atlascare.example": "ar"}

# Programmes the client company has made available to each partner's partner admins to assign.
DEMO_AVAILABILITY = [("agent-certification", "Atlas Customer Care"), ("partner-onboarding", "Atlas Customer Care")]


@functools.cache
def demo_password_hash() -> str:
    """One Argon2 hash of the demo password per process (Argon2 is slow on purpose)."""
    return hash_password(DEMO_PASSWORD)


def ensure_demo_accounts() -> list[User]:
    """Create whatever demo organisation or account is missing; return all demo users."""
    orgs: dict[str, Organisation] = {
        o.name: o for o in db.session.scalars(select(Organisation).where(
            Organisation.name.in_([name for name, *_ in ORGANISATIONS])))
    }
    for name, kind, country, contract, contact in ORGANISATIONS:
        if name not in orgs:
            orgs[name] = accounts.save_organisation(None, accounts.OrganisationData(
                name=name, kind=kind, country=country, contract_reference=contract, contact_email=contact))
    existing = {u.email: u for u in db.session.scalars(select(User).where(
        User.email.in_([email for email, *_ in PEOPLE])))}
    users = []
    for email, name, role, org_name, scope in PEOPLE:
        user = existing.get(email)
        if user is None:
            employee_id, team = DEMO_TEAMS.get(email, (None, None))
            user = accounts.create_user(None, accounts.UserData(
                email=email, name=name, role=role, organisation_id=orgs[org_name].id,
                scope_organisation_id=orgs[scope].id if scope else None, employee_id=employee_id, team=team))
            user.password_hash = demo_password_hash()
            user.language = DEMO_LANGUAGES.get(email)
        users.append(user)
    db.session.flush()
    _assign_demo_programmes(orgs)
    return users


# Which loaded programmes each demo organisation must complete, due N days after assignment.
DEMO_ASSIGNMENTS = [
    ("agent-certification", "Northwind Utilities", 30), ("agent-certification", "Lisboa Contact Services", 30),
    ("agent-certification", "Atlas Customer Care", 30), ("recording-and-payments", "Northwind Utilities", 45),
    ("partner-onboarding", "Lisboa Contact Services", 21), ("partner-onboarding", "Atlas Customer Care", 21),
]


def _assign_demo_programmes(orgs: dict[str, Organisation]) -> None:
    """Give the demo agents something to do; skipped for programmes not loaded, never duplicated."""
    programmes = {p.slug: p for p in db.session.scalars(select(Programme).where(Programme.archived_at.is_(None)))}
    done = set(db.session.execute(select(Assignment.programme_id, Assignment.organisation_id)).all())
    for slug, org_name, days in DEMO_ASSIGNMENTS:
        programme = programmes.get(slug)
        if programme is not None and (programme.id, orgs[org_name].id) not in done:
            assign(None, programme, organisation_id=orgs[org_name].id, due_days=days)
    available = set(db.session.execute(select(ProgrammeAvailability.programme_id,
                                              ProgrammeAvailability.organisation_id)).all())
    for slug, org_name in DEMO_AVAILABILITY:
        programme = programmes.get(slug)
        if programme is not None and (programme.id, orgs[org_name].id) not in available:
            db.session.add(ProgrammeAvailability(programme_id=programme.id, organisation_id=orgs[org_name].id))


DEMO_AGENT = "agent@northwind.example"
DEMO_PROGRAMME = "agent-certification"
API_KEY_NAME = "Demo clearance key (flask lms demo)"


def certify_demo_agent() -> Award | None:
    """The demo agent reads and passes their programme as a person would; the award it earns.

    Returns the agent's current award if they already hold one, and None when the programme is not
    loaded. Flushes; the caller commits, which also runs the jobs the award queued (its certificate).
    """
    agent = db.session.scalar(select(User).where(User.email == DEMO_AGENT))
    enrolment = db.session.scalar(select(Enrolment).join(Programme).where(
        Enrolment.user_id == agent.id, Programme.slug == DEMO_PROGRAMME)) if agent else None
    if enrolment is None or enrolment.programme.current_version is None:
        return None
    if enrolment.current_award is not None:
        return enrolment.current_award
    requirements = enrolment.programme.current_version.spec["requirements"]
    for slug in (r["course"] for r in requirements if "course" in r):
        version = db.session.scalar(select(Course).where(Course.slug == slug)).current_version
        for lesson in version.lessons:
            complete_lesson(agent, version, lesson)
    for slug in (r["quiz"] for r in requirements if "quiz" in r):
        _pass_quiz(agent, db.session.scalar(select(Quiz).where(Quiz.slug == slug)))
    db.session.flush()
    db.session.refresh(enrolment)
    return enrolment.current_award


def _pass_quiz(agent: User, quiz: Quiz) -> None:
    """One attempt answered with the key (a simulation: the best reply at each step), then submitted."""
    attempt = assessment.start_attempt(agent, quiz, random.Random(2026))
    for position in range(1, len(attempt.draw) + 1):
        while True:  # a call simulation takes one reply per step
            item, _shown = assessment.item_at(attempt, position)
            answer = assessment.answers_by_position(attempt).get(position)
            response = answer.response if answer else None
            if item["type"] == "call_simulation" and response and \
                    assessment.question_type(item).answered(item, response):
                break
            assessment.save_answer(agent, attempt, position, MultiDict(_best_answer(item, response)))
            if item["type"] != "call_simulation":
                break
    assessment.submit(agent, attempt)


def _best_answer(item: dict, response) -> dict:
    """The form a person who knows the key sends."""
    kind = item["type"]
    if kind == "single_choice":
        return {"option": item["correct"]}
    if kind == "true_false":
        return {"option": "true" if item["correct"] else "false"}
    if kind == "multiple_response":
        return {"option": list(item["correct"])}
    if kind == "ordering":
        return {f"position-{oid}": str(item["correct"].index(oid) + 1) for oid in item["correct"]}
    _, node = REGISTRY["call_simulation"].walk(item, list(response or []))
    return {"option": max(node["choices"], key=lambda c: c["score"])["id"], "action": "say"}


def demo_api_key() -> tuple[ApiKey, str]:
    """A company-wide clearance:read key and its token, created by the demo admin.

    Its secret is stored hashed like any key's, so a later run cannot show it again: it rotates
    the key instead, and the old token stops working.
    """
    admin = db.session.scalar(select(User).where(User.email == "admin@northwind.example"))
    key = db.session.scalar(select(ApiKey).where(ApiKey.name == API_KEY_NAME, ApiKey.revoked_at.is_(None)))
    if key is None:
        return create_key(admin, API_KEY_NAME, ["clearance:read"], organisation=None)
    return key, rotate_key(admin, key)
