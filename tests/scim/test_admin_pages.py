"""An admin creates a token on the organisation's SCIM page (shown once), revokes it after a
confirmation, and sets what a group means."""
from __future__ import annotations

import re

from sqlalchemy import select

from lms.accounts.models import Role
from lms.accounts.models import User as Account
from lms.extensions import db
from lms.scim.models import ScimGroup, ScimToken
from tests import factories
from tests.conftest import csrf_token
from tests.scim.conftest import scim_client


def test_admin_creates_uses_and_revokes_a_token(app, client, login_as, orgs):
    login_as(orgs["admin"])
    org = orgs["atlas"]
    page_url = f"/admin/organisations/{org.id}/scim"
    page = client.get(page_url).get_data(as_text=True)
    assert "Provisioning (SCIM) for Atlas Customer Care" in page
    assert f"{app.config['BASE_URL'].rstrip('/')}/scim/v2" in page

    refused = client.post(page_url, data={"csrf_token": csrf_token(client, page_url), "name": "Entra", "days": "0"})
    assert refused.status_code == 400 and "Number must be between 1 and 366" in refused.get_data(as_text=True)

    created = client.post(page_url, data={"csrf_token": csrf_token(client, page_url), "name": "Entra ID", "days": "90"})
    html = created.get_data(as_text=True)
    secret = re.search(r'value="(scim_[^"]+)"', html).group(1)
    assert "shown only this once" in html
    assert secret not in client.get(page_url).get_data(as_text=True)  # never again
    row = db.session.scalar(select(ScimToken).where(ScimToken.name == "Entra ID"))
    assert row.organisation_id == org.id and secret.split("_", 2)[2] not in row.secret_hash

    idp = scim_client(app, secret)
    assert idp.request("GET", f"{idp.base_url}/Users").status_code == 200

    revoke_url = f"{page_url}/tokens/{row.id}/revoke"
    confirm = client.get(revoke_url).get_data(as_text=True)
    assert "Revoke the token Entra ID?" in confirm and "Keep it" in confirm
    db.session.expire_all()
    assert db.session.get(ScimToken, row.id).revoked_at is None  # asking is not doing
    done = client.post(revoke_url, data={"csrf_token": csrf_token(client, revoke_url)}, follow_redirects=True)
    assert "is revoked" in done.get_data(as_text=True)
    assert idp.request("GET", f"{idp.base_url}/Users").status_code == 401


def test_a_token_of_another_organisation_is_404_on_this_page(client, login_as, orgs):
    login_as(orgs["admin"])
    other_token = db.session.scalar(select(ScimToken).where(ScimToken.organisation_id == orgs["other"].id))
    assert client.get(f"/admin/organisations/{orgs['atlas'].id}/scim/tokens/{other_token.id}/revoke").status_code == 404


def test_admin_sets_what_a_group_means(client, login_as, orgs):
    agent = factories.user(Role.AGENT, orgs["atlas"])
    group = ScimGroup(organisation_id=orgs["atlas"].id, display_name="Team leads", members=[agent])
    db.session.add(group)
    db.session.commit()
    login_as(orgs["admin"])
    page_url = f"/admin/organisations/{orgs['atlas'].id}/scim"
    assert "Team leads" in client.get(page_url).get_data(as_text=True)
    response = client.post(f"{page_url}/groups/{group.id}",
                           data={"csrf_token": csrf_token(client, page_url), f"g{group.id}-meaning": "role:trainer"},
                           follow_redirects=True)
    assert "Members of Team leads: Role: trainer." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Account, agent.id).role is Role.TRAINER
    assert db.session.get(ScimGroup, group.id).role == "trainer"
