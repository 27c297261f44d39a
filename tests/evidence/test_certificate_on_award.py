"""Certificates are rendered when an award is issued (#20), by a job, not at the first download."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.audit.models import AuditEvent
from lms.certification import services
from lms.certification.models import Award
from lms.evidence.branding import Branding
from lms.evidence.certificates import certificate_branding, issue_certificate
from lms.evidence.embedded import embedded_json
from lms.evidence.issuing import KIND
from lms.evidence.models import Certificate
from lms.evidence.signing import ensure_dev_key
from lms.extensions import db
from lms.jobs.models import Job, JobState
from tests import factories
from tests.assessment.conftest import best_form
from tests.certification.conftest import at, content, make_programme  # noqa: F401 (fixtures)
from tests.certification.test_cycle import _read_course, _take_quiz
from tests.conftest import login


@pytest.fixture
def signing_key(app, tmp_path: Path) -> Path:
    key, cert = tmp_path / "signing" / "key.pem", tmp_path / "signing" / "cert.pem"
    ensure_dev_key(key, cert)
    app.config.update(SIGNING_KEY_PATH=key, SIGNING_CERT_PATH=cert, SIGNING_KEY_PASSPHRASE=None,
                      SIGNING_KEY_ID=None, CERTIFICATES_ON_AWARD=True, BASE_URL="https://academy.example.org")
    return key


def _certify(content) -> tuple:
    partner = factories.organisation("Atlas Care")
    agent = factories.user(Role.AGENT, partner, name="Yasmine El Idrissi")
    services.assign(None, make_programme(), organisation_id=partner.id, due_days=14)
    _read_course(agent)
    db.session.commit()
    _take_quiz(agent, content, best_form)  # passes, which issues the award and commits
    db.session.expire_all()
    return agent, db.session.scalars(select(Award)).one()


def test_the_certificate_is_stored_when_the_award_is_issued(app, content, at, signing_key, client, login_as):
    db.session.add(Branding(company_name="Northwind Contact Centres", primary_colour="#0f5c73",
                            signatory_name="Priya Raman", signatory_title="Data Protection Officer"))
    db.session.commit()
    agent, award = _certify(content)

    stored = db.session.scalars(select(Certificate).where(Certificate.award_id == award.id)).one()
    assert stored.pdf.startswith(b"%PDF-") and b"/ByteRange" in stored.pdf
    assert embedded_json(stored.pdf, "certificate.json")["verify_url"] == (
        f"https://academy.example.org/verify/{award.verification_code}")
    assert db.session.scalars(select(Job.state).where(Job.kind == KIND)).one() is JobState.SUCCEEDED

    login_as(agent)
    download = client.get(f"/awards/{award.id}/certificate.pdf")
    assert download.status_code == 200 and download.data == stored.pdf
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("certificate.%"))
                                      .order_by(AuditEvent.seq)))
    assert actions == ["certificate.issued", "certificate.downloaded"]
    # Work nobody asked for stays out of the admin's exports list.
    admin, admin_client = factories.user(Role.ADMIN), app.test_client()
    db.session.commit()
    login(admin_client, admin.email, factories.PASSWORD)
    exports = admin_client.get("/exports")
    assert exports.status_code == 200 and "Certificate of a new award" not in exports.get_data(as_text=True)


def test_a_failed_render_job_stores_nothing_and_the_download_renders_it(app, content, at, signing_key, client,
                                                                       login_as):
    cert_path = app.config["SIGNING_CERT_PATH"]
    app.config["SIGNING_CERT_PATH"] = cert_path.with_name("missing.pem")  # the job cannot sign
    agent, award = _certify(content)

    job = db.session.scalars(select(Job).where(Job.kind == KIND)).one()
    assert job.state is JobState.FAILED and "could not be produced or signed" in job.error
    assert db.session.scalar(select(Certificate).where(Certificate.award_id == award.id)) is None

    login_as(agent)
    assert client.get(f"/awards/{award.id}/certificate.pdf").status_code == 503  # still broken: nothing served
    assert db.session.scalar(select(Certificate).where(Certificate.award_id == award.id)) is None
    app.config["SIGNING_CERT_PATH"] = cert_path
    download = client.get(f"/awards/{award.id}/certificate.pdf")
    assert download.status_code == 200 and download.data.startswith(b"%PDF-")
    assert db.session.scalars(select(Certificate.pdf).where(Certificate.award_id == award.id)).one() == download.data


def test_a_download_racing_the_render_job_serves_the_certificate_stored_first(app, content, at, signing_key):
    # The job stored the certificate while a download, which had found none, was rendering its
    # fallback: the download's insert meets the unique award_id and serves the stored one (it
    # answered a 500 in the production browser test).
    agent, award = _certify(content)
    first = db.session.scalars(select(Certificate).where(Certificate.award_id == award.id)).one()
    served = issue_certificate(award, certificate_branding())
    db.session.commit()
    assert served.id == first.id and served.sha256 == first.sha256
    assert db.session.scalars(select(Certificate)).all() == [first]
