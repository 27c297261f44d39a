"""Fixtures: a fresh database per test (SQLite in memory, or PostgreSQL via TEST_DATABASE_URL)."""
from __future__ import annotations

import contextvars
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from lms import create_app
from lms.extensions import db, limiter

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
_schema_ready = False


def _reset_postgres() -> None:
    """Create the schema once per run; empty every table after each test (fast and isolating)."""
    global _schema_ready
    if not _schema_ready:
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        db.create_all()
        _schema_ready = True


def _truncate_postgres() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


def _drop_schema() -> None:
    db.drop_all()
    db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.session.commit()


@contextmanager
def app_at_revision(revision: str, tmp_path: Path, **config) -> Iterator[Flask]:
    """An app (in its context) on a database migrated with Alembic up to `revision` only, for
    migration tests; on PostgreSQL the shared test schema is dropped first and rebuilt by the next
    test's fixture."""
    global _schema_ready
    app = make_app(SQLALCHEMY_DATABASE_URI=POSTGRES_URL or f"sqlite:///{tmp_path / 'migrated.sqlite3'}", **config)
    with app.app_context():
        if POSTGRES_URL:
            _drop_schema()
        upgrade(revision=revision)
        yield app
        db.session.remove()
        if POSTGRES_URL:
            _drop_schema()
        db.engine.dispose()
    _schema_ready = False


class IsolatedClient(FlaskClient):
    """Runs each request outside the test's app context, as a real server would.

    Otherwise the request shares the test's `g` (Flask-Login's cached user, the
    CSRF token) and its database session, and tests pass that should fail.
    """

    def open(self, *args, **kwargs):
        # Buffered: a streamed body is read while the request's context is still there.
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


def make_app(**overrides) -> Flask:
    config = {"SQLALCHEMY_DATABASE_URI": POSTGRES_URL or "sqlite://"}
    config.update(overrides)
    app = create_app(config, profile="test")
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    # A file database, so the test and the requests it makes use separate connections.
    app = make_app(SQLALCHEMY_DATABASE_URI=POSTGRES_URL or f"sqlite:///{tmp_path / 'test.sqlite3'}")
    with app.app_context():
        if POSTGRES_URL:
            _reset_postgres()
        else:
            db.create_all()
        limiter.reset()
        yield app
        db.session.remove()
        if POSTGRES_URL:
            _truncate_postgres()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token from the form on `path`, as a browser would get it."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'id="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, email: str, password: str, remember: bool = False):
    token = csrf_token(client, "/login")
    data = {"email": email, "password": password, "csrf_token": token}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data)


@pytest.fixture
def login_as(client: FlaskClient):
    """Sign a user in through the real form; returns the response."""
    from tests.factories import PASSWORD

    def _login(user, password: str = PASSWORD, remember: bool = False):
        response = login(client, user.email, password, remember)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return _login


# ---- the session's Chromium (tests/browser, tests/sso) -----------------------------------------
# Defined here, once: a second definition in another directory's conftest would start a second
# Playwright inside the first one's event loop when the whole suite runs.

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _missing_browser() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make test installs it)"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _missing_browser()
    if reason:
        if os.environ.get("LMS_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are required here but cannot run: {reason}")
        pytest.skip(f"browser tests skipped: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
