"""The privacy notice (Arts 13 and 14), its offer after the first sign-in, and the record of
processing (Art. 30) as a page, a CSV and a PDF: all generated from the same settings."""
from __future__ import annotations

import csv
import io
import subprocess

import pytest
from markupsafe import escape
from sqlalchemy import select

from lms.accounts.models import Role, User
from lms.audit.models import AuditEvent
from lms.extensions import db
from lms.privacy.processing import SECURITY_MEASURES, purposes, retention_schedule
from lms.privacy.retention import run_retention
from tests import factories


@pytest.fixture
def deployment(app):
    app.config.update(PRIVACY_CONTROLLER_NAME="Contoso Energy", PRIVACY_CONTROLLER_CONTACT="privacy@contoso.example",
                      PRIVACY_DPO_CONTACT="dpo@contoso.example", RETENTION_SESSIONS_DAYS=45,
                      PRIVACY_TRANSFERS="No transfers outside the EEA.")
    return app


def text_of(html: str) -> str:
    return " ".join(html.split())


def escaped(text: str) -> str:
    """As the template writes it (an apostrophe is &#39;)."""
    return str(escape(text))


def test_the_notice_is_public_and_says_what_the_settings_say(client, deployment):
    page = client.get("/privacy")

    assert page.status_code == 200
    html = text_of(page.get_data(as_text=True))
    assert "Contoso Energy" in html and 'href="mailto:dpo@contoso.example"' in html
    for purpose in purposes(deployment.config):
        assert escaped(purpose.name) in html and escaped(purpose.lawful_basis) in html
    assert "45 days after the session ends" in html
    for rule in retention_schedule(deployment.config):
        assert escaped(rule.label) in html
    assert "No transfers outside the EEA." in html
    assert "Erasure (Art. 17)" in html and "supervisory authority (Art. 77)" in html
    assert 'name="viewport"' in html  # readable on a phone (base.html)


def test_every_page_links_the_notice_in_its_footer(client, app):
    html = client.get("/login").get_data(as_text=True)
    footer = html[html.index('<footer'):]
    assert 'href="/privacy"' in footer and "Record of processing" not in footer


def test_the_notice_is_offered_after_the_first_sign_in_until_hidden(app, client, login_as):
    agent = factories.user(Role.AGENT)
    db.session.commit()
    login_as(agent)

    home = client.get("/").get_data(as_text=True)
    assert "Your data in the academy" in home and 'href="/privacy"' in home
    assert "Your data in the academy" in client.get("/courses").get_data(as_text=True)

    from tests.conftest import csrf_token
    hidden = client.post("/privacy/seen", data={"csrf_token": csrf_token(client, "/"), "next": "/courses"})
    assert hidden.status_code == 302 and hidden.location.endswith("/courses")
    assert "Your data in the academy" not in client.get("/").get_data(as_text=True)
    assert db.session.scalar(select(User.privacy_notice_seen_at).where(User.id == agent.id)) is not None

    other_browser = app.test_client()  # remembered on the account, not in the browser
    from tests.conftest import login
    login(other_browser, agent.email, factories.PASSWORD)
    assert "Your data in the academy" not in other_browser.get("/").get_data(as_text=True)


def test_hiding_the_offer_goes_back_to_this_site_only(app, client, login_as):
    agent = factories.user(Role.AGENT)
    db.session.commit()
    login_as(agent)
    from tests.conftest import csrf_token
    token = csrf_token(client, "/")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = client.post("/privacy/seen", data={"csrf_token": token, "next": target})
        assert response.location == "/", target
    assert client.post("/privacy/seen", data={"next": "/courses"}).status_code == 400  # no CSRF token


def test_admins_read_the_record_and_see_when_retention_last_ran(app, client, login_as, deployment):
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login_as(admin)
    assert 'href="/admin/processing-record"' in client.get("/").get_data(as_text=True)  # footer link

    html = text_of(client.get("/admin/processing-record").get_data(as_text=True))
    assert "Contoso Energy" in html and "dpo@contoso.example" in html
    assert "The retention job has never run." in html
    for measure in SECURITY_MEASURES:
        assert escaped(measure) in html

    run_retention()
    html = text_of(client.get("/admin/processing-record").get_data(as_text=True))
    assert "Last applied" in html and "never run" not in html


def test_the_record_as_csv_has_one_row_per_activity_and_is_spreadsheet_safe(app, client, login_as, deployment):
    deployment.config["PRIVACY_CONTROLLER_NAME"] = "=HYPERLINK(\"http://evil.example\")"
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login_as(admin)

    response = client.get("/admin/processing-record/record.csv")

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="record-of-processing-')
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row["Purpose of the processing (b)"] for row in rows] == [p.name for p in purposes(deployment.config)]
    security = next(row for row in rows if row["Purpose of the processing (b)"].startswith("Keeping the service"))
    assert "Sign-in sessions" in security["Time limits for erasure (f)"]
    assert "45 days after the session ends" in security["Time limits for erasure (f)"]
    assert all(row["Controller (a)"].startswith("'=") for row in rows)
    assert rows[0]["Data protection officer (a)"] == "dpo@contoso.example"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.record_downloaded")).one()
    assert event.data == {"format": "csv"} and event.actor_id == admin.id


def test_the_record_as_pdf_reads_as_the_settings_say(app, client, login_as, deployment, tmp_path):
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login_as(admin)

    response = client.get("/admin/processing-record/record.pdf")

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="record-of-processing-')
    path = tmp_path / "record.pdf"
    path.write_bytes(response.data)
    text = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    assert "Record of processing activities" in text and "Contoso Energy" in text
    for heading in ("(a) Controller", "(d) Recipients", "(e) Transfers", "(f) Time limits", "(g) Technical"):
        assert heading in text
    # Table cells wrap, so pdftotext may interleave their lines: look for words, not sentences.
    assert "45 days after" in text and "RETENTION_SESSIONS_DAYS" in text
    assert "Argon2id" in text
    assert db.session.scalars(select(AuditEvent.data).where(AuditEvent.action == "privacy.record_downloaded")
                              ).one() == {"format": "pdf"}
