"""The certificates ZIP export and admin-set branding, with real signed certificates."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.audit.models import AuditEvent
from lms.certification import services as certification
from lms.certification.models import Award
from lms.evidence.branding import Branding
from lms.evidence.models import Certificate
from lms.evidence.signing import ensure_dev_key
from lms.extensions import db
from lms.jobs.models import Job, JobState
from tests import factories
from tests.assessment.conftest import best_form
from tests.certification.conftest import at, content, make_programme  # noqa: F401 (fixtures)
from tests.certification.test_cycle import _read_course, _take_quiz
from tests.conftest import csrf_token, login


@pytest.fixture
def certified(app, content, at, tmp_path: Path):
    """A partner with three certified agents, one of whose awards is revoked; a development signing key."""
    key, cert = tmp_path / "signing" / "key.pem", tmp_path / "signing" / "cert.pem"
    ensure_dev_key(key, cert)
    app.config.update(SIGNING_KEY_PATH=key, SIGNING_CERT_PATH=cert, SIGNING_KEY_PASSPHRASE=None, SIGNING_KEY_ID=None)
    partner = factories.organisation("Atlas Care")
    agents = [factories.user(Role.AGENT, partner, name=name)
              for name in ("Yasmine El Idrissi", "Jonas Øberg", "Carla Ruiz")]
    programme = make_programme()
    certification.assign(None, programme, organisation_id=partner.id, due_days=14)
    for agent in agents:
        _read_course(agent)
    db.session.commit()
    for agent in agents:
        _take_quiz(agent, content, best_form)
    awards = {a.user_id: a for a in db.session.scalars(select(Award))}
    trainer = factories.user(Role.TRAINER)
    certification.revoke(trainer, awards[agents[2].id], "Shared answers")
    db.session.commit()
    return {"partner": partner, "agents": agents, "awards": [awards[a.id] for a in agents]}


def _client(app, user):
    client = app.test_client()
    assert login(client, user.email, factories.PASSWORD).status_code == 302
    return client


def _text(pdf: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True, timeout=60)
    return " ".join(out.stdout.split())


def test_the_zip_holds_every_current_certificate_and_a_manifest_of_their_hashes(app, certified):
    first, second, revoked = certified["awards"]
    holder = _client(app, certified["agents"][0])
    issued_before = holder.get(f"/awards/{first.id}/certificate.pdf").data  # rendered and stored already

    auditor = factories.user(Role.AUDITOR, scope=certified["partner"])
    db.session.commit()
    client = _client(app, auditor)
    token = csrf_token(client, "/exports")
    response = client.post("/exports", data={"kind": "certificates_zip", "organisation_id": certified["partner"].id,
                                              "csrf_token": token})
    job = db.session.get(Job, int(response.location.split("/")[-1]))
    assert job.state is JobState.SUCCEEDED, job.error
    assert (job.progress_done, job.progress_total) == (2, 2)  # the revoked award is left out
    [file] = job.files
    assert file.name == "certificates-atlas-care.zip" and file.media_type == "application/zip"

    download = client.get(f"/exports/{job.id}/files/{file.name}")
    assert download.status_code == 200 and download.headers["X-Content-SHA256"] == file.sha256
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    assert archive.testzip() is None
    stored = {c.award_id: c for c in db.session.scalars(select(Certificate))}
    assert set(stored) == {first.id, second.id}  # the missing one was rendered, the revoked one not
    manifest = json.loads(archive.read("manifest.json"))
    rows = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8-sig"))))
    assert manifest["organisation"] == "Atlas Care"
    assert [r["certificate_code"] for r in rows] == [c["certificate_code"] for c in manifest["certificates"]]
    by_code = {r["certificate_code"]: r for r in rows}
    assert set(by_code) == {first.verification_code, second.verification_code}
    assert revoked.verification_code not in archive.read("manifest.csv").decode()
    for award in (first, second):
        row = by_code[award.verification_code]
        pdf = archive.read(row["file"])
        assert hashlib.sha256(pdf).hexdigest() == row["sha256"] == stored[award.id].sha256
        assert pdf == stored[award.id].pdf and row["agent"] == award.user.name
    assert archive.read(by_code[first.verification_code]["file"]) == issued_before  # reused, not re-rendered
    assert by_code[second.verification_code]["file"] == f"jonas-oberg-recorded-lines-certification-" \
                                                        f"{second.verification_code[:12]}.pdf"
    assert sorted(archive.namelist()) == sorted([r["file"] for r in rows] + ["manifest.csv", "manifest.json"])
    issued = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "certificate.issued",
                                                         AuditEvent.actor_id == auditor.id)).all()
    assert [e.data["award_id"] for e in issued] == [second.id]


def test_branding_changes_new_certificates_and_leaves_issued_ones_alone(app, certified, tmp_path: Path):
    first, second, _ = certified["awards"]
    before = _client(app, certified["agents"][0]).get(f"/awards/{first.id}/certificate.pdf").data
    assert "Aoife Byrne" in _text(before, tmp_path, "before.pdf")

    admin = factories.user(Role.ADMIN)
    db.session.commit()
    client = _client(app, admin)
    page = client.get("/admin/branding").get_data(as_text=True)
    assert "Only certificates rendered after you save change." in page and 'value="Aoife Byrne"' in page
    token = csrf_token(client, "/admin/branding")
    form = {"company_name": "Northwind Energy", "primary_colour": "#8A1538", "signatory_name": "Maria Okafor",
            "signatory_title": "Head of Compliance", "logo": "", "csrf_token": token}
    refused = client.post("/admin/branding", data={**form, "primary_colour": "red"})
    assert refused.status_code == 200 and "Give the colour as #rrggbb" in refused.get_data(as_text=True)
    assert db.session.get(Branding, 1) is None
    assert client.post("/admin/branding", data={**form, "logo": "../../etc/passwd"}).status_code == 200
    assert db.session.get(Branding, 1) is None
    assert client.post("/admin/branding", data=form).status_code == 302

    saved = db.session.get(Branding, 1)
    assert (saved.signatory_name, saved.primary_colour, saved.updated_by_id) == ("Maria Okafor", "#8a1538", admin.id)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "branding.changed")).one()
    assert event.actor_id == admin.id
    assert event.data["changed"] == {"company_name": "Northwind Energy", "primary_colour": "#8a1538",
                                     "signatory_name": "Maria Okafor", "signatory_title": "Head of Compliance"}

    after = _text(_client(app, certified["agents"][1]).get(f"/awards/{second.id}/certificate.pdf").data,
                  tmp_path, "after.pdf")
    assert "Maria Okafor" in after and "Head of Compliance" in after and "Aoife Byrne" not in after
    again = _client(app, certified["agents"][0]).get(f"/awards/{first.id}/certificate.pdf").data
    assert again == before and "Aoife Byrne" in _text(again, tmp_path, "again.pdf")


def test_the_evidence_pack_job_stores_its_pdf_json_and_roster(app, certified):
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    client = _client(app, trainer)
    token = csrf_token(client, "/exports")
    response = client.post("/exports", data={"kind": "evidence_pack", "organisation_id": certified["partner"].id,
                                              "date_from": "2026-01-01", "date_to": "2026-01-31",
                                              "csrf_token": token})
    job = db.session.get(Job, int(response.location.split("/")[-1]))
    assert job.state is JobState.SUCCEEDED, job.error
    assert job.params == {"date_from": "2026-01-01", "date_to": "2026-01-31"}
    assert job.progress_total > 0 and job.progress_done == job.progress_total
    files = {f.name: f for f in job.files}
    assert {name: f.media_type for name, f in files.items()} == {
        "evidence-pack.pdf": "application/pdf", "evidence-pack.json": "application/json", "roster.csv": "text/csv"}
    assert files["evidence-pack.pdf"].data.startswith(b"%PDF-")
    json.loads(files["evidence-pack.json"].data)
    roster = client.get(f"/exports/{job.id}/files/roster.csv")
    assert roster.status_code == 200 and roster.headers["X-Content-SHA256"] == files["roster.csv"].sha256
    assert all(agent.name in roster.data.decode("utf-8-sig") for agent in certified["agents"][:2])
