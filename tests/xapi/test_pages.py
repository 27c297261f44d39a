"""The admin's xAPI page: counts by state, failures with their error, Retry, and the NDJSON export."""
from __future__ import annotations

import json
import re

from sqlalchemy import select

from lms.accounts.models import Organisation, Role
from lms.audit.models import AuditEvent
from lms.extensions import db
from lms.jobs.models import Job, JobFile, JobState
from lms.xapi import delivery
from lms.xapi.models import OutboxState, XapiStatement
from tests import factories
from tests.conftest import csrf_token
from tests.xapi.ralph_lrs import free_port
from tests.xapi.scenario import read_course
from tests.xapi.test_outbox import _rows


def _count(html: str, state: str) -> int:
    match = re.search(rf'data-state="{state}">(\d+)<', html)
    assert match, state
    return int(match.group(1))


def test_an_empty_outbox_says_so(app, client, login_as):
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login_as(admin)
    html = client.get("/admin/xapi").get_data(as_text=True)
    assert "No learning record store is set (XAPI_LRS_URL)" in html
    assert _count(html, "queued") == 0
    assert "No failures: every statement sent so far was accepted." in html


def test_failures_show_their_error_and_retry_queues_them_again(app, content, client, login_as):
    app.config.update(XAPI_LRS_URL=f"http://127.0.0.1:{free_port()}/xAPI/", XAPI_LRS_KEY="k", XAPI_LRS_SECRET="s")
    admin, agent = factories.user(Role.ADMIN), factories.user(Role.AGENT)
    db.session.commit()
    read_course(agent)
    total = len(_rows())
    delivery.send_pending()

    login_as(admin)
    html = client.get("/admin/xapi").get_data(as_text=True)
    assert f"Sending to <strong>{app.config['XAPI_LRS_URL']}</strong>" in html
    assert _count(html, "failed") == total and _count(html, "queued") == 0
    assert "The LRS could not be reached" in html
    assert f"Retry all failed ({total})" in html
    first = _rows()[0]
    assert f'aria-label="Retry statement {first.statement_id}"' in html

    token = csrf_token(client, "/admin/xapi")
    response = client.post("/admin/xapi/retry", data={"row_id": str(first.id), "csrf_token": token},
                           follow_redirects=True)
    assert "1 statement queued again" in response.get_data(as_text=True)  # counted in words (#19)
    assert [row.state for row in _rows()].count(OutboxState.QUEUED) == 1
    row = db.session.get(XapiStatement, first.id)
    assert row.attempts == 0 and row.next_try_at is not None
    html = client.post("/admin/xapi/retry", data={"csrf_token": token}, follow_redirects=True).get_data(as_text=True)
    assert f"{total - 1} statement{'' if total == 2 else 's'} queued again" in html
    assert _count(html, "queued") == total and _count(html, "failed") == 0
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "xapi.retried")).all()


def test_the_ndjson_export_holds_the_days_statements(app, content, client, login_as):
    admin, agent = factories.user(Role.ADMIN), factories.user(Role.AGENT)
    db.session.commit()
    read_course(agent)
    rows = _rows()
    day = rows[0].occurred_at.date().isoformat()
    login_as(admin)
    token = csrf_token(client, "/admin/xapi")
    response = client.post("/admin/xapi/export", data={"date_from": day, "date_to": day, "csrf_token": token})
    job = db.session.scalars(select(Job)).one()
    assert response.status_code == 302 and response.location.endswith(f"/exports/{job.id}")
    assert job.state is JobState.SUCCEEDED and job.kind == "xapi_ndjson"
    detail = client.get(f"/exports/{job.id}").get_data(as_text=True)
    assert "xAPI statements (NDJSON)" in detail
    file = db.session.scalars(select(JobFile).where(JobFile.job_id == job.id)).one()
    assert file.name == f"xapi-statements-{day}-to-{day}.ndjson" and file.media_type == "application/x-ndjson"
    lines = [json.loads(line) for line in file.data.decode().splitlines()]
    assert [line["id"] for line in lines] == [row.statement_id for row in rows]

    # Another day holds none of them.
    client.post("/admin/xapi/export", data={"date_from": "2025-01-01", "date_to": "2025-01-02", "csrf_token": token})
    other = db.session.scalars(select(Job).order_by(Job.id.desc())).first()
    assert db.session.scalars(select(JobFile.data).where(JobFile.job_id == other.id)).one() == b""


def test_an_export_needs_dates_in_order(app, client, login_as):
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login_as(admin)
    token = csrf_token(client, "/admin/xapi")
    html = client.post("/admin/xapi/export", data={"date_from": "2026-02-01", "date_to": "2026-01-01",
                                                    "csrf_token": token}).get_data(as_text=True)
    assert "The end date is before the start date." in html
    html = client.post("/admin/xapi/export", data={"date_from": "", "date_to": "2026-01-01",
                                                    "csrf_token": token}).get_data(as_text=True)
    assert "Give the first day." in html
    assert db.session.scalars(select(Job)).all() == []


def test_an_admin_opts_an_organisation_in_to_email_actors(app, client, login_as):
    admin = factories.user(Role.ADMIN)
    org = factories.organisation("Lisboa CS")
    db.session.commit()
    login_as(admin)
    page = client.get(f"/admin/organisations/{org.id}").get_data(as_text=True)
    assert "Identify people by e-mail in xAPI statements" in page
    response = client.post(f"/admin/organisations/{org.id}", data={
        "name": org.name, "kind": org.kind.value, "country": org.country, "contract_reference": "DPA-1",
        "contact_email": "contact@partner.example", "xapi_identify_by_email": "y",
        "csrf_token": csrf_token(client, f"/admin/organisations/{org.id}")})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).xapi_identify_by_email is True
