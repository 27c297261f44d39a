"""Every way a person is created or changed enrols them the same way (the user_saved signal)."""
from __future__ import annotations

from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import OrganisationKind, Role, User
from lms.certification import services
from lms.certification.models import Enrolment
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
