"""Certificates: rendered once, signed, stored; downloads by scope; verification by code, file and CLI."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.audit.models import AuditEvent
from lms.certification import services
from lms.certification.models import Award
from lms.evidence.models import Certificate
from lms.evidence.signing import ensure_dev_key
from lms.extensions import db
from tests import factories
from tests.assessment.conftest import best_form
from tests.certification.conftest import at, content, make_programme  # noqa: F401 (fixtures)
from tests.certification.test_cycle import _read_course, _take_quiz
from tests.conftest import csrf_token, login


@pytest.fixture
def certified(app, content, at, tmp_path: Path):
    """A certified agent of a partner, with a development signing key."""
    key, cert = tmp_path / "signing" / "key.pem", tmp_path / "signing" / "cert.pem"
    ensure_dev_key(key, cert)
    app.config.update(SIGNING_KEY_PATH=key, SIGNING_CERT_PATH=cert, SIGNING_KEY_PASSPHRASE=None,
                      SIGNING_KEY_ID=None)
    partner = factories.organisation("Atlas Care")
    agent = factories.user(Role.AGENT, partner, name="Yasmine El Idrissi")
    programme = make_programme()
    services.assign(None, programme, organisation_id=partner.id, due_days=14)
    _read_course(agent)
    db.session.commit()
    _take_quiz(agent, content, best_form)
    award = db.session.scalars(select(Award)).one()
    return {"agent": agent, "award": award, "partner": partner}


def _download(client, award_id: int):
    return client.get(f"/awards/{award_id}/certificate.pdf")


def test_the_holder_downloads_the_same_signed_bytes_every_time(app, certified, client, login_as):
    login_as(certified["agent"])
    first = _download(client, certified["award"].id)
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert first.headers["Content-Disposition"].startswith('attachment; filename="certificate-')
    assert first.data.startswith(b"%PDF-") and b"/ByteRange" in first.data  # signed
    second = _download(client, certified["award"].id)
    assert second.data == first.data
    stored = db.session.scalars(select(Certificate)).one()
    assert stored.sha256 == first.headers["X-Content-SHA256"]
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("certificate.%"))
                                      .order_by(AuditEvent.seq)))
    assert actions == ["certificate.issued", "certificate.downloaded", "certificate.downloaded"]


def test_the_agent_home_links_each_current_award_to_its_certificate(app, certified, client, login_as):
    login_as(certified["agent"])
    home = client.get("/").get_data(as_text=True)
    link = f'href="/awards/{certified["award"].id}/certificate.pdf">Certificate (PDF)'
    assert link in home
    title = certified["award"].programme_version.title
    assert f'<a href="/awards/{certified["award"].id}/badge">{title}</a>' in home  # the awards table's row
    assert _download(client, certified["award"].id).status_code == 200


def test_downloads_follow_scope(app, certified):
    other_partner = factories.organisation("Lisboa CS")
    people = {
        "another agent": (factories.user(Role.AGENT, certified["partner"]), 404),
        "auditor of another partner": (factories.user(Role.AUDITOR, scope=other_partner), 404),
        "auditor of this partner": (factories.user(Role.AUDITOR, scope=certified["partner"]), 200),
        "trainer": (factories.user(Role.TRAINER), 200),
    }
    db.session.commit()
    for label, (person, expected) in people.items():
        client = app.test_client()
        login(client, person.email, factories.PASSWORD)
        assert _download(client, certified["award"].id).status_code == expected, label


def test_verification_by_code_shows_status_and_no_name(app, certified, client, login_as):
    award = certified["award"]
    page = client.get(f"/verify/{award.verification_code}").get_data(as_text=True)
    assert "Valid certificate" in page and "Y. E. I." in page and "Yasmine" not in page
    assert "No PDF has been downloaded" in page
    assert "No certificate has this code" in client.get("/verify/not-a-real-code").get_data(as_text=True)


def test_upload_and_cli_accept_the_genuine_file_and_reject_a_tampered_one(app, certified, client, login_as, runner,
                                                                           tmp_path: Path):
    login_as(certified["agent"])
    genuine = _download(client, certified["award"].id).data
    tampered = bytearray(genuine)
    middle = len(tampered) // 2
    tampered[middle] = (tampered[middle] + 1) % 256
    token = csrf_token(client, "/verify")
    ok = client.post("/verify", data={"file": (io.BytesIO(genuine), "c.pdf"), "csrf_token": token},
                     content_type="multipart/form-data").get_data(as_text=True)
    assert "genuine, unaltered certificate" in ok
    bad = client.post("/verify", data={"file": (io.BytesIO(bytes(tampered)), "c.pdf"), "csrf_token": token},
                      content_type="multipart/form-data").get_data(as_text=True)
    assert "Not verified" in bad and "altered" in bad
    (tmp_path / "genuine.pdf").write_bytes(genuine)
    (tmp_path / "tampered.pdf").write_bytes(bytes(tampered))
    good = runner.invoke(args=["lms", "evidence", "verify", str(tmp_path / "genuine.pdf")])
    assert good.exit_code == 0 and "Status: valid." in good.output
    rejected = runner.invoke(args=["lms", "evidence", "verify", str(tmp_path / "tampered.pdf")])
    assert rejected.exit_code == 1 and "matches no certificate" in rejected.output


def test_revocation_shows_on_verification_not_in_the_file(app, certified, client, login_as, runner, tmp_path: Path):
    login_as(certified["agent"])
    genuine = _download(client, certified["award"].id).data
    services.revoke(factories.user(Role.TRAINER), db.session.get(Award, certified["award"].id), "Shared answers")
    db.session.commit()
    page = client.get(f"/verify/{certified['award'].verification_code}").get_data(as_text=True)
    assert "Revoked certificate" in page
    assert _download(client, certified["award"].id).data == genuine  # the issued file never changes
    (tmp_path / "c.pdf").write_bytes(genuine)
    result = runner.invoke(args=["lms", "evidence", "verify", str(tmp_path / "c.pdf")])
    assert result.exit_code == 1 and "Status: revoked." in result.output


def test_verification_is_rate_limited_per_address(app, client):
    """Codes are guessable only at 30 a minute: the limit holds on both verification pages."""
    codes = [client.get("/verify/no-such-code").status_code for _ in range(30)]
    assert set(codes) == {200}
    refused = client.get("/verify/no-such-code")
    assert refused.status_code == 429 and "Too many attempts" in refused.get_data(as_text=True)
    assert client.get("/verify").status_code == 200  # each page has its own allowance
    assert client.get("/healthz").status_code == 200  # and pages without a limit have none
