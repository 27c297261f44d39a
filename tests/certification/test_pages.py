"""Dashboard, CSV, assignments, revocation and the agent's home page."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from lms.accounts.models import Role
from lms.audit.models import AuditEvent
from lms.certification import services
from lms.certification.models import Assignment, Award
from lms.certification.reports import spreadsheet_safe
from lms.extensions import db
from tests import factories
from tests.certification.conftest import START, make_programme
from tests.certification.test_cycle import _read_course, _take_quiz
from tests.assessment.conftest import best_form
from tests.conftest import csrf_token, login


def _world(at):
    partner, other = factories.organisation("Lisboa CS"), factories.organisation("Atlas Care")
    late = factories.user(Role.AGENT, partner, name="=HYPERLINK(\"http://evil\")")
    fine = factories.user(Role.AGENT, partner, name="Inês Carvalho")
    far = factories.user(Role.AGENT, other, name="Omar Tazi")
    admin = factories.user(Role.ADMIN)
    programme = make_programme()
    services.assign(admin, programme, organisation_id=partner.id, due_days=7)
    services.assign(admin, programme, organisation_id=other.id, due_days=60)
    db.session.commit()
    at(START + timedelta(days=10))
    return {"partner": partner, "other": other, "late": late, "fine": fine, "far": far, "programme": programme}


def test_dashboard_counts_filters_and_sorts(app, content, at, client, login_as):
    w = _world(at)
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    login_as(trainer)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Agents by organisation" in html and "Lisboa CS" in html and "Atlas Care" in html
    assert 'src="/dashboard/status.svg' in html
    overdue = client.get(f"/dashboard?status=overdue&organisation={w['partner'].id}").get_data(as_text=True)
    table = overdue[overdue.index("<tbody>", overdue.index("agents-heading")):]
    assert "Inês Carvalho" in table and "Omar Tazi" not in table
    by_name = client.get("/dashboard?sort=name&order=desc").get_data(as_text=True)
    assert by_name.index("Omar Tazi") < by_name.index("Inês Carvalho")
    assert "Omar Tazi" in client.get("/dashboard?q=tazi").get_data(as_text=True)


def test_csv_is_safe_for_spreadsheets_and_follows_the_filters(app, content, at, client, login_as):
    w = _world(at)
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    login_as(trainer)
    response = client.get(f"/dashboard.csv?organisation={w['partner'].id}")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:5] == ["Agent", "E-mail", "Organisation", "Programme", "Status"]
    names = {row[0] for row in rows[1:]}
    assert names == {"'=HYPERLINK(\"http://evil\")", "Inês Carvalho"}
    assert all(row[4] == "Overdue" for row in rows[1:])
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.csv")).one()
    assert event.actor_id == trainer.id


def test_spreadsheet_safe():
    for dangerous in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert spreadsheet_safe(dangerous).startswith("'")
    assert spreadsheet_safe("Omar") == "Omar" and spreadsheet_safe(None) == ""


def test_agent_home_shows_what_to_do_next(app, content, at, client, login_as):
    w = _world(at)
    login_as(w["fine"])
    html = client.get("/").get_data(as_text=True)
    assert "What you must do next" in html and "Overdue" in html
    assert "0 of 2 requirements done" in html
    assert 'href="/courses/recording-calls"' in html  # the next step is one click away
    assert "You are certified in everything assigned to you" not in html


def test_agent_home_counts_the_requirements_met(app, content, at, client, login_as):
    w = _world(at)
    _read_course(w["fine"])
    db.session.commit()
    login_as(w["fine"])
    html = client.get("/").get_data(as_text=True)
    assert "1 of 2 requirements done" in html and '<progress value="1" max="2"' in html


def test_agent_home_after_certification(app, content, at, client, login_as):
    w = _world(at)
    _read_course(w["fine"])
    db.session.commit()
    _take_quiz(w["fine"], content, best_form)
    login_as(w["fine"])
    html = client.get("/").get_data(as_text=True)
    award = db.session.scalars(select(Award)).one()
    assert "Certified" in html and f"valid until {award.valid_until:%d %b %Y}" in html
    assert award.verification_code in html
    assert "You are certified in everything assigned to you. Well done." in html


def _certified(w, content) -> Award:
    _read_course(w["fine"])
    db.session.commit()
    _take_quiz(w["fine"], content, best_form)
    return db.session.scalars(select(Award)).one()


def test_revoke_from_the_person_page(app, content, at, client, login_as):
    w = _world(at)
    award = _certified(w, content)
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    login_as(trainer)
    confirm_url = f"/awards/{award.id}/revoke"
    page = client.get(f"/people/{w['fine'].id}").get_data(as_text=True)
    assert "attempt #" in page
    # A link to the confirmation; no reason field, no form that revokes on the person page.
    assert (f'<a href="{confirm_url}">Revoke this award<span class="visually-hidden"> in '
            f'{award.programme_version.title}</span>…</a>') in page
    assert 'name="reason"' not in page and f'action="{confirm_url}"' not in page

    confirm = client.get(confirm_url).get_data(as_text=True)
    for fact in ("Inês Carvalho", award.programme_version.title, f"<code>{award.verification_code}</code>",
                 "verifies as revoked from now on", "becomes “Revoked”", "This cannot be undone."):
        assert fact in confirm, fact
    assert 'name="reason"' in confirm and f'href="/people/{w["fine"].id}" role="button" class="secondary">Keep the award' \
        in confirm
    token = csrf_token(client, confirm_url)
    for blank in ("", "  "):
        html = client.post(confirm_url, data={"reason": blank, "csrf_token": token}).get_data(as_text=True)
        assert 'id="reason-error" class="field-error">Give the reason for revoking this award.' in html
    too_long = "Shared the answers in the team chat. " * 30
    html = client.post(confirm_url, data={"reason": too_long, "csrf_token": token}).get_data(as_text=True)
    assert "Field cannot be longer than 1000 characters." in html and too_long.strip() in html
    assert client.post(confirm_url, data={"reason": "Answers shared"}).status_code == 400  # no CSRF token
    db.session.expire_all()
    assert db.session.get(Award, award.id).revoked_at is None

    response = client.post(confirm_url, data={"reason": "  Answers shared ", "csrf_token": token})
    assert response.status_code == 302 and response.location.endswith(f"/people/{w['fine'].id}")
    db.session.expire_all()
    revoked = db.session.get(Award, award.id)
    assert revoked.revoke_reason == "Answers shared" and revoked.revoked_by_id == trainer.id
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "award.revoked")).one()
    assert event.data["reason"] == "Answers shared" and event.actor_id == trainer.id
    after = client.get(response.location).get_data(as_text=True)
    assert "The award is revoked. It stays in the agent&#39;s history." in after and "Revoked" in after
    assert "Reason: Answers shared" in after and confirm_url not in after
    # The confirmation of a revoked award sends back to the person, and nothing changes.
    again = client.get(confirm_url)
    assert again.status_code == 302 and "This award is already revoked." in client.get(again.location).get_data(as_text=True)
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "award.revoked")).one() == event


def test_only_who_manages_certification_revokes(app, content, at, client, login_as):
    w = _world(at)
    award = _certified(w, content)
    people = [factories.user(role, w["partner"]) for role in (Role.AGENT, Role.AUDITOR, Role.PARTNER_ADMIN)]
    people.append(w["fine"])  # the holder themself
    db.session.commit()
    for person in people:
        other = app.test_client()
        login(other, person.email, factories.PASSWORD)
        token = csrf_token(other, "/account/security")
        assert other.get(f"/awards/{award.id}/revoke").status_code == 403, person.role
        assert other.post(f"/awards/{award.id}/revoke", data={"reason": "x", "csrf_token": token}).status_code == 403
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login_as(admin)
    assert client.get("/awards/999999/revoke").status_code == 404
    db.session.expire_all()
    assert db.session.get(Award, award.id).revoked_at is None


def test_assign_through_the_form(app, content, at, client, login_as):
    org = factories.organisation("New Partner")
    agent = factories.user(Role.AGENT, org)
    programme = make_programme()
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    login_as(trainer)
    token = csrf_token(client, "/assignments")
    bad = client.post("/assignments", data={"programme_id": programme.id, "target": "agent",
                                            "agent_email": "nobody@example.org", "due_rule": "days",
                                            "due_days": "10", "csrf_token": token})
    assert "No agent has this e-mail address." in bad.get_data(as_text=True)
    assert 'value="nobody@example.org"' in bad.get_data(as_text=True)
    ok = client.post("/assignments", data={"programme_id": programme.id, "target": "organisation",
                                           "organisation_id": org.id, "due_rule": "days", "due_days": "10",
                                           "csrf_token": token})
    assert ok.status_code == 302
    assignment = db.session.scalars(select(Assignment)).one()
    assert assignment.organisation_id == org.id and assignment.due_days == 10
    agent_browser = app.test_client()
    login(agent_browser, agent.email, factories.PASSWORD)
    assert "Recorded lines certification" in agent_browser.get("/").get_data(as_text=True)


def test_dashboard_counts_are_reused_briefly_then_recounted(app, content, at, client, login_as):
    w = _world(at)
    app.config["DASHBOARD_COUNTS_SECONDS"] = 30
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    login_as(trainer)

    def atlas_total(html: str) -> str:
        row = html.split('<th scope="row">Atlas Care</th>')[1].split("</tr>")[0]
        return row.rsplit("<td>", 1)[1].split("</td>")[0]

    assert atlas_total(client.get("/dashboard").get_data(as_text=True)) == "1"
    factories.user(Role.AGENT, w["other"], name="Zoe Newcomer")
    services.sync_enrolments()
    db.session.commit()
    at(START + timedelta(days=10, seconds=5))
    html = client.get("/dashboard?sort=name").get_data(as_text=True)
    assert "Zoe Newcomer" in html  # the table is always live
    assert atlas_total(html) == "1" and "Counted at" in html  # the counts are 5 seconds old
    at(START + timedelta(days=10, seconds=31))
    assert atlas_total(client.get("/dashboard").get_data(as_text=True)) == "2"  # recounted
