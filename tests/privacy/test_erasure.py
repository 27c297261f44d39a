"""Erasure under a pseudonym (Art. 17): a dry run first, then a job; afterwards nothing in the
database, the files or the log names the person, and their evidence and every proof still verify."""
from __future__ import annotations

import io
import json
import logging
import re

import pytest
from sqlalchemy import select, text

from lms.accounts.models import LoginSession, Role, User
from lms.pseudonyms import pseudonym
from lms.audit.models import AuditEvent, ProbeTally
from lms.audit.sealing import seal
from lms.audit.services import head, record
from lms.audit.verify import verify
from lms.certification import services as certification
from lms.certification.models import Award
from lms.clock import now
from lms.evidence.models import Certificate
from lms.evidence.pack import build_pack
from lms.extensions import db
from lms.jobs.models import Job, JobFile, JobState
from lms.privacy.breaches import Breach
from lms.privacy.requests import DataRequest, Right
from lms.reminders.models import Message, MessageKind
from tests import factories
from tests.assessment.conftest import best_form
from tests.certification.conftest import at, content  # noqa: F401 (fixtures)
from tests.certification.test_cycle import _take_quiz
from tests.conftest import csrf_token, login
from tests.evidence.test_transcript import certify, signing_key  # noqa: F401 (fixture)

NAME, EMAIL = "Yasmine El Idrissi", "yasmine.elidrissi@atlas.example"
IP = "203.0.113.77"


@pytest.fixture
def person(app, content, at, signing_key, client):
    """An agent with everything a person leaves behind: sessions, a failed sign-in, a passed quiz and
    a downloaded certificate, a revoked award whose reason names her, e-mails to her and about her,
    probe counters and an export file of her organisation."""
    partner = factories.organisation("Atlas Care")
    admin = factories.user(Role.ADMIN, email="admin@northwind.example", name="Aoife Byrne")
    agent = certify(partner, name=NAME, email=EMAIL)["agent"]
    _take_quiz(agent, content, best_form)
    first = db.session.scalars(select(Award).where(Award.user_id == agent.id)).one()
    current = certification.reissue(admin, first)  # the first award is revoked as "re-issued"
    first.revoke_reason = f"re-issued for {NAME} <{EMAIL}>"  # free text that names her
    db.session.commit()
    login(client, EMAIL, "wrong password")  # a failed sign-in with her address
    client.environ_base["REMOTE_ADDR"] = IP
    assert login(client, EMAIL, factories.PASSWORD).status_code == 302
    kept_copy = client.get(f"/awards/{current.id}/certificate.pdf").data
    assert kept_copy.startswith(b"%PDF")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    client.environ_base.pop("REMOTE_ADDR")
    db.session.add_all([
        Message(kind=MessageKind.DUE_SOON, recipient=EMAIL, subject="Due soon", body=f"Hello {NAME}",
                dedupe_key="due:1", created_at=now(), sent_at=now(), attempts=1),
        Message(kind=MessageKind.DIGEST, recipient="contact@atlas.example", subject="Overdue agents",
                body=f"- {NAME} <{EMAIL}>\n- Someone Else <else@atlas.example>", dedupe_key="digest:1",
                created_at=now(), attempts=0),
        ProbeTally(kind="not_found", route="certification.person", actor_key=f"user:{agent.id}", actor_id=agent.id,
                   ip=IP, minute=now(), count=3, first_path="/people/1"),
    ])
    job = Job(kind="evidence_pack", params={}, requested_by_id=admin.id, organisation_id=partner.id,
              state=JobState.SUCCEEDED, finished_at=now())
    db.session.add(job)
    db.session.flush()
    db.session.add(JobFile(job_id=job.id, name="roster.csv", media_type="text/csv", data=f"{NAME},{EMAIL}".encode(),
                           sha256="0" * 64, size=10))
    db.session.add(DataRequest(user_id=agent.id, right=Right.ERASURE, received_at=now(), due_at=now(),
                               identity_check=f"Mail from {EMAIL}, signed {NAME.upper()}", recorded_by_id=admin.id))
    db.session.add(Breach(title=f"Laptop of {NAME} stolen", aware_at=now(), recorded_by_id=admin.id,
                          facts=f"Reported by {EMAIL}; the laptop held call notes."))
    record("user.updated", actor=admin, target=agent, subject_label=EMAIL)
    db.session.commit()
    seal()
    return {"agent": agent, "admin": admin, "partner": partner, "award": current, "kept_copy": kept_copy}


def _dump() -> str:
    """Every row of every table as text (bytes decoded loosely): what a search of a database dump sees."""
    parts = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()):
            parts.extend(value.decode("latin-1") if isinstance(value, bytes) else str(value) for value in row)
    return "\n".join(parts)


def test_the_dry_run_lists_what_goes_and_what_stays_and_changes_nothing(app, person, client, login_as):
    agent = person["agent"]
    login_as(person["admin"])
    before = _dump()
    html = client.get(f"/people/{agent.id}/erase").get_data(as_text=True)
    assert "This is a dry run: nothing has changed yet" in html and f"Agent {pseudonym(agent.id)}" in html
    rows = dict(re.findall(r"<tr><td>([^<]+)</td><td class=\"numeric\">(\d+)</td>", html))
    assert rows["Sign-in sessions (times, browser)"] == "1"
    assert rows["E-mails sent to them"] == "1" and rows["Mentions in e-mails to others (weekly digests)"] == "1"
    assert rows["Stored certificate PDFs (they print the name)"] == "1"
    assert int(rows["Personal fields of audit events (who, from which address, about whom)"]) >= 4
    assert int(rows["Quiz attempts, answers and scores"]) > 1
    assert "Art. 17(3)(b) and (e)" in html
    assert _dump() == before


def test_erasure_leaves_no_trace_of_the_person_and_every_proof_still_verifies(app, person, client, login_as,
                                                                              caplog):
    agent, admin = person["agent"], person["admin"]
    assert NAME in _dump() and EMAIL in _dump() and IP in _dump()
    kept_head = head()
    attempts_before = db.session.scalar(text("SELECT count(*) FROM attempt"))
    login_as(admin)
    form = {"csrf_token": csrf_token(client, f"/people/{agent.id}/erase"), "reference": "DSR-2026/041",
            "confirm": "y"}
    with caplog.at_level(logging.DEBUG):
        response = client.post(f"/people/{agent.id}/erase", data=form)
    assert response.status_code == 302 and "/exports/" in response.headers["Location"]
    db.session.expire_all()  # the job ran in its own session
    job = db.session.scalars(select(Job).where(Job.kind == "erasure")).one()
    assert job.state is JobState.SUCCEEDED, job.error

    # Nothing in the database, the logs or the report names her; her evidence stays.
    dump = _dump()
    for trace in (NAME, EMAIL, IP, "Yasmine", "elidrissi"):
        assert trace.lower() not in dump.lower(), trace
        assert trace.lower() not in caplog.text.lower(), trace
    erased = db.session.get(User, agent.id)
    assert erased.name == f"Agent {pseudonym(agent.id)}" and erased.email.endswith("@erased.invalid")
    assert erased.erased_at is not None and not erased.active and erased.password_hash is None
    assert db.session.scalar(select(LoginSession.id).where(LoginSession.user_id == agent.id)) is None
    assert db.session.scalar(text("SELECT count(*) FROM attempt")) == attempts_before
    certificate = db.session.scalars(select(Certificate).where(Certificate.award_id == person["award"].id)).one()
    assert certificate.pdf is None and len(certificate.sha256) == 64
    digest = db.session.scalars(select(Message).where(Message.dedupe_key == "digest:1")).one()
    assert f"Agent {pseudonym(agent.id)}" in digest.body and "Someone Else <else@atlas.example>" in digest.body
    assert db.session.scalar(select(JobFile.id).where(JobFile.name == "roster.csv")) is None
    breach = db.session.scalars(select(Breach)).one()  # the register keeps the entry, not her name
    assert breach.title == f"Laptop of Agent {pseudonym(agent.id)} stolen"
    assert breach.facts.startswith(f"Reported by Agent {pseudonym(agent.id)};")
    note = db.session.scalars(select(DataRequest.identity_check)).one()
    assert note == f"Mail from Agent {pseudonym(agent.id)}, signed Agent {pseudonym(agent.id)}"
    report = {f.name: f.data.decode() for f in job.files}
    assert set(report) == {"erasure-report.txt", "erasure-report.json"}
    data = json.loads(report["erasure-report.json"])
    assert data["pseudonym"] == pseudonym(agent.id) and data["reference"] == "DSR-2026/041"
    assert {e["what"]: e["count"] for e in data["erased"]}["Sign-in sessions (times, browser)"] == 1
    assert "Kept, under Art. 17(3)(b) and (e)" in report["erasure-report.txt"]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.erased")).one()
    assert event.actor_id == admin.id and event.target_id == str(agent.id)
    assert event.data["pseudonym"] == pseudonym(agent.id) and event.subject_label == ""

    # The log and its proofs: the head kept before still verifies, and so does the log after a new seal.
    assert verify(heads={kept_head[0]: kept_head[1]}).ok
    seal()
    assert verify().ok

    # Her certificate still verifies, by code and by the copy she kept; the page names no one.
    html = client.get(f"/verify/{person['award'].verification_code}").get_data(as_text=True)
    assert "Valid certificate" in html and "Issued to a person whose data was erased on" in html
    assert "still valid until" in html and "Y. E. I." not in html
    upload = client.post("/verify", data={"csrf_token": csrf_token(client, "/verify"),
                                          "file": (io.BytesIO(person["kept_copy"]), "certificate.pdf")},
                         content_type="multipart/form-data")
    assert "This file is the genuine, unaltered certificate" in upload.get_data(as_text=True)
    # The PDF itself is gone: no one can download a fresh copy bearing a pseudonym.
    assert client.get(f"/awards/{person['award'].id}/certificate.pdf").status_code == 410
    # The organisation's evidence pack still builds, and does not name her.
    files = build_pack(person["partner"].id, generated_by_id=admin.id)
    assert NAME not in files.json.decode() and EMAIL not in files.json.decode()

    # Staff see the pseudonym, and that the data was erased.
    page = client.get(f"/people/{agent.id}").get_data(as_text=True)
    assert f"Agent {pseudonym(agent.id)}" in page and "Personal data erased" in page
    assert "Erase personal data" not in page
    assert "already erased" in client.get(f"/people/{agent.id}/erase").get_data(as_text=True)


def test_the_confirmation_is_required_and_the_typed_reference_is_kept(app, person, client, login_as):
    agent = person["agent"]
    login_as(person["admin"])
    response = client.post(f"/people/{agent.id}/erase", data={
        "csrf_token": csrf_token(client, f"/people/{agent.id}/erase"), "reference": "DSR-7"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Tick this to confirm before erasing." in html
    assert 'value="DSR-7"' in html
    assert db.session.get(User, agent.id).erased_at is None
    assert db.session.scalar(select(Job.id).where(Job.kind == "erasure")) is None


def test_an_admin_cannot_erase_themselves_and_others_may_not_erase_at_all(app, person, client, login_as):
    admin = person["admin"]
    login_as(admin)
    html = client.get(f"/people/{admin.id}/erase").get_data(as_text=True)
    assert "You cannot erase your own account" in html and 'name="confirm"' not in html
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login_as(trainer)
    assert client.get(f"/people/{person['agent'].id}/erase").status_code == 403
