"""The breach register (Art. 33(5)): what an admin records is what is stored, the audit log gets
no free text, the 72-hour clock reads right at any moment, mistakes are shown with what was
typed, only admins get in, and the dashboard warns when a notice is due."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lms import clock
from lms.accounts.models import Role
from lms.audit.models import AuditEvent
from lms.extensions import db, limiter
from lms.privacy.breaches import Breach, BreachData, BreachStatus, duration_words, record_breach
from tests import factories
from tests.conftest import csrf_token, login

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)  # a Monday
HOUR = timedelta(hours=1)
FACTS = "Agent e-mailed Ms Example's statement to another customer"  # free text that may name people
TITLE = "Statement sent to the wrong customer"


@pytest.fixture
def at(app):
    """Move the clock: at(datetime) sets it; the real clock comes back after the test."""
    clock.set_now(T0)
    yield clock.set_now
    clock.set_now(None)


@pytest.fixture
def admin(app):
    person = factories.user(Role.ADMIN)
    db.session.commit()
    return person


def form_data(client, path: str, **values) -> dict[str, str]:
    data = {"csrf_token": csrf_token(client, path), "title": TITLE, "aware_at": "2026-01-05T07:00",
            "occurred_at": "2026-01-04T16:30", "facts": FACTS, "subject_categories": "Customers",
            "subjects_approx": "1", "record_categories": "Account statement", "records_approx": "1",
            "consequences": "Account balance disclosed", "measures": "Recipient asked to delete it",
            "authority_notified_at": "", "authority_delay_reason": "", "authority_not_required_reason": "",
            "subjects_informed_at": "", "subjects_not_informed_reason": "", "status": "open"}
    data.update(values)
    return data


def a_breach(admin, aware_at: datetime, **values) -> Breach:
    breach = record_breach(admin, BreachData(title=values.pop("title", TITLE), aware_at=aware_at, facts=FACTS,
                                             **values))
    db.session.commit()
    return breach


def signed_in(app, person):
    """A new browser signed in now: moving the clock by days ends the sessions of earlier ones."""
    limiter.reset()  # a dozen sign-ins in a test are not an attack on the account
    client = app.test_client()
    assert login(client, person.email, factories.PASSWORD).status_code == 302
    return client


def register_page(app, admin) -> str:
    response = signed_in(app, admin).get("/admin/breaches")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_recording_a_breach_stores_it_and_audits_only_non_personal_facts(client, login_as, admin, at):
    login_as(admin)
    data = form_data(client, "/admin/breaches/new")
    del data["status"]  # not on the form for a new breach
    response = client.post("/admin/breaches/new", data=data)
    assert response.status_code == 302 and response.location.endswith("/admin/breaches")

    breach = db.session.scalars(select(Breach)).one()
    assert (breach.title, breach.facts, breach.status) == (TITLE, FACTS, BreachStatus.OPEN)
    assert breach.aware_at == datetime(2026, 1, 5, 7, 0, tzinfo=timezone.utc)
    assert breach.occurred_at == datetime(2026, 1, 4, 16, 30, tzinfo=timezone.utc)
    assert (breach.subjects_approx, breach.records_approx) == (1, 1)
    assert (breach.subject_categories, breach.record_categories) == ("Customers", "Account statement")
    assert breach.measures == "Recipient asked to delete it" and breach.recorded_by_id == admin.id
    assert breach.authority_notified_at is None and breach.created_at == T0

    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "breach.recorded")).one()
    assert (event.actor_id, event.target_type, event.target_id) == (admin.id, "breach", str(breach.id))
    assert event.data == {"status": "open", "aware_at": "2026-01-05T07:00:00+00:00", "authority_notified": False}
    stored = json.dumps(event.data)
    for free_text in (TITLE, FACTS, "Customers", "Account statement", "Recipient"):
        assert free_text not in stored

    page = client.get("/admin/breaches", follow_redirects=True).get_data(as_text=True)
    assert "Breach 1 recorded. The authority must be notified by 08 Jan 2026, 07:00 UTC" in page
    assert TITLE in page and "Notify by 08 Jan 2026, 07:00 UTC — 70 h left" in page


def test_the_72_hour_clock_as_time_passes(app, admin, at):
    breach = a_breach(admin, T0)

    page = register_page(app, admin)
    assert "Clock running" in page and "Notify by 08 Jan 2026, 09:00 UTC — 72 h left" in page

    at(T0 + 50 * HOUR + 20 * timedelta(minutes=1))
    page = register_page(app, admin)
    assert "Under 24 h left" in page and "Notify by 08 Jan 2026, 09:00 UTC — 21 h left" in page

    at(T0 + 71 * HOUR + 30 * timedelta(minutes=1))
    assert "— under 1 h left" in register_page(app, admin)

    at(T0 + 77 * HOUR)
    page = register_page(app, admin)
    assert "Overdue</span>" in page and "Overdue by 5 h (notify by 08 Jan 2026, 09:00 UTC)" in page

    at(T0 + 200 * HOUR)
    assert "Overdue by 5 days 8 h" in register_page(app, admin)

    breach.authority_notified_at = T0 + 60 * HOUR
    db.session.commit()
    page = register_page(app, admin)
    assert "Notified</span>" in page and "Notified on 07 Jan 2026, 21:00 UTC" in page
    assert "after the 72 hours" not in page and "Overdue" not in page

    breach.authority_notified_at, breach.authority_delay_reason = T0 + 80 * HOUR, "Facts unclear until day 3"
    db.session.commit()
    assert "Notified on 08 Jan 2026, 17:00 UTC, 8 h after the 72 hours" in register_page(app, admin)


def test_a_breach_judged_unlikely_to_risk_people_stops_the_clock(app, admin, at):
    a_breach(admin, T0 - 100 * HOUR, authority_not_required_reason="Encrypted laptop, key not lost")
    page = register_page(app, admin)
    assert "Not notifiable" in page and "Not notified: unlikely to result in a risk" in page
    assert "Overdue" not in page


def test_open_breaches_come_first_the_most_urgent_at_the_top(app, admin, at):
    closed = {"authority_not_required_reason": "No risk", "subjects_not_informed_reason": "No risk",
              "status": BreachStatus.CLOSED}
    a_breach(admin, T0 - 300 * HOUR, title="Older closed breach", **closed)
    a_breach(admin, T0 - 2 * HOUR, title="Newer closed breach", **closed)
    a_breach(admin, T0 - 10 * HOUR, title="Newer open breach")
    a_breach(admin, T0 - 200 * HOUR, title="Older open breach")
    page = register_page(app, admin)
    titles = ["Older open breach", "Newer open breach", "Newer closed breach", "Older closed breach"]
    assert [page.index(title) for title in titles] == sorted(page.index(title) for title in titles)


def test_updating_a_breach_records_the_notice_and_closes_it(client, login_as, admin, at):
    breach = a_breach(admin, T0 - 10 * HOUR)
    login_as(admin)
    path = f"/admin/breaches/{breach.id}"
    assert "62 h left" in client.get(path).get_data(as_text=True)

    response = client.post(path, data=form_data(client, path, aware_at="2026-01-04T23:00",
                                                authority_notified_at="2026-01-05T08:15",
                                                subjects_not_informed_reason="Risk not high: balance only",
                                                status="closed"))
    assert response.status_code == 302
    db.session.expire_all()
    assert breach.status is BreachStatus.CLOSED
    assert breach.authority_notified_at == datetime(2026, 1, 5, 8, 15, tzinfo=timezone.utc)
    assert breach.subjects_not_informed_reason == "Risk not high: balance only"

    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "breach.updated")).one()
    assert event.target_id == str(breach.id) and event.actor_id == admin.id
    assert event.data["status"] == ["open", "closed"]
    assert {"authority_notified_at", "status", "subjects_not_informed_reason", "measures"} <= set(event.data["fields"])
    assert "title" not in event.data["fields"]  # unchanged
    assert "Risk not high" not in json.dumps(event.data) and "Recipient" not in json.dumps(event.data)
    page = register_page(client.application, admin)
    assert "Closed</span>" in page and "Notified on 05 Jan 2026, 08:15 UTC" in page


def test_typing_mistakes_are_shown_with_what_was_typed(client, login_as, admin, at):
    login_as(admin)
    response = client.post("/admin/breaches/new", data=form_data(
        client, "/admin/breaches/new", title="", subjects_approx="about 300", aware_at="yesterday"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Please correct the highlighted fields" in page
    assert "Give the breach a short title." in page
    assert "Not a valid integer value." in page and "Not a valid datetime value." in page
    assert 'value="about 300"' in page and 'value="yesterday"' in page
    assert "Ms Example&#39;s statement" in page  # the facts, kept
    assert db.session.scalars(select(Breach)).all() == []


def test_rules_across_fields_are_explained_and_nothing_is_stored(client, login_as, admin, at):
    login_as(admin)
    path = "/admin/breaches/new"
    page = client.post(path, data=form_data(client, path, aware_at="2026-01-06T09:00")).get_data(as_text=True)
    assert "This is in the future: give the time it happened, in UTC." in page
    assert 'value="2026-01-06T09:00"' in page

    page = client.post(path, data=form_data(client, path, aware_at="2026-01-01T09:00",
                                            authority_notified_at="2026-01-05T08:00")).get_data(as_text=True)
    assert "more than 72 hours after you became aware: give the reasons for the delay (Art. 33(1))." in page
    assert 'value="2026-01-05T08:00"' in page

    page = client.post(path, data=form_data(client, path, occurred_at="2026-01-05T08:00")).get_data(as_text=True)
    assert "The breach cannot happen after you became aware of it." in page

    breach = a_breach(admin, T0 - HOUR)
    edit = f"/admin/breaches/{breach.id}"
    page = client.post(edit, data=form_data(client, edit, status="closed", title="Renamed")).get_data(as_text=True)
    assert "Before closing: give the time the authority was notified, or why it need not be" in page
    assert "Before closing: give the time the people affected were told, or why they were not (Art. 34)." in page
    assert 'value="Renamed"' in page
    assert db.session.scalars(select(Breach.title)).all() == [TITLE]
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("breach.%"))).all() == [
        "breach.recorded"]


def test_a_form_without_its_csrf_token_changes_nothing(client, login_as, admin, at):
    login_as(admin)
    data = form_data(client, "/admin/breaches/new")
    del data["csrf_token"]
    assert client.post("/admin/breaches/new", data=data).status_code == 400
    assert db.session.scalars(select(Breach)).all() == []


@pytest.mark.parametrize("role", [Role.AGENT, Role.TRAINER, Role.AUDITOR])
def test_only_admins_reach_the_register(client, login_as, admin, at, role):
    breach = a_breach(admin, T0)
    person = factories.user(role)
    db.session.commit()
    login_as(person)
    assert client.get("/admin/breaches").status_code == 403
    assert client.get(f"/admin/breaches/{breach.id}").status_code == 403
    data = form_data(client, "/")  # any page's token: the policy refuses before the form is read
    assert client.post("/admin/breaches/new", data=data).status_code == 403
    assert client.post(f"/admin/breaches/{breach.id}", data=data).status_code == 403
    assert db.session.scalar(select(db.func.count()).select_from(Breach)) == 1
    assert "Breaches</a>" not in client.get("/").get_data(as_text=True)


def test_the_dashboard_warns_admins_when_a_notice_is_due_within_24_hours(app, admin, at):
    breach = a_breach(admin, T0)
    trainer = factories.user(Role.TRAINER)
    db.session.commit()

    def dashboard(person) -> str:
        response = signed_in(app, person).get("/dashboard")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    assert "Breach notification" not in dashboard(admin)  # 72 h left

    at(T0 + 48 * HOUR - timedelta(minutes=1))
    assert "Breach notification" not in dashboard(admin)  # a minute more than 24 h left

    at(T0 + 49 * HOUR)
    page = dashboard(admin)
    assert "Breach notification due within 24 hours" in page
    assert "1 open breach not notified to the supervisory authority (Art. 33)." in page
    assert "The earliest deadline is 8 Jan 2026, 09:00:00 UTC." in page and 'href="/admin/breaches"' in page
    assert "Breach notification" not in dashboard(trainer)  # the register is not theirs

    at(T0 + 73 * HOUR)
    page = dashboard(admin)
    assert "Breach notification overdue" in page and "The earliest deadline was 8 Jan 2026, 09:00:00 UTC." in page

    breach.authority_notified_at = T0 + 70 * HOUR
    db.session.commit()
    assert "Breach notification" not in dashboard(admin)


def test_durations_read_in_hours_then_days():
    assert duration_words(timedelta(minutes=59)) == "under 1 h"
    assert duration_words(timedelta(hours=31, minutes=59)) == "31 h"
    assert duration_words(-timedelta(hours=5, minutes=10)) == "5 h"
    assert duration_words(timedelta(hours=72, minutes=30)) == "72 h"
    assert duration_words(timedelta(hours=96)) == "4 days"
    assert duration_words(timedelta(hours=98)) == "4 days 2 h"
