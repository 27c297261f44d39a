"""GDPR Art. 15 access, "My data": what the ZIP holds, that it holds nobody else, who may download
whose, the audit event of each download and a fixed number of queries.

The subject is an agent with a real history (lessons, two attempts with answers, an award
revoked by a trainer, a second award, both certificates stored, reminders, sessions, second
factors); a trainer, an admin and another agent act around her with distinctive names,
e-mails and addresses that must not reach her copy.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import LoginSession, OrganisationKind, Role
from lms.assessment.models import Answer, Attempt, AttemptStatus
from lms.audit.models import AuditEvent
from lms.audit.services import record
from lms.certification import services as certification
from lms.certification.models import Award
from lms.clock import now
from lms.evidence.certificates import certificate_for
from lms.evidence.models import Certificate
from lms.evidence.signing import verify_pdf_signature
from lms.extensions import db
from lms.mfa.models import Passkey, RecoveryCode, TotpFactor
from lms.privacy.access import person_data
from lms.privacy.processing import article_15_information
from lms.reminders.models import Message, MessageKind
from tests import factories
from tests.assessment.conftest import best_form, worst_form
from tests.certification.conftest import at, content, make_programme  # noqa: F401 (fixtures)
from tests.certification.test_cycle import _read_course, _take_quiz
from tests.certification.test_scale import counting
from tests.conftest import login
from tests.evidence.test_transcript import pdf_text, signing_key  # noqa: F401 (fixture)

AGENT_IP = "192.0.2.44"
# Everything that identifies someone other than the subject; none of it may be in her copy.
TRAINER = {"name": "Zebulon Quartermaine", "email": "zebulon.q@northwind-training.example", "ip": "203.0.113.66"}
ADMIN = {"name": "Ottoline Featherstonehaugh", "email": "ottoline.f@northwind-admin.example", "ip": "198.51.100.23"}
OTHER = {"name": "Bartholomew Ickenham", "email": "bart.ickenham@atlas.example", "ip": "203.0.113.199"}
TOTP_SECRET = "ENCRYPTED-TOTP-SECRET-7f3a"


def _as_request_from(app: Flask, ip: str):
    """A request context from `ip`: audit events recorded inside it keep that address."""
    return app.test_request_context(environ_base={"REMOTE_ADDR": ip})


@pytest.fixture
def subject(app, content, at, signing_key):
    """Yasmine, an agent of Atlas Care, with a history; the staff and a colleague around her."""
    client_org = factories.organisation("Northwind Client", OrganisationKind.CLIENT, "IE")
    partner = factories.organisation("Atlas Care")
    trainer = factories.user(Role.TRAINER, client_org, name=TRAINER["name"], email=TRAINER["email"])
    admin = factories.user(Role.ADMIN, client_org, name=ADMIN["name"], email=ADMIN["email"])
    other = factories.user(Role.AGENT, partner, name=OTHER["name"], email=OTHER["email"])
    with _as_request_from(app, ADMIN["ip"]):
        agent = accounts.create_user(admin, accounts.UserData(
            email="yasmine@atlas.example", name="Yasmine El Idrissi", role=Role.AGENT, organisation_id=partner.id))
        agent.password_hash = other.password_hash  # the factories' password, so she can sign in
        accounts.issue_password_link(admin, agent, hours=24)
    programme = make_programme()
    certification.assign(None, programme, organisation_id=partner.id, due_days=14)
    _read_course(agent)
    db.session.commit()
    with _as_request_from(app, AGENT_IP):
        _take_quiz(agent, content, worst_form)  # a failed attempt first
        at(now() + timedelta(hours=2))  # after the wait between attempts
        _take_quiz(agent, content, best_form)
    with _as_request_from(app, OTHER["ip"]):
        _take_quiz(other, content, best_form)
    first = db.session.scalars(select(Award).where(Award.user_id == agent.id)).one()
    certificate_for(first, actor=agent)
    with _as_request_from(app, TRAINER["ip"]):
        certification.revoke(trainer, first, "Answers shared in a team chat")
    db.session.commit()
    at(now() + timedelta(days=2))
    with _as_request_from(app, AGENT_IP):
        _read_course(agent)  # and certified again
        _take_quiz(agent, content, best_form)
    second = db.session.scalars(select(Award).where(Award.user_id == agent.id, Award.id != first.id)).one()
    with _as_request_from(app, ADMIN["ip"]):
        certificate_for(second, actor=admin)  # the admin's download issued it
    db.session.add_all([
        LoginSession(token_hash="5e55" * 16, user_id=agent.id, second_factor="totp", user_agent="Mozilla/5.0 (Pixel 8)",
                     expires_at=now() + timedelta(days=1), idle_expires_at=now() + timedelta(hours=1)),
        Message(kind=MessageKind.OVERDUE, recipient=agent.email, subject="Your training is overdue",
                body="Hello Yasmine El Idrissi,\nYour training was due on 19 Jan 2026.\n", dedupe_key="overdue:y:1",
                sent_at=now()),
        # A partner's digest that went to her address: it lists other agents, so its text stays out.
        Message(kind=MessageKind.DIGEST, recipient=agent.email, subject="Weekly digest: Atlas Care",
                body=f"Overdue: {OTHER['name']} <{OTHER['email']}>\n", dedupe_key="digest:atlas:1", sent_at=now()),
        Message(kind=MessageKind.OVERDUE, recipient=OTHER["email"], subject="Your training is overdue (Bart)",
                body=f"Hello {OTHER['name']}", dedupe_key="overdue:b:1", sent_at=now()),
    ])
    with _as_request_from(app, OTHER["ip"]):
        record("auth.login", actor=other)
    db.session.commit()
    return {"agent": agent, "trainer": trainer, "admin": admin, "other": other, "first": first, "second": second}


def _open(response) -> tuple[zipfile.ZipFile, dict]:
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    return archive, json.loads(archive.read("my-data.json"))


def _summary_text(archive: zipfile.ZipFile, tmp_path: Path) -> str:
    path = tmp_path / "summary.pdf"
    path.write_bytes(archive.read("summary.pdf"))
    return pdf_text(path)


def test_the_agent_downloads_everything_held_about_her(app, subject, client, login_as, tmp_path):
    agent, first, second = subject["agent"], subject["first"], subject["second"]
    login_as(agent)
    # Set up once she is signed in (with them, signing in takes a second step).
    db.session.add_all([
        TotpFactor(user_id=agent.id, secret_encrypted=TOTP_SECRET, confirmed_at=now()),
        RecoveryCode(user_id=agent.id, code_hash="c0de" * 16),
        Passkey(user_id=agent.id, name="Yasmine's phone", credential_id="cred-yasmine", public_key=b"\x01\x02"),
    ])
    db.session.commit()
    page = client.get("/account/my-data").get_data(as_text=True)
    assert 'href="/account/my-data.zip"' in page and "Download my data (ZIP)" in page
    assert 'href="/account/my-data"' in client.get("/account/security").get_data(as_text=True)

    response = client.get("/account/my-data.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == f'attachment; filename="my-data-{now():%Y-%m-%d}.zip"'
    archive, data = _open(response)
    stored = {award_id: pdf for award_id, pdf in db.session.execute(select(Certificate.award_id, Certificate.pdf))}
    assert sorted(archive.namelist()) == sorted(["my-data.json", "summary.pdf",
                                                 f"certificates/{first.verification_code}.pdf",
                                                 f"certificates/{second.verification_code}.pdf"])
    assert archive.read(f"certificates/{first.verification_code}.pdf") == stored[first.id]
    assert archive.read(f"certificates/{second.verification_code}.pdf") == stored[second.id]

    assert data["account"] | {"created_at": None} == {
        "id": agent.id, "name": "Yasmine El Idrissi", "email": "yasmine@atlas.example", "role": "agent",
        "organisation": "Atlas Care", "employee_id": None, "team": None, "audit_scope": None, "created_at": None, "active": True, "deactivated_at": None,
        "password_set": True}
    assert data["organisation"] == {"name": "Atlas Care", "kind": "Outsourcing partner", "country": "PT"}
    assert data["requested_by"] == "you"
    assert data["information"] == json.loads(json.dumps(article_15_information(app.config)))

    # Sessions: the fixture's phone and this client's sign-in; no token hash.
    agents = [s["user_agent"] for s in data["sign_in_sessions"]]
    assert "Mozilla/5.0 (Pixel 8)" in agents and len(agents) == 2
    assert {s["second_factor"] for s in data["sign_in_sessions"]} == {"totp", None}
    raw = archive.read("my-data.json").decode()
    assert "5e55" * 16 not in raw and "token_hash" not in raw
    assert {f["kind"] for f in data["second_factors"]} == {"authenticator app (TOTP)", "passkey",
                                                          "recovery codes (1, 0 used)"}
    assert TOTP_SECRET not in raw and "c0de" * 16 not in raw and "cred-yasmine" not in raw
    assert data["password_links"][0]["issued_by"] == {"role": "admin", "organisation": "Northwind Client"}

    lessons = {row["lesson"] for row in data["lesson_progress"]}
    assert len(lessons) == len(data["lesson_progress"]) > 0
    # Every attempt, with each question drawn and her own answer as stored.
    attempts = db.session.scalars(select(Attempt).where(Attempt.user_id == agent.id).order_by(Attempt.id)).all()
    assert [a["id"] for a in data["attempts"]] == [a.id for a in attempts]
    assert [a["passed"] for a in data["attempts"]] == [False, True, True]
    stored_answers = db.session.scalars(select(Answer).join(Attempt).where(Attempt.user_id == agent.id)).all()
    exported = {(a["id"], q["position"]): q for a in data["attempts"] for q in a["answers"]}
    assert len(exported) == len(stored_answers) == data["counts"]["answers"]
    for answer in stored_answers:
        entry = exported[(answer.attempt_id, answer.position)]
        assert entry["response"] == answer.response and entry["earned"] == answer.earned
        assert entry["question"] and entry["your_answer"] not in (None, [], "")
    assert '"correct"' not in raw and '"feedback"' not in raw  # the answer key is the quiz's, not hers

    awards = {a["id"]: a for a in data["awards"]}
    assert awards[first.id]["revocation"]["reason"] == "Answers shared in a team chat"
    assert awards[first.id]["revocation"]["revoked_by"] == {"role": "trainer", "organisation": "Northwind Client"}
    assert awards[second.id]["revocation"] is None and awards[second.id]["status"] == "valid"
    assert awards[second.id]["certificate"] == {
        "file": f"certificates/{second.verification_code}.pdf",
        "sha256": hashlib.sha256(stored[second.id]).hexdigest()}

    emails = {m["subject"]: m for m in data["emails"]}
    assert set(emails) == {"Your training is overdue", "Weekly digest: Atlas Care"}
    assert "due on 19 Jan 2026" in emails["Your training is overdue"]["body"]
    assert emails["Weekly digest: Atlas Care"]["body"] is None

    events = data["audit_events"]
    created = next(e for e in events if e["action"] == "user.created")
    assert created["by"] == {"role": "admin", "organisation": "Northwind Client"} and created["target"] == "you"
    assert created["ip"] is None
    started = [e for e in events if e["action"] == "attempt.started"]
    assert len(started) == 3 and all(e["by"] == "you" and e["ip"] == AGENT_IP for e in started)
    revoked = next(e for e in events if e["action"] == "award.revoked")
    assert revoked["by"]["role"] == "trainer" and revoked["target"] == {"type": "award", "id": str(first.id)}
    assert any(e["action"] == "auth.login" and e["by"] == "you" for e in events)  # this client's sign-in

    text = _summary_text(archive, tmp_path)
    assert "Yasmine El Idrissi" in text and "yasmine@atlas.example" in text and "Atlas Care" in text
    assert "Answers shared in a team chat" in text and "Revoked" in text and "by trainer, Northwind Client" in text
    assert first.verification_code in text and "Your training is overdue" in text and AGENT_IP in text
    assert data["information"]["controller"]["name"] in text and "Art. 6(1)(f)" in text
    assert data["attempts"][0]["answers"][0]["question"][:30] in text
    check = verify_pdf_signature(archive.read("summary.pdf"), [app.config["SIGNING_CERT_PATH"].read_bytes()])
    assert check.valid, check.reason


def test_the_copy_names_no_one_else(app, subject, client, login_as, tmp_path):
    """The trainer, the admin and a colleague acted around her: none of their names, e-mails or
    addresses reach her copy, in the JSON or in the summary."""
    login_as(subject["agent"])
    archive, data = _open(client.get("/account/my-data.zip"))
    raw = archive.read("my-data.json").decode()
    text = _summary_text(archive, tmp_path)
    for person in (TRAINER, ADMIN, OTHER):
        for value in person.values():
            assert value not in raw, value
            assert value not in text, value
    # They are there as what they are: a trainer and an admin of the client company.
    assert "trainer, Northwind Client" in text and "admin, Northwind Client" in text
    # Not even by id: the colleague's attempts and events are not in it.
    other_attempts = {str(a) for a in db.session.scalars(select(Attempt.id).where(Attempt.user_id == subject["other"].id))}
    assert not any(e["target"] not in (None, "you") and e["target"].get("id") in other_attempts
                   for e in data["audit_events"])


def test_an_admin_downloads_it_for_the_person_in_one_click(app, subject):
    agent, admin = subject["agent"], subject["admin"]
    client = app.test_client()
    login(client, admin.email, factories.PASSWORD)
    page = client.get(f"/people/{agent.id}").get_data(as_text=True)
    link = f'href="/people/{agent.id}/my-data.zip"'
    assert link in page
    response = client.get(f"/people/{agent.id}/my-data.zip")
    assert response.status_code == 200
    archive, data = _open(response)
    assert data["account"]["email"] == "yasmine@atlas.example"
    assert data["requested_by"] == {"role": "admin", "organisation": "Northwind Client"}
    assert ADMIN["name"] not in archive.read("my-data.json").decode()
    # The download is an audit event with the ZIP's fingerprint and what it held, nothing personal.
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.access_exported")).one()
    assert event.actor_id == admin.id and (event.target_type, event.target_id) == ("user", str(agent.id))
    assert event.data["sha256"] == hashlib.sha256(response.data).hexdigest() == response.headers["X-Content-SHA256"]
    assert event.data["by_self"] is False
    assert event.data["counts"]["attempts"] == 3 and event.data["counts"]["certificates"] == 2
    assert "yasmine" not in json.dumps(event.data).lower()
    assert client.get("/people/999999/my-data.zip").status_code == 404


def test_nobody_else_gets_her_data(app, subject):
    agent = subject["agent"]
    trainer_page = app.test_client()
    login(trainer_page, subject["trainer"].email, factories.PASSWORD)
    assert f"/people/{agent.id}/my-data.zip" not in trainer_page.get(f"/people/{agent.id}").get_data(as_text=True)
    people = {
        "another agent": subject["other"],
        "a trainer": subject["trainer"],
        "a company-wide auditor": factories.user(Role.AUDITOR),
    }
    db.session.commit()
    for label, person in people.items():
        client = app.test_client()
        login(client, person.email, factories.PASSWORD)
        response = client.get(f"/people/{agent.id}/my-data.zip")
        assert response.status_code in (403, 404), label
        assert not response.data.startswith(b"PK"), label
        # Their own download is their own data.
        own = client.get("/account/my-data.zip")
        assert own.status_code == 200, label
        own_data = _open(own)[1]
        assert own_data["account"]["id"] == person.id, label
        assert "yasmine" not in json.dumps(own_data).lower(), label
    assert app.test_client().get("/account/my-data.zip").status_code == 302  # signed out: to sign in
    exported = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.access_exported")).all()
    assert {(e.actor_id, e.target_id) for e in exported} == {(p.id, str(p.id)) for p in people.values()}


def test_the_number_of_queries_does_not_grow_with_the_record(app, subject):
    agent, trainer = subject["agent"], subject["trainer"]
    first = db.session.scalars(select(Attempt).where(Attempt.user_id == agent.id)).first()
    answers = db.session.scalars(select(Answer).where(Answer.attempt_id == first.id)).all()

    def count() -> tuple[int, dict]:
        db.session.expire_all()
        with counting() as statements:
            data = person_data(agent, requested_by=agent, config=app.config)
        return len(statements), data

    small, before = count()
    for n in range(8):
        attempt = Attempt(user_id=agent.id, quiz_id=first.quiz_id, quiz_version_id=first.quiz_version_id,
                          status=AttemptStatus.SUBMITTED, started_at=first.started_at + timedelta(days=n + 1),
                          finished_at=first.started_at + timedelta(days=n + 1, minutes=9), draw=first.draw,
                          percent=40, passed=False, phase_scores=first.phase_scores)
        db.session.add(attempt)
        db.session.flush()
        db.session.add_all([Answer(attempt_id=attempt.id, position=a.position, item_id=a.item_id, response=a.response,
                                   saved_at=a.saved_at, earned=a.earned, possible=a.possible) for a in answers])
        db.session.add(LoginSession(token_hash=f"{n:064d}", user_id=agent.id, user_agent=f"Browser {n}",
                                    expires_at=now(), idle_expires_at=now()))
        db.session.add(Message(kind=MessageKind.OVERDUE, recipient=agent.email, subject=f"Overdue {n}", body="x",
                               dedupe_key=f"overdue:more:{n}"))
        record("auth.login", actor=agent, ip=AGENT_IP)
        record("user.password_link_issued", actor=trainer, target=agent)
    db.session.commit()
    large, after = count()
    assert large == small
    assert after["counts"]["attempts"] == before["counts"]["attempts"] + 8
    assert after["counts"]["answers"] == before["counts"]["answers"] + 8 * len(answers)
    assert after["counts"]["audit_events"] == before["counts"]["audit_events"] + 16
