"""Two organisations, a SCIM token for each, and scim2-client's WSGI client driving the app as an
identity provider would (real HTTP semantics, no mock of our own code)."""
from __future__ import annotations

import contextvars

import pytest
from flask import Flask
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_models import Group, ScimProvider, User

from lms.accounts.models import Role
from lms.extensions import db
from lms.scim import tokens
from tests import factories

BASE = "http://localhost/scim/v2"


def scim_client(app: Flask, secret: str | None) -> WSGISCIMClient:
    def isolated(environ, start_response):  # each request outside the test's app context, like a server
        return contextvars.Context().run(app, environ, start_response)

    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return WSGISCIMClient(isolated, base_url=BASE, headers=headers, provider=ScimProvider(models=[User, Group]))


@pytest.fixture
def orgs(app: Flask):
    atlas, other = factories.organisation("Atlas Customer Care"), factories.organisation("Beacon Contact")
    admin = factories.user(Role.ADMIN, factories.organisation("Client"))
    _, atlas_secret = tokens.create_token(admin, atlas, "Atlas IdP", 30)
    _, other_secret = tokens.create_token(admin, other, "Beacon IdP", 30)
    db.session.commit()
    return {"atlas": atlas, "other": other, "admin": admin, "atlas_secret": atlas_secret, "other_secret": other_secret}


@pytest.fixture
def idp(app: Flask, orgs) -> WSGISCIMClient:
    """Atlas's identity provider."""
    return scim_client(app, orgs["atlas_secret"])


@pytest.fixture
def other_idp(app: Flask, orgs) -> WSGISCIMClient:
    return scim_client(app, orgs["other_secret"])
