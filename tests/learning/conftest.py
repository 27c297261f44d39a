"""Fixtures of the learning tests."""
from __future__ import annotations

import pytest
from flask import Flask

from lms.accounts.models import Role, User
from lms.config import PROJECT_ROOT
from lms.extensions import db
from lms.learning.sync import load_content
from tests import factories


@pytest.fixture
def courses(app: Flask) -> None:
    """The shipped content, loaded as `make run` loads it (translations included)."""
    load_content(PROJECT_ROOT)
    db.session.commit()


@pytest.fixture
def agent_speaking(app: Flask):
    """Makes an agent whose own language is the one given, committed."""
    def make(language: str) -> User:
        person = factories.user(Role.AGENT)
        person.language = language
        db.session.commit()
        return person
    return make
