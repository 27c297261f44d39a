"""Agent transcripts: what they state, who may download whose, the audit event of each download,
a fixed number of queries, and a render that loads nothing from outside.

The PDFs are read back with an auditor's tools (pdftotext, qpdf) and the signature is checked
against the signing certificate.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.assessment.models import Attempt, AttemptStatus
from lms.audit.models import AuditEvent
from lms.audit.checkpoints import parse_note
from lms.audit.sealing import seal
from lms.audit.services import head, record
from lms.certification import services
from lms.certification.models import Award
from lms.clock import now
from lms.evidence.signing import ensure_dev_key, verify_pdf_signature
from lms.evidence.transcript import transcript_data
from lms.extensions import db
from tests import factories
from tests.assessment.conftest import best_form
from tests.certification.conftest import at, content, make_programme  # noqa: F401 (fixtures)
from tests.certification.test_cycle import _read_course, _take_quiz
from tests.certification.test_scale import counting
from tests.conftest import login
from tests.evidence.test_pdf import listener  # noqa: F401 (fixture)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def pdf_text(path: Path) -> str:
    """The PDF's text with whitespace collapsed (long names wrap across lines)."""
    return " ".join(run("pdftotext", str(path), "-").stdout.split())


def attachment(path: Path, name: str) -> bytes:
    """An embedded file, extracted with qpdf."""
    return subprocess.run(["qpdf", f"--show-attachment={name}", str(path)], capture_output=True, check=True,
                          timeout=60).stdout


@pytest.fixture
def signing_key(app, tmp_path: Path) -> Path:
    """A development signing key and certificate for this app; the certificate's path."""
    key, cert = tmp_path / "signing" / "key.pem", tmp_path / "signing" / "cert.pem"
    ensure_dev_key(key, cert)
    app.config.update(SIGNING_KEY_PATH=key, SIGNING_CERT_PATH=cert, SIGNING_KEY_PASSPHRASE=None,
                      SIGNING_KEY_ID=None)
    return cert


def certify(partner, **agent) -> dict:
    """A partner's agent who read the fixture course and passed its quiz (one award)."""
    agent = factories.user(Role.AGENT, partner, **agent)
    programme = make_programme()
    services.assign(None, programme, organisation_id=partner.id, due_days=14)
    _read_course(agent)
    db.session.commit()
    return {"agent": agent, "programme": programme}


@pytest.fixture
def certified(app, content, at, signing_key):
    partner = factories.organisation("Atlas Care")
    person = certify(partner, name="Yasmine El Idrissi")
    _take_quiz(person["agent"], content, best_form)
    return {**person, "partner": partner, "award": db.session.scalars(select(Award)).one(), "cert": signing_key}


def _download(client, user_id: int):
    return client.get(f"/people/{user_id}/transcript.pdf")


def test_the_agent_downloads_a_signed_transcript_of_their_record(app, certified, client, login_as, tmp_path, runner):
    agent, award = certified["agent"], certified["award"]
    attempt = db.session.scalars(select(Attempt)).one()
    seal()  # the transcript carries the audit log's latest signed checkpoint
    login_as(agent)
    response = _download(client, agent.id)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="transcript-{agent.id}-')
    path = tmp_path / "transcript.pdf"
    path.write_bytes(response.data)

    text = pdf_text(path)
    assert "Yasmine El Idrissi" in text and "Atlas Care" in text
    data = json.loads(attachment(path, "transcript.json"))
    course = data["courses"][0]
    assert course["title"] in text and course["version"] in text and len(course["version"]) == 12
    assert data["attempts"][0]["id"] == attempt.id and data["attempts"][0]["passed"] is True
    assert f"{attempt.percent:.0f} %" in text and "Pass" in text
    for phase, score in attempt.phase_scores.items():  # a score per call phase, as the data states
        assert data["attempts"][0]["phases"][phase] == score["percent"]
    assert award.verification_code in text and data["awards"][0]["cycle"] == 1
    assert data["awards"][0]["status"] == "valid" and data["awards"][0]["revocation"] is None
    assert data["generated_by"]["email"] == agent.email
    checkpoint = data["audit_checkpoint"]
    assert (checkpoint["tree_size"], checkpoint["root_hash"]) == head() and checkpoint["tree_size"] > 0
    assert checkpoint["root_hash"] in text.replace(" ", "").replace("\n", "")
    # The transcript prints the signed note and how to check it later; that command passes on
    # the note copied from the page and on the attached JSON.
    assert "lms audit verify --checkpoint FILE" in text
    signature = checkpoint["note"].rsplit(" ", 1)[1].strip()
    assert signature[:40] in text.replace("\n", "")
    # Copied from the PDF as a reader would copy it: the lines from the origin to the signature.
    page = run("pdftotext", "-layout", str(path), "-").stdout
    copied = page[page.index("CallSafe Academy audit log"):].split("\n\n\n")[0]
    (tmp_path / "copied.txt").write_text(copied)
    result = runner.invoke(args=["lms", "audit", "verify", "--checkpoint", str(tmp_path / "copied.txt")])
    assert result.exit_code == 0, result.output
    (tmp_path / "transcript.json").write_text(json.dumps(data))
    result = runner.invoke(args=["lms", "audit", "verify", "--checkpoint", str(tmp_path / "transcript.json")])
    assert result.exit_code == 0, result.output
    assert "The log extends the 1 given checkpoint(s)" in result.output

    assert run("qpdf", "--check", str(path)).returncode == 0
    check = verify_pdf_signature(response.data, [certified["cert"].read_bytes()])
    assert check.valid, check.reason
    # The download is an audit event that keeps the file's fingerprint.
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "transcript.exported")).one()
    assert event.actor_id == agent.id and event.target_id == str(agent.id)
    assert event.data["sha256"] == hashlib.sha256(response.data).hexdigest() == response.headers["X-Content-SHA256"]
    assert event.data["checkpoint_tree_size"] == checkpoint["tree_size"] == head()[0]  # the latest checkpoint


def test_downloads_follow_scope(app, certified):
    partner, agent = certified["partner"], certified["agent"]
    other_partner = factories.organisation("Lisboa CS")
    people = {
        "another agent of the partner": (factories.user(Role.AGENT, partner), 404),
        "auditor of another partner": (factories.user(Role.AUDITOR, scope=other_partner), 404),
        "auditor of this partner": (factories.user(Role.AUDITOR, scope=partner), 200),
        "company-wide auditor": (factories.user(Role.AUDITOR), 200),
        "trainer": (factories.user(Role.TRAINER), 200),
        "admin": (factories.user(Role.ADMIN), 200),
    }
    db.session.commit()
    for label, (person, expected) in people.items():
        client = app.test_client()
        login(client, person.email, factories.PASSWORD)
        response = _download(client, agent.id)
        assert response.status_code == expected, label
        if expected == 200:
            assert response.data.startswith(b"%PDF-"), label
    assert _download(app.test_client(), agent.id).status_code == 302  # signed out: to the sign-in page
    exported_by = set(db.session.scalars(select(AuditEvent.actor_id).where(AuditEvent.action == "transcript.exported")))
    assert exported_by == {person.id for person, expected in people.values() if expected == 200}


def test_revocations_show_when_why_and_by_whom(app, certified, client, login_as, tmp_path):
    trainer = factories.user(Role.TRAINER, name="Tomás Trainer")
    services.revoke(trainer, db.session.get(Award, certified["award"].id), "Answers shared in a team chat")
    db.session.commit()
    login_as(trainer)
    path = tmp_path / "t.pdf"
    path.write_bytes(_download(client, certified["agent"].id).data)
    text = pdf_text(path)
    assert "Revoked" in text and "Answers shared in a team chat" in text and "Tomás Trainer" in text
    revocation = json.loads(attachment(path, "transcript.json"))["awards"][0]["revocation"]
    assert revocation["reason"] == "Answers shared in a team chat" and revocation["revoked_by_email"] == trainer.email


def test_the_number_of_queries_does_not_grow_with_the_record(app, certified, content):
    agent, award = certified["agent"], certified["award"]
    trainer = factories.user(Role.TRAINER)
    first = db.session.scalars(select(Attempt)).one()
    db.session.commit()

    def count() -> int:
        db.session.expire_all()
        with counting() as statements:
            transcript_data(agent, generated_by=trainer)
        return len(statements)

    small = count()
    # Nine more attempts and three more awards, one of them revoked.
    for n in range(9):
        db.session.add(Attempt(user_id=agent.id, quiz_id=first.quiz_id, quiz_version_id=first.quiz_version_id,
                               status=AttemptStatus.SUBMITTED, started_at=first.started_at + timedelta(days=n + 1),
                               finished_at=first.started_at + timedelta(days=n + 1, minutes=12), draw=[],
                               percent=50 + n, passed=False, phase_scores=first.phase_scores))
    for n in range(3):
        db.session.add(Award(user_id=agent.id, programme_id=award.programme_id,
                             programme_version_id=award.programme_version_id,
                             issued_at=award.issued_at + timedelta(days=400 * (n + 1)),
                             valid_until=award.valid_until + timedelta(days=400 * (n + 1)),
                             window_opens_at=award.window_opens_at + timedelta(days=400 * (n + 1)),
                             grace_until=award.grace_until + timedelta(days=400 * (n + 1)),
                             verification_code=f"code-{n}", evidence=award.evidence,
                             revoked_at=now() if n == 0 else None, revoked_by_id=trainer.id if n == 0 else None,
                             revoke_reason="test" if n == 0 else None))
    db.session.commit()
    assert count() == small
    data = transcript_data(agent, generated_by=trainer)
    assert len(data["attempts"]) == 10 and [a["cycle"] for a in data["awards"]] == [1, 2, 3, 4]


def test_hostile_names_load_nothing_and_come_out_as_text(app, content, at, signing_key, listener, login_as,
                                                         client, tmp_path):
    port, connections = listener
    name = f'<img src="http://127.0.0.1:{port}/x"> <img src="file:///etc/passwd"> Jane'
    organisation = f"<style>@import url(http://127.0.0.1:{port}/y);</style> Evil Ltd"
    partner = factories.organisation(organisation)
    person = certify(partner, name=name)
    _take_quiz(person["agent"], content, best_form)
    trainer = factories.user(Role.TRAINER)
    services.revoke(trainer, db.session.scalars(select(Award)).one(),
                    f'<link rel="attachment" href="file:///etc/passwd"><object data="http://127.0.0.1:{port}/z">')
    db.session.commit()
    login_as(trainer)
    response = _download(client, person["agent"].id)
    assert response.status_code == 200
    path = tmp_path / "hostile.pdf"
    path.write_bytes(response.data)

    time.sleep(0.2)  # a connection attempt would have been accepted by now
    assert connections == []
    text = pdf_text(path)
    assert name in text and organisation in text  # shown as typed, never interpreted
    assert "root:x:0:0" not in text and b"root:x:0:0" not in response.data
    listed = run("qpdf", "--list-attachments", str(path)).stdout
    assert "transcript.json" in listed and "passwd" not in listed


def test_the_checkpoint_is_the_latest_at_export_time(app, certified):
    trainer = factories.user(Role.TRAINER)
    assert transcript_data(certified["agent"], generated_by=trainer)["audit_checkpoint"]["note"] is None  # not sealed
    first = seal().checkpoint
    record("test.later")
    db.session.commit()
    latest = seal().checkpoint
    carried = transcript_data(certified["agent"], generated_by=trainer)["audit_checkpoint"]
    assert carried["tree_size"] == latest.tree_size == first.tree_size + 1
    assert parse_note(carried["note"]).root.hex() == latest.root_hash == carried["root_hash"]


def test_the_agent_home_and_the_person_page_link_to_the_transcript(app, certified, client, login_as):
    agent = certified["agent"]
    link = f'href="/people/{agent.id}/transcript.pdf">Download transcript (PDF)'
    login_as(agent)
    assert link in client.get("/").get_data(as_text=True)
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    staff = app.test_client()
    login(staff, trainer.email, factories.PASSWORD)
    assert link in staff.get(f"/people/{agent.id}").get_data(as_text=True)
