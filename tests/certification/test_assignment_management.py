"""Assignments (#19): the person picker and its search, changing an assignment's due rule, and
removing one behind a confirmation, each within the partner admin's organisation."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.audit.models import AuditEvent
from lms.audit_pages.sentences import names_for, sentence
from lms.certification import assignments, services
from lms.certification.models import Assignment, Award, Enrolment
from lms.extensions import db
from tests import factories
from tests.certification.conftest import START, make_programme
from tests.conftest import csrf_token, login
from tests.evidence.test_certificate_download import statements


@pytest.fixture
def world(app, at):
    """Two partners, their agents (one inactive, one trainer among the people) and their admins."""
    atlas, lisboa = factories.organisation("Atlas Care"), factories.organisation("Lisboa CS")
    people = {
        "yasmine": factories.user(Role.AGENT, atlas, name="Yasmine El Idrissi", email="yasmine@atlas.example"),
        "omar": factories.user(Role.AGENT, atlas, name="Omar Tazi", email="omar@atlas.example"),
        "gone": factories.user(Role.AGENT, atlas, name="Old Leaver", email="leaver@atlas.example", active=False),
        "ines": factories.user(Role.AGENT, lisboa, name="Inês Carvalho", email="ines@lisboa.example"),
        "trainer": factories.user(Role.TRAINER, name="Tom Trainer"),
        "partner_admin": factories.user(Role.PARTNER_ADMIN, atlas, name="Atlas Admin"),
        "lisboa_admin": factories.user(Role.PARTNER_ADMIN, lisboa, name="Lisboa Admin"),
    }
    db.session.commit()
    return {"atlas": atlas, "lisboa": lisboa, **people}


def _datalist(html: str) -> str:
    return html[html.index('<datalist id="agent-choices"'):].split("</datalist>")[0]


def _search(client, q: str) -> list[str]:
    response = client.get("/assignments/people.json", query_string={"q": q})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    return [person["value"] for person in response.get_json()["people"]]


def test_the_picker_offers_only_the_agents_the_user_may_assign_to(world, client, login_as):
    login_as(world["partner_admin"])
    page = client.get("/assignments").get_data(as_text=True)
    offered = _datalist(page)
    assert 'list="agent-choices"' in page and "data-search-url" not in offered  # few: all on the page
    assert "Omar Tazi &lt;omar@atlas.example&gt;" in offered and "Yasmine El Idrissi" in offered
    for absent in ("Inês Carvalho", "Old Leaver", "Tom Trainer", "Atlas Admin"):
        assert absent not in offered, absent
    assert "person_picker.js" not in page  # nothing to search for: the list is complete

    trainer = client.application.test_client()
    login(trainer, world["trainer"].email, factories.PASSWORD)
    offered = _datalist(trainer.get("/assignments").get_data(as_text=True))
    assert "Inês Carvalho" in offered and "Omar Tazi" in offered and "Old Leaver" not in offered


def test_a_long_roster_is_searched_within_scope_and_twenty_at_most(world, client, login_as, monkeypatch):
    for n in range(25):
        factories.user(Role.AGENT, world["atlas"], name=f"Atlas Agent {n:02}", email=f"a{n:02}@atlas.example")
    factories.user(Role.AGENT, world["lisboa"], name="Lisboa Omar", email="omar@lisboa.example")
    db.session.commit()
    monkeypatch.setattr(assignments, "LISTED_AGENTS", 10)
    login_as(world["partner_admin"])
    page = client.get("/assignments").get_data(as_text=True)
    offered = _datalist(page)
    assert 'data-search-url="/assignments/people.json"' in offered and "<option" not in offered
    assert page.count("person_picker.js") == 1 and "<script>" not in page  # once, and no inline script

    found = _search(client, "atlas agent")
    assert len(found) == 20 and found[0] == "Atlas Agent 00 <a00@atlas.example>"
    assert _search(client, "OMAR") == ["Omar Tazi <omar@atlas.example>"]  # not Lisboa's Omar
    assert _search(client, "lisboa") == [] and _search(client, "ines") == [] and _search(client, "Inês") == []
    assert _search(client, "leaver") == []  # deactivated
    assert _search(client, "o") == []  # one character finds nothing
    assert _search(client, "%") == [] and _search(client, "_") == []  # characters, not wildcards
    assert _search(client, "Omar Tazi <omar@atlas.example>") == ["Omar Tazi <omar@atlas.example>"]

    agent = client.application.test_client()
    login(agent, world["omar"].email, factories.PASSWORD)
    assert agent.get("/assignments/people.json?q=omar").status_code == 403


def test_assigning_the_person_picked_and_refusing_someone_unknown_or_elsewhere(world, client, login_as):
    programme = make_programme()
    db.session.commit()
    login_as(world["trainer"])
    token = csrf_token(client, "/assignments")
    base = {"programme_id": programme.id, "target": "agent", "due_rule": "days", "due_days": "10",
            "csrf_token": token}

    typed = client.post("/assignments", data={**base, "agent_email": "Yasmine"}).get_data(as_text=True)
    assert "Choose an agent from the list, or type their e-mail address." in typed
    assert 'value="Yasmine"' in typed and 'aria-invalid="true"' in typed
    unknown = client.post("/assignments", data={**base, "agent_email": "Nobody <nobody@atlas.example>"})
    assert "No agent has this e-mail address." in unknown.get_data(as_text=True)
    assert 'value="Nobody &lt;nobody@atlas.example&gt;"' in unknown.get_data(as_text=True)
    assert db.session.scalars(select(Assignment)).all() == []

    picked = client.post("/assignments", data={**base, "agent_email": "Yasmine El Idrissi <yasmine@atlas.example>"})
    assert picked.status_code == 302
    assignment = db.session.scalars(select(Assignment)).one()
    assert (assignment.user_id, assignment.due_days) == (world["yasmine"].id, 10)
    enrolment = db.session.scalars(select(Enrolment)).one()
    assert (enrolment.user_id, enrolment.due_at) == (world["yasmine"].id, START + timedelta(days=10))
    typed_address = client.post("/assignments", data={**base, "agent_email": " OMAR@atlas.example "})
    assert typed_address.status_code == 302

    # A partner admin naming another organisation's agent gets the same answer as for nobody.
    make_available(programme, world["atlas"])
    partner = client.application.test_client()
    login(partner, world["partner_admin"].email, factories.PASSWORD)
    elsewhere = partner.post("/assignments", data={**base, "csrf_token": csrf_token(partner, "/assignments"),
                                                   "agent_email": "Inês Carvalho <ines@lisboa.example>"})
    body = elsewhere.get_data(as_text=True)
    assert "No agent has this e-mail address." in body and 'value="Inês Carvalho &lt;ines@lisboa.example&gt;"' in body
    assert db.session.scalar(select(Assignment).where(Assignment.user_id == world["ines"].id)) is None


def make_available(programme, organisation) -> None:
    from lms.accounts.models import ProgrammeAvailability

    db.session.add(ProgrammeAvailability(programme_id=programme.id, organisation_id=organisation.id))
    db.session.commit()


def test_changing_the_due_rule_moves_the_enrolments_due_dates(world, client, login_as, at):
    programme = make_programme()
    assignment = services.assign(world["trainer"], programme, organisation_id=world["atlas"].id, due_days=7)
    db.session.commit()
    at(START + timedelta(days=3))
    newcomer = factories.user(Role.AGENT, world["atlas"], name="New Starter")  # joins 3 days later
    newcomer.time_zone = "Asia/Manila"
    db.session.commit()
    services.sync_enrolments()
    db.session.commit()
    login_as(world["trainer"])
    edit = f"/assignments/{assignment.id}/edit"
    listing = client.get("/assignments").get_data(as_text=True)
    assert f'href="{edit}"' in listing and f'href="/assignments/{assignment.id}/remove"' in listing
    page = client.get(edit).get_data(as_text=True)
    assert "Every agent of Atlas Care, now and later" in page and "3 agents are enrolled" in page
    assert 'value="7"' in page and "remove this assignment</a> and assign again" in page

    token = csrf_token(client, edit)
    past = client.post(edit, data={"due_rule": "date", "due_date": "2025-12-31", "csrf_token": token})
    assert "Choose a due date in the future." in past.get_data(as_text=True)
    assert 'value="2025-12-31"' in past.get_data(as_text=True)

    changed = client.post(edit, data={"due_rule": "days", "due_days": "20", "csrf_token": token})
    assert changed.status_code == 302
    assert "The due date is changed for the 3 agents" in client.get("/assignments").get_data(as_text=True)
    db.session.expire_all()
    dues = {e.user_id: (e.due_at, e.next_due_at) for e in db.session.scalars(select(Enrolment))}
    assert dues[world["omar"].id] == (START + timedelta(days=20),) * 2
    assert dues[newcomer.id] == (START + timedelta(days=23),) * 2  # from when they joined, as at creation

    client.post(edit, data={"due_rule": "date", "due_date": "2026-03-31", "csrf_token": token})
    db.session.expire_all()
    assignment = db.session.get(Assignment, assignment.id)
    assert (assignment.due_at, assignment.due_days) == (datetime(2026, 3, 31, 23, 59, tzinfo=timezone.utc), None)
    dues = {e.user_id: e.due_at for e in db.session.scalars(select(Enrolment))}
    assert dues[newcomer.id] == datetime(2026, 3, 31, 15, 59, 59, tzinfo=timezone.utc)  # 23:59:59 in Manila
    assert "<td>31 Mar 2026</td>" in client.get("/assignments").get_data(as_text=True)

    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "assignment.changed")
                                .order_by(AuditEvent.seq)).all()
    assert [e.data["before"] for e in events] == [{"due_at": None, "due_days": 7}, {"due_at": None, "due_days": 20}]
    assert events[1].data["enrolments"] == 3 and events[1].data["organisation_id"] == world["atlas"].id
    assert sentence(events[0], names_for(events)) == (
        "Tom Trainer changed when recording-cert is due for every agent of Atlas Care")


def test_removing_keeps_progress_and_awards_and_a_new_assignment_takes_them_up(world, client, login_as, at):
    programme = make_programme()
    by_org = services.assign(world["trainer"], programme, organisation_id=world["atlas"].id, due_days=7)
    db.session.flush()
    award = factories.award(world["omar"], programme, START + timedelta(hours=1))
    at(START + timedelta(days=1))
    own = services.assign(world["trainer"], programme, user=world["yasmine"], due_days=30)  # hers as well
    db.session.commit()
    by_org_id, own_id = by_org.id, own.id
    login_as(world["trainer"])
    remove = f"/assignments/{by_org_id}/remove"
    page = client.get(remove).get_data(as_text=True)
    assert "Remove the assignment of Recorded lines certification to Atlas Care?" in page
    assert "1 agent will no longer have the programme assigned" in page
    assert "1 agent stays enrolled through another assignment" in page
    assert "Everyone keeps their progress and their certificates" in page
    assert db.session.get(Assignment, by_org_id) is not None  # GET changes nothing

    response = client.post(remove, data={"csrf_token": csrf_token(client, remove)})
    assert response.status_code == 302
    assert "The assignment is removed." in client.get("/assignments").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Assignment, by_org_id) is None
    enrolments = db.session.scalars(select(Enrolment)).all()
    assert [(e.user_id, e.assignment_id) for e in enrolments] == [(world["yasmine"].id, own_id)]
    assert enrolments[0].due_at == START + timedelta(days=31)  # her own assignment's rule, from its day
    assert db.session.get(Award, award.id).revoked_at is None  # Omar's certificate stays
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "assignment.removed")).one()
    assert (event.data["ended"], event.data["kept"], event.data["programme"]) == (1, 1, "recording-cert")
    assert sentence(event, names_for([event])) == (
        "Tom Trainer removed the assignment of recording-cert to every agent of Atlas Care")

    # Omar's home no longer lists the programme as his to do; his certificate is still his.
    omar = client.application.test_client()
    login(omar, world["omar"].email, factories.PASSWORD)
    home = omar.get("/").get_data(as_text=True)
    to_do, awards = home.split('id="awards-heading"')
    assert "Recorded lines certification" not in to_do.split('id="next-heading"')[1]
    assert f'href="/awards/{award.id}/badge">Recorded lines certification</a>' in awards

    # Assigned again: Omar's new enrolment stands on the award he holds.
    services.assign(world["trainer"], programme, user=world["omar"], due_days=14)
    db.session.commit()
    again = db.session.scalar(select(Enrolment).where(Enrolment.user_id == world["omar"].id))
    assert again.current_award_id == award.id and again.award_code == award.verification_code
    assert again.next_due_at == award.valid_until  # certified: next due when it expires


def test_a_partner_admin_changes_and_removes_only_their_organisations_assignments(world, client, login_as):
    programme = make_programme()
    theirs = services.assign(world["trainer"], programme, organisation_id=world["lisboa"].id, due_days=7)
    their_agents = services.assign(world["trainer"], programme, user=world["ines"], due_days=7)
    ours = services.assign(world["trainer"], programme, user=world["omar"], due_days=7)
    db.session.commit()
    ours_id = ours.id
    login_as(world["partner_admin"])
    listing = client.get("/assignments").get_data(as_text=True)
    assert f"/assignments/{ours.id}/edit" in listing and f"/assignments/{theirs.id}/edit" not in listing
    token = csrf_token(client, f"/assignments/{ours.id}/edit")
    for other in (theirs, their_agents):
        for path in (f"/assignments/{other.id}/edit", f"/assignments/{other.id}/remove"):
            assert client.get(path).status_code == 404, path
            assert client.post(path, data={"due_rule": "days", "due_days": "1", "csrf_token": token}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Assignment, theirs.id).due_days == 7 and db.session.get(Assignment, their_agents.id)
    assert client.post(f"/assignments/{ours_id}/remove", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Assignment, ours_id) is None


def _counts(app, world, agents: int) -> dict[str, int]:
    """The statements of the assignments page and of a search, with `agents` more agents assigned one by one."""
    programme = db.session.scalar(select(Assignment.programme_id)) or make_programme().id
    for n in range(agents):
        agent = factories.user(Role.AGENT, world["atlas"], name=f"Bulk Agent {n}")
        db.session.add(Assignment(programme_id=programme, user_id=agent.id, due_days=30))
    db.session.commit()
    services.sync_enrolments()
    db.session.commit()
    counts = {}
    for who in ("trainer", "partner_admin"):
        client = app.test_client()
        login(client, world[who].email, factories.PASSWORD)
        for path in ("/assignments", "/assignments/people.json?q=bulk"):
            client.get(path)  # the first warms the caches
            with statements() as seen:
                assert client.get(path).status_code == 200
            counts[f"{who} {path}"] = len(seen)
    return counts


def test_the_page_and_the_search_run_the_same_queries_however_many_agents(app, world):
    small = _counts(app, world, 2)
    large = _counts(app, world, 40)
    assert small == large
