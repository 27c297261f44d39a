"""Every way a person is created or changed enrols them the same way (the user_saved and users_saved
signals)."""
from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from lms.accounts import services as accounts
from lms.accounts.models import OrganisationKind, Role, User
from lms.audit.models import AuditEvent
from lms.certification import services
from lms.certification.models import Assignment, Enrolment
from lms.extensions import db
from tests import factories
from tests.certification.conftest import at, content, make_programme  # noqa: F401 (fixtures)
from tests.conftest import csrf_token


def _enrolled(email: str) -> list[int]:
    user = db.session.scalar(select(User).where(User.email == email))
    return list(db.session.scalars(select(Enrolment.programme_id).where(Enrolment.user_id == user.id)))


def test_an_agent_made_with_create_user_is_enrolled_at_once(app, content, runner):
    partner = factories.organisation("Atlas Care", OrganisationKind.PARTNER, "MA")
    programme = make_programme()
    services.assign(None, programme, organisation_id=partner.id, due_days=14)
    db.session.commit()
    result = runner.invoke(args=["lms", "create-user", "--email", "new.agent@atlas.example", "--name", "New Agent",
                                 "--role", "agent", "--organisation", "Atlas Care"],
                           input="correct horse battery staple\ncorrect horse battery staple\n")
    assert result.exit_code == 0, result.output
    assert _enrolled("new.agent@atlas.example") == [programme.id]


def test_a_new_starter_is_enrolled_reading_only_the_assignments_that_reach_them(app, content):
    atlas = factories.organisation("Atlas Care", OrganisationKind.PARTNER, "MA")
    lisboa = factories.organisation("Lisboa CS", OrganisationKind.PARTNER, "PT")
    colleague = factories.user(Role.AGENT, atlas)
    programme = make_programme()
    ours = services.assign(None, programme, organisation_id=atlas.id, due_days=14).id
    theirs = services.assign(None, programme, organisation_id=lisboa.id, due_days=30).id
    for_one = services.assign(None, programme, user=colleague, due_days=7).id
    db.session.commit()
    atlas_id, programme_id = atlas.id, programme.id
    db.session.close()  # read from the database, as a request would
    loaded: list[int] = []

    def note(assignment, _context) -> None:
        loaded.append(assignment.id)

    event.listen(Assignment, "load", note)
    try:
        accounts.create_user(None, accounts.UserData(email="new@atlas.example", name="New Starter",
                                                     role=Role.AGENT, organisation_id=atlas_id))
        accounts.create_user(None, accounts.UserData(email="trainer@atlas.example", name="A Trainer",
                                                     role=Role.TRAINER, organisation_id=atlas_id))
    finally:
        event.remove(Assignment, "load", note)
    db.session.commit()
    assert _enrolled("new@atlas.example") == [programme_id]
    assert _enrolled("trainer@atlas.example") == []
    assert loaded == [ours]  # not Lisboa's, not the one for a colleague, nothing for the trainer
    assert theirs != ours and for_one != ours


def test_moving_an_agent_to_another_organisation_or_reactivating_enrols_them(app, content, client, login_as):
    home = factories.organisation("Lisboa CS")
    partner = factories.organisation("Atlas Care", OrganisationKind.PARTNER, "MA")
    programme = make_programme()
    services.assign(None, programme, organisation_id=partner.id, due_days=14)
    admin = factories.user(Role.ADMIN, home)
    agent = factories.user(Role.AGENT, home, email="mover@example.org")
    db.session.commit()
    assert _enrolled("mover@example.org") == []
    accounts.update_user(admin, agent, accounts.UserData(email=agent.email, name=agent.name, role=Role.AGENT,
                                                          organisation_id=partner.id))
    assert _enrolled("mover@example.org") == [programme.id]

    idle = factories.user(Role.AGENT, partner, email="back@example.org", active=False)
    db.session.commit()
    assert _enrolled("back@example.org") == []
    accounts.set_active(admin, idle, True)
    assert _enrolled("back@example.org") == [programme.id]


def test_an_agent_added_in_the_browser_is_enrolled(app, content, client, login_as):
    partner = factories.organisation("Atlas Care", OrganisationKind.PARTNER, "MA")
    programme = make_programme()
    services.assign(None, programme, organisation_id=partner.id, due_days=14)
    admin = factories.user(Role.ADMIN, partner)
    db.session.commit()
    login_as(admin)
    response = client.post("/admin/users/new", data={
        "email": "web@atlas.example", "name": "Web Agent", "role": "agent", "organisation_id": partner.id,
        "csrf_token": csrf_token(client, "/admin/users/new")})
    assert response.status_code == 200
    assert _enrolled("web@atlas.example") == [programme.id]


def test_people_created_together_are_enrolled_and_audited_like_one(app, content):
    """accounts.create_users (the roster import's batches): each person gets create_user's enrolment
    and audit event, and a clash inside the batch or with someone already there is refused."""
    partner = factories.organisation("Atlas Care", OrganisationKind.PARTNER, "MA")
    programme = make_programme()
    services.assign(None, programme, organisation_id=partner.id, due_days=14)
    admin = factories.user(Role.ADMIN, partner)
    factories.user(Role.AGENT, partner, email="taken@atlas.example").employee_id = "AT-1"
    db.session.commit()

    def person(email: str, employee_id: str | None = None) -> accounts.UserData:
        return accounts.UserData(email=email, name=email.split("@")[0], role=Role.AGENT,
                                 organisation_id=partner.id, employee_id=employee_id)

    made = accounts.create_users(admin, [person("one@atlas.example", "AT-2"), person("two@atlas.example")])
    db.session.commit()
    assert [u.email for u in made] == ["one@atlas.example", "two@atlas.example"]
    assert _enrolled("one@atlas.example") == _enrolled("two@atlas.example") == [programme.id]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.created")
                                .order_by(AuditEvent.seq)).all()
    assert [e.target_id for e in events][-2:] == [str(made[0].id), str(made[1].id)]

    refused_batches = [
        ([person("three@atlas.example"), person("THREE@atlas.example")], "email"),  # twice in the batch
        ([person("taken@atlas.example")], "email"),
        ([person("four@atlas.example", "AT-1")], "employee_id"),
        ([person("five@atlas.example", "AT-9"), person("six@atlas.example", "AT-9")], "employee_id"),
    ]
    for batch, field in refused_batches:
        with pytest.raises(accounts.AccountError) as refused:
            accounts.create_users(admin, batch)
        assert refused.value.field == field
        db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User)) == 4  # the admin, taken, one, two
