"""Authoring fixtures: a trainer, the valid fixture content loaded, a signed-in client."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from lms.accounts.models import Role
from lms.extensions import db
from lms.learning.sync import load_content
from tests import factories

FIXTURE = Path(__file__).resolve().parents[1] / "content" / "fixtures" / "valid"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def trainer(app):
    person = factories.user(Role.TRAINER)
    db.session.commit()
    return person


@pytest.fixture
def content(app):
    """The valid fixture tree published: course, quiz and programme recording-calls / recorded-lines."""
    load_content(FIXTURE)
    db.session.commit()


@pytest.fixture
def author(client: FlaskClient, trainer, login_as) -> FlaskClient:
    """A client signed in as the trainer."""
    login_as(trainer)
    return client


def form_token(client: FlaskClient, path: str) -> str:
    """The CSRF token and the page's hidden draft revision are what a browser would send back."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'id="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def revision_on(html: str) -> str:
    match = re.search(r'id="revision" name="revision" type="hidden" value="(\d+)"', html) or \
        re.search(r'name="revision"[^>]*value="(\d+)"', html)
    assert match, "no revision field"
    return match.group(1)
