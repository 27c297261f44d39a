"""The register of data-subject requests (deadlines, extension, closing, audit) and restriction."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lms import clock
from lms.accounts.models import Role, User
from lms.audit.models import AuditEvent
from lms.extensions import db
from lms.privacy.requests import DataRequest, RequestState, add_months, due_soon_count
from lms.reminders.models import Message
from tests import factories
from tests.reminders.conftest import assign, make_programme
from tests.conftest import csrf_token

START = datetime(2026, 1, 31, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def people(app):
    clock.set_now(START)
    admin = factories.user(Role.ADMIN, email="admin@northwind.example", name="Aoife Byrne")
    agent = factories.user(Role.AGENT, email="rui@lisboa.example", name="Rui Costa")
    db.session.commit()
    yield {"admin": admin, "agent": agent}
    clock.set_now(None)


def _post(client, path: str, data: dict, page: str | None = None):
    return client.post(path, data={"csrf_token": csrf_token(client, page or path), **data})


def _new(client, agent, **fields):
    return _post(client, f"/people/{agent.id}/requests/new", {
        "right": "access", "received": "2026-01-31", "identity_check": "Sent from his work address on file",
        **fields})


def _actions(kind: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == kind)))


def test_one_month_counts_from_receipt_and_ends_on_the_months_last_day():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


def test_an_admin_records_a_request_and_sees_its_deadline(app, people, client, login_as):
    login_as(people["admin"])
    response = _new(client, people["agent"])
    assert response.status_code == 302
    item = db.session.scalars(select(DataRequest)).one()
    assert item.due_at.date() == date(2026, 2, 28) and item.state is RequestState.OPEN
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Request recorded: due on 28 Feb 2026." in html and "Due in 28 days" in html
    assert "Download their data (ZIP)" in html  # an access request is answered in one click
    listing = client.get("/admin/requests").get_data(as_text=True)
    assert "Rui Costa" in listing and "Access (Art. 15)" in listing
    event = _actions("privacy.request_recorded")[0]
    assert event.data == {"request_id": item.id, "right": "access", "due": "2026-02-28"}  # no free text


def test_a_bad_request_form_says_why_and_keeps_what_was_typed(app, people, client, login_as):
    login_as(people["admin"])
    response = _new(client, people["agent"], received="2026-02-05", identity_check="Phoned; asked his badge number")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "The date received cannot be in the future." in html
    assert "Phoned; asked his badge number" in html
    assert db.session.scalar(select(DataRequest.id)) is None


def test_extending_once_within_the_first_month_then_closing(app, people, client, login_as):
    login_as(people["admin"])
    _new(client, people["agent"], right="erasure")
    item = db.session.scalars(select(DataRequest)).one()
    page = f"/admin/requests/{item.id}"
    response = _post(client, page, {"action": "extend", "extend-months": "2", "extend-reason": "Records at 3 partners"})
    assert response.status_code == 302
    db.session.expire_all()
    assert item.due_at.date() == date(2026, 4, 30) and item.extension_reason == "Records at 3 partners"
    html = client.get(page).get_data(as_text=True)
    assert "extended" in html and "Extend the deadline" not in html  # once only
    assert "Erase their data…" in html

    clock.set_now(datetime(2026, 5, 3, 9, 0, tzinfo=timezone.utc))
    login_as(people["admin"])  # months later: a new session
    assert "Overdue by 3 days" in client.get(page).get_data(as_text=True)
    assert due_soon_count() == (0, 1)
    response = _post(client, page, {"action": "close", "close-state": "done", "close-outcome": "Erased on 3 May"})
    db.session.expire_all()
    assert item.state is RequestState.DONE and item.closed_at is not None
    assert _actions("privacy.request_closed")[0].data["late"] is True
    assert due_soon_count() == (0, 0)


def test_an_extension_after_the_first_month_is_refused(app, people, client, login_as):
    login_as(people["admin"])
    _new(client, people["agent"])
    item = db.session.scalars(select(DataRequest)).one()
    clock.set_now(START + timedelta(days=40))
    login_as(people["admin"])
    response = _post(client, f"/admin/requests/{item.id}", {"action": "extend", "extend-months": "1",
                                                             "extend-reason": "Too late"}, page=f"/admin/requests/{item.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "an extension must be decided, and the person told, within it" in html
    assert "Too late" in html  # what was typed is still there
    db.session.expire_all()
    assert item.extension_reason is None


def test_a_restricted_person_gets_no_reminders_and_lifting_it_is_audited(app, people, client, login_as, runner):
    agent = people["agent"]
    assign(make_programme(), agent.organisation, due_days=10)
    db.session.commit()
    login_as(people["admin"])
    response = _post(client, f"/people/{agent.id}/restriction", {"restricted": "y"}, page=f"/people/{agent.id}")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, agent.id).restricted_at is not None
    assert "Restricted since" in client.get(f"/people/{agent.id}").get_data(as_text=True)
    runner.invoke(args=["lms", "reminders", "send"])
    assert db.session.scalar(select(Message.id).where(Message.recipient == agent.email)) is None

    _post(client, f"/people/{agent.id}/restriction", {}, page=f"/people/{agent.id}")
    db.session.expire_all()
    assert db.session.get(User, agent.id).restricted_at is None
    assert [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.startswith("privacy.restri")).order_by(AuditEvent.seq))] == [
        "privacy.restricted", "privacy.restriction_lifted"]
    runner.invoke(args=["lms", "reminders", "send"])
    assert db.session.scalar(select(Message.id).where(Message.recipient == agent.email)) is not None


def test_only_admins_handle_requests(app, people, client, login_as):
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    login_as(trainer)
    assert client.get("/admin/requests").status_code == 403
    assert client.get(f"/people/{people['agent'].id}/requests/new").status_code == 403


def test_the_dashboard_warns_admins_of_requests_due_soon_or_overdue(app, people, client, login_as):
    login_as(people["admin"])
    assert "Data-subject requests:" not in client.get("/dashboard").get_data(as_text=True)
    _new(client, people["agent"], received="2026-01-05")  # due 5 February: within a week
    html = client.get("/dashboard").get_data(as_text=True)
    assert "1 due within 7 days" in html and "overdue" not in html.split("Data-subject requests:")[1][:80]
    clock.set_now(datetime(2026, 2, 6, 9, 0, tzinfo=timezone.utc))
    login_as(people["admin"])
    assert "1 overdue" in client.get("/dashboard").get_data(as_text=True)
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login_as(trainer)
    assert "Data-subject requests:" not in client.get("/dashboard").get_data(as_text=True)


def test_an_agent_asks_for_a_reissue_under_a_new_name_once(app, people, client, login_as):
    agent = people["agent"]
    login_as(agent)
    response = _post(client, "/account/reissue-request", {}, page="/")
    assert response.status_code == 302
    assert "Your request was sent to the administrators" in client.get("/").get_data(as_text=True)
    _post(client, "/account/reissue-request", {}, page="/")
    assert "You have already asked" in client.get("/").get_data(as_text=True)
    item = db.session.scalars(select(DataRequest)).one()
    assert item.right.value == "rectification" and item.user_id == agent.id and item.recorded_by_id == agent.id
    assert _actions("privacy.request_recorded")[0].actor_id == agent.id
