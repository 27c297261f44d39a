"""Roster import through the pages: malformed files change nothing, preview outcomes, apply as a job."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from lms.accounts.models import Role, User
from lms.audit.models import AuditEvent
from lms.extensions import db
from lms.jobs.models import Job, JobFile, JobState
from lms.roster.models import RosterUpload
from tests import factories
from tests.roster.conftest import HEADER, apply, csv_bytes, upload

ROWS = ("A1,Amina Haddad,amina@atlas.example,Atlas Care,agent,Team 1,2026-09-01",
        "A2,Omar Benali,omar@atlas.example,Atlas Care,,Team 2,01/09/2026")


def _state() -> tuple:
    """Everything an import could change."""
    db.session.expire_all()
    users = db.session.execute(select(User.email, User.name, User.team, User.active).order_by(User.email)).all()
    return users, db.session.scalar(select(func.count()).select_from(RosterUpload))


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize(("data", "problem"), [
    ("Employee id,Name,E-mail,Organisation\r\nA1,Jos\xe9,jose@atlas.example,Atlas Care\r\n".encode("latin-1"),
     "not UTF-8: byte 0xE9 at offset 44 (line 2)"),
    (csv_bytes("Employee id,Name,Organisation", "A1,Amina,Atlas Care"), "has no E-mail column"),
    (csv_bytes("Name,Mail,Company", "Amina,a@atlas.example,Atlas Care"), "has no Employee id column"),
    (csv_bytes(HEADER), "has a header line but no people"),
    (b"", "The file is empty"),
])
def test_unreadable_files_are_refused_and_change_nothing(client, login_as, people, data, problem):
    login_as(people["admin"])
    before = _state()
    response = upload(client, data, filename="hr-export.csv")
    assert response.status_code == 400
    assert "hr-export.csv: " in _text(response) and problem in _text(response)
    assert "Nothing was changed" in _text(response)
    assert _state() == before


def test_a_file_over_the_row_limit_is_refused_with_the_limit(client, login_as, people, monkeypatch):
    from lms.roster import parsing

    monkeypatch.setattr(parsing, "MAX_ROWS", 100)
    login_as(people["admin"])
    lines = [f"E{n},Person {n},p{n}@atlas.example,Atlas Care" for n in range(100_000)]
    before = _state()
    response = upload(client, csv_bytes("Employee id,Name,E-mail,Organisation", *lines))
    assert response.status_code == 400
    assert "more than 100 rows (line 102)" in _text(response) and "split it" in _text(response)
    assert _state() == before


def test_bad_cells_are_errors_with_line_and_column_and_block_the_file(client, login_as, people):
    login_as(people["admin"])
    data = csv_bytes(HEADER, ROWS[0],
                     "=HYPERLINK(1),Eve,eve@atlas.example,Atlas Care,agent,T,",
                     "A4,Not Mail,not-an-address,Atlas Care,agent,T,",
                     "A5,Boss,boss@atlas.example,Atlas Care,overlord,T,",
                     "A6,Late,late@atlas.example,Atlas Care,agent,T,31/02/2026",
                     "A1,Twin,twin@atlas.example,Atlas Care,agent,T,",
                     "A8,Nowhere,nowhere@x.example,Atlantis,agent,T,")
    response = upload(client, data)
    assert response.status_code == 302
    page = _text(client.get(response.location + "?show=error"))
    # The quotes belong to the (translated) message, the values inside them are escaped.
    for expected in ('Line 3, Employee id: starts with "="', 'Line 4, E-mail: "not-an-address" is not',
                     'Line 5, Role: "overlord" is not a role', 'Line 6, Start date: "31/02/2026" is not a date',
                     "Line 7, Employee id: A1 is also on line 2", "Line 8, Organisation: there is no organisation"):
        assert expected in page, expected
    assert 'id="count-error">Error: <strong>6</strong>' in page
    before = _state()
    refused = apply(client, response.location)
    assert refused.status_code == 302 and "/people/import/" in refused.location
    assert "Some rows have errors" in _text(client.get(refused.location))
    assert _state()[0] == before[0]
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_apply_creates_then_a_second_apply_is_all_unchanged(client, login_as, people):
    login_as(people["admin"])
    data = csv_bytes(HEADER, *ROWS, bom=True, sep=";")
    first = upload(client, data)
    assert 'id="count-create">Create: <strong>2</strong>' in _text(client.get(first.location))
    done = apply(client, first.location)
    assert done.location.startswith("/exports/")
    job = db.session.scalar(select(Job))
    assert job.state is JobState.SUCCEEDED and (job.progress_done, job.progress_total) == (2, 2)
    amina = db.session.scalar(select(User).where(User.email == "amina@atlas.example"))
    assert (amina.employee_id, amina.team, amina.role, amina.organisation_id) == ("A1", "Team 1", Role.AGENT,
                                                                                people["atlas"].id)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "user.created")) == 2
    report = db.session.scalar(select(JobFile).where(JobFile.job_id == job.id))
    rows = list(csv.DictReader(io.StringIO(report.data.decode("utf-8-sig"))))
    assert [(r["line"], r["result"]) for r in rows] == [("2", "created"), ("3", "created")]
    assert client.get(f"/exports/{job.id}/files/{report.name}").status_code == 200

    second = upload(client, data)
    page = _text(client.get(second.location))
    assert 'id="count-unchanged">Unchanged: <strong>2</strong>' in page
    assert "There is nothing to apply" in page


def test_update_matches_on_employee_id_then_email(client, login_as, people):
    known = factories.user(Role.AGENT, people["atlas"], email="amina@atlas.example", name="Amina H")
    known.employee_id = None
    other = factories.user(Role.AGENT, people["atlas"], email="old-omar@atlas.example", name="Omar Benali")
    other.employee_id, other.team = "A2", "Team 2"
    db.session.commit()
    login_as(people["admin"])
    response = upload(client, csv_bytes(HEADER, *ROWS))
    page = _text(client.get(response.location))
    assert 'id="count-update">Update: <strong>2</strong>' in page
    assert "Name, Employee id, Team" in page and "E-mail" in page
    apply(client, response.location)
    db.session.expire_all()
    assert (known.name, known.employee_id) == ("Amina Haddad", "A1")
    assert other.email == "omar@atlas.example"


def test_valid_rows_only_applies_those_and_reports_the_rest(client, login_as, people):
    login_as(people["admin"])
    response = upload(client, csv_bytes(HEADER, ROWS[0], "A2,Bad,not-mail,Atlas Care,agent,T,"))
    apply(client, response.location, valid_rows_only="y")
    emails = set(db.session.scalars(select(User.email)))
    assert "amina@atlas.example" in emails and "not-mail" not in emails
    report = db.session.scalar(select(JobFile)).data.decode("utf-8-sig")
    assert "skipped (error)" in report and "not an e-mail address" in report


def test_leavers_are_deactivated_only_after_confirmation(client, login_as, people):
    leaver = factories.user(Role.AGENT, people["atlas"], email="gone@atlas.example")
    elsewhere = factories.user(Role.AGENT, people["lisboa"], email="stays@lisboa.example")
    db.session.commit()
    login_as(people["admin"])
    response = upload(client, csv_bytes(HEADER, *ROWS), full_roster=True)
    page = _text(client.get(response.location))
    assert "Deactivate the 1 person who is not in this file" in page
    refused = apply(client, response.location)
    assert "Tick the box to confirm that 1 person is deactivated" in _text(client.get(refused.location))
    db.session.expire_all()
    assert leaver.active and db.session.scalar(select(func.count()).select_from(Job)) == 0
    apply(client, response.location, confirm_leavers="y")
    db.session.expire_all()
    assert not leaver.active and elsewhere.active and people["partner_admin"].active
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email.like("%@atlas.example"),
                                                                          User.active)) == 3


def test_partner_admin_imports_agents_into_their_own_organisation_only(client, login_as, people):
    login_as(people["partner_admin"])
    response = upload(client, csv_bytes(HEADER, ROWS[0], "L1,Lia,lia@lisboa.example,Lisboa CS,agent,T,",
                                        "A3,Tia,tia@atlas.example,Atlas Care,trainer,T,"))
    page = _text(client.get(response.location))
    assert "Line 3, Organisation: you can import people into Atlas Care only" in page
    assert "Line 4, Role: partner admins import agents only" in page
    apply(client, response.location, valid_rows_only="y")
    assert set(db.session.scalars(select(User.email).where(User.role == Role.AGENT))) == {"amina@atlas.example"}
    job = db.session.scalar(select(Job))
    assert job.organisation_id == people["atlas"].id and job.state is JobState.SUCCEEDED


def test_an_upload_is_its_uploaders(client, login_as, people):
    stored = RosterUpload(uploaded_by_id=people["admin"].id, filename="x.csv", data=csv_bytes(HEADER, ROWS[0]),
                          sha256="0" * 64, row_count=1)
    db.session.add(stored)
    db.session.commit()
    login_as(people["partner_admin"])
    assert client.get(f"/people/import/{stored.id}").status_code == 404
    assert client.get("/people/import/template.csv").data.startswith("\ufeffEmployee id,Name".encode())


def test_agents_and_trainers_cannot_import(client, login_as, people):
    trainer = factories.user(Role.TRAINER, people["client"])
    db.session.commit()
    login_as(trainer)
    assert client.get("/people/import").status_code == 403
