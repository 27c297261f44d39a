"""Organisation evidence packs: what the PDF shows, the same data as JSON and CSV attached and
returned, a valid signature, progress as it goes, a fixed number of queries, and a render that
loads nothing from outside.

The demo generator (devtools.bulk.generate_bulk) provides a realistic organisation: agents with
18 months of attempts, awards, revocations and overdue enrolments.
"""
from __future__ import annotations

import csv
import io
import json
import time
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms import clock
from lms.accounts.models import Organisation, Role, User
from lms.audit.models import AuditEvent
from lms.audit.checkpoints import parse_note
from lms.audit.sealing import seal
from lms.certification import reports, services
from lms.certification.reports import spreadsheet_safe
from lms.certification.status import Status
from devtools.bulk import generate_bulk
from lms.evidence.pack import PackFiles, build_pack
from lms.evidence.signing import verify_pdf_signature
from lms.extensions import db, limiter
from lms.learning.sync import load_content
from tests import factories
from tests.certification.conftest import make_programme
from tests.certification.test_scale import counting
from tests.evidence.test_pdf import listener  # noqa: F401 (fixture)
from tests.evidence.test_transcript import attachment, pdf_text, run, signing_key  # noqa: F401 (fixture)

AT = datetime(2026, 6, 1, 9, 30, tzinfo=timezone.utc)
TRAINER = "trainer@northwind.example"


def build_company(app: Flask, agents: int) -> None:
    """A fresh database with the content and the demo company at `agents` agents, as of AT."""
    db.session.remove()
    db.drop_all()
    db.create_all()
    limiter.reset()
    load_content(app.config["CONTENT_ROOT"])
    db.session.commit()
    generate_bulk(agents, at=AT)
    db.session.commit()


def biggest_organisation_with_an_overdue_agent(trainer: User) -> Organisation:
    """The organisation with the most active agents among those where someone is overdue.

    Which organisation that is, the seeded demo decides: any change to the content (another quiz
    that agents may practise) reshuffles the agents' histories.
    """
    overdue = db.session.execute(reports.status_rows(trainer, reports.Filters(status=Status.OVERDUE), AT))
    org_ids = {row.organisation_id for row in overdue}
    assert org_ids, "the demo company has no overdue agent at all"
    org_id = db.session.execute(select(User.organisation_id).where(
        User.role == Role.AGENT, User.active.is_(True), User.organisation_id.in_(org_ids))
        .group_by(User.organisation_id).order_by(func.count().desc(), User.organisation_id).limit(1)).scalar_one()
    return db.session.get(Organisation, org_id)


def biggest_organisation() -> Organisation:
    """The organisation with the most active agents."""
    org_id = db.session.execute(select(User.organisation_id).where(User.role == Role.AGENT, User.active.is_(True))
                                .group_by(User.organisation_id).order_by(func.count().desc()).limit(1)).scalar_one()
    return db.session.get(Organisation, org_id)


@pytest.fixture
def company(app, signing_key):
    clock.set_now(AT)
    build_company(app, 40)
    seal()  # the pack prints the audit log's latest checkpoint
    yield
    clock.set_now(None)


def save(files: PackFiles, tmp_path: Path) -> Path:
    path = tmp_path / "pack.pdf"
    path.write_bytes(files.pdf)
    return path


def test_the_pack_shows_the_roster_and_carries_the_same_data(app, company, signing_key, tmp_path):
    trainer = db.session.scalar(select(User).where(User.email == TRAINER))
    organisation = biggest_organisation_with_an_overdue_agent(trainer)
    events = db.session.scalar(select(func.count(AuditEvent.seq)))
    calls: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))
        db.session.commit()  # as the job runner's progress report does, mid-build

    files = build_pack(organisation.id, generated_by_id=trainer.id, progress=progress)
    path = save(files, tmp_path)

    data = json.loads(files.json)
    assert data["organisation"]["name"] == organisation.name
    assert data["generated_by"]["email"] == TRAINER and data["audit_checkpoint"]["tree_size"] > 0
    roster = data["roster"]
    active = set(db.session.scalars(select(User.name).where(User.organisation_id == organisation.id,
                                                            User.role == Role.AGENT, User.active.is_(True))))
    assert {r["agent"] for r in roster} == active
    statuses = {r["status"] for r in roster}
    assert len(statuses) >= 3 and Status.OVERDUE.value in statuses  # the demo has every kind of agent
    text = pdf_text(path)
    assert organisation.name in text and data["audit_checkpoint"]["root_hash"] in text.replace(" ", "").replace("\n", "")
    assert parse_note(data["audit_checkpoint"]["note"]).tree_size == data["audit_checkpoint"]["tree_size"]
    for name in active:
        assert name in text
    for status in statuses:
        assert Status(status).label in text
    overdue_section = text.split("2. Overdue")[2].split("3. Scores by call phase")[0]  # [1] is the contents line
    assert {r["agent"] for r in data["overdue"]} == {r["agent"] for r in roster if r["status"] == "overdue"}
    for entry in data["overdue"]:
        assert entry["agent"] in overdue_section
    scores = data["scores_by_phase"]
    assert scores and all(q["phases"] for q in scores)
    assert f"{scores[0]['average']:.1f} %".replace(".0 %", " %") in text
    assert "flask --app wsgi lms evidence verify FILE.pdf" in text  # the methodology appendix

    # The CSV is the roster, row for row, spreadsheet-safe and with a BOM for Excel.
    assert files.csv.startswith("\ufeff".encode("utf-8"))
    lines = list(csv.reader(io.StringIO(files.csv.decode("utf-8-sig"))))
    assert lines[0][:4] == ["Agent", "E-mail", "Organisation", "Programme"]
    assert [(line[0], line[3], line[4], line[7]) for line in lines[1:]] == \
        [(spreadsheet_safe(r["agent"]), r["programme"], Status(r["status"]).label,
          spreadsheet_safe(r["certificate_code"])) for r in roster]
    # ... and byte for byte what the dashboard's CSV export gives for this organisation.
    dashboard = reports.status_rows(trainer, reports.Filters(organisation_id=organisation.id, sort="name"),
                                    datetime.fromisoformat(data["status_as_at"]))
    assert files.csv == "".join(reports.csv_chunks(dashboard)).encode("utf-8")
    # Both are attached to the PDF as they were returned.
    listed = run("qpdf", "--list-attachments", str(path)).stdout
    assert "pack.json" in listed and "roster.csv" in listed
    assert attachment(path, "pack.json") == files.json and attachment(path, "roster.csv") == files.csv

    assert run("qpdf", "--check", str(path)).returncode == 0
    check = verify_pdf_signature(files.pdf, [signing_key.read_bytes()])
    assert check.valid, check.reason
    # Progress moved forward to the end; the job runner writes the audit event, not build_pack.
    assert calls[-1][0] == calls[-1][1] and len(calls) >= 5
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert db.session.scalar(select(func.count(AuditEvent.seq))) == events


def test_the_date_range_limits_the_activity_and_the_scope_limits_the_agents(app, company):
    organisation = biggest_organisation()
    trainer = db.session.scalar(select(User).where(User.email == TRAINER))
    everything = json.loads(build_pack(organisation.id, generated_by_id=trainer.id).json)
    recent = json.loads(build_pack(organisation.id, generated_by_id=trainer.id, date_from=date(2026, 5, 1),
                                   date_to=date(2026, 5, 31)).json)
    assert recent["date_from"] == "2026-05-01" and "01 May 2026 to 31 May 2026" in recent["scope"]
    assert sum(q["attempts"] for q in recent["scores_by_phase"]) < sum(q["attempts"]
                                                                       for q in everything["scores_by_phase"])
    assert recent["roster"] == everything["roster"]  # status is as at generation, whatever the range
    other = db.session.scalar(select(Organisation).where(Organisation.id != organisation.id))
    outsider = factories.user(Role.AUDITOR, scope=other)
    scoped = json.loads(build_pack(organisation.id, generated_by_id=outsider.id).json)
    assert scoped["roster"] == [] and scoped["scores_by_phase"] == []


def test_the_number_of_queries_does_not_grow_with_the_agents(app, signing_key):
    clock.set_now(AT)
    counts = {}
    try:
        for agents in (20, 60):
            build_company(app, agents)
            organisation = biggest_organisation()
            trainer = db.session.scalar(select(User).where(User.email == TRAINER))
            db.session.expire_all()
            with counting() as statements:
                files = build_pack(organisation.id, generated_by_id=trainer.id)
            counts[agents] = (len(statements), len(json.loads(files.json)["roster"]))
    finally:
        clock.set_now(None)
    assert counts[60][1] > 2 * counts[20][1]  # the roster did grow ...
    assert counts[60][0] == counts[20][0]  # ... the queries did not


def test_hostile_names_load_nothing_and_come_out_as_text(app, signing_key, listener, tmp_path):
    port, connections = listener
    organisation_name = f"<style>@import url(http://127.0.0.1:{port}/y);</style> Evil Ltd"
    agent_name = f'<img src="http://127.0.0.1:{port}/x"> <img src="file:///etc/passwd"> Jane'
    partner = factories.organisation(organisation_name)
    factories.user(Role.AGENT, partner, name=agent_name)
    services.assign(None, make_programme(), organisation_id=partner.id, due_days=14)
    admin = factories.user(Role.ADMIN, name=f'<link rel="attachment" href="file:///etc/passwd"> Admin')
    db.session.commit()
    files = build_pack(partner.id, generated_by_id=admin.id)
    path = save(files, tmp_path)

    time.sleep(0.2)  # a connection attempt would have been accepted by now
    assert connections == []
    text = pdf_text(path)
    assert organisation_name in text and agent_name in text  # shown as typed, never interpreted
    assert "root:x:0:0" not in text and b"root:x:0:0" not in files.pdf
    listed = run("qpdf", "--list-attachments", str(path)).stdout
    assert "passwd" not in listed and "pack.json" in listed


def test_an_unknown_organisation_is_an_error(app):
    admin = factories.user(Role.ADMIN)
    with pytest.raises(LookupError):
        build_pack(999999, generated_by_id=admin.id)
