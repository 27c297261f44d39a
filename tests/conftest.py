"""Fixtures: a fresh database per test (a SQLite file copied from a schema made once per process, or
PostgreSQL via TEST_DATABASE_URL, emptied after each test), and the session's Chromium."""
from __future__ import annotations

import contextvars
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import create_engine, make_url, text
from werkzeug.routing import Rule

from lms import create_app
from lms.extensions import db, limiter



def _worker_database(url: str) -> str:
    """The PostgreSQL database this process tests on. `make test` runs the suite in two pytest-xdist
    workers, and each needs a database of its own: the worker gw1 of TEST_DATABASE_URL=…/lms_ci
    uses …/lms_ci_gw1, created here if missing and dropped when the worker finishes."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    target = make_url(url)
    target = target.set(database=f"{target.database}_{worker}")
    server = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database})
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    server.dispose()
    return target.render_as_string(hide_password=False)


POSTGRES_URL = _worker_database(os.environ.get("TEST_DATABASE_URL", ""))
_schema_ready = False


def pytest_sessionfinish(session) -> None:
    """Drop a worker's own database (see _worker_database); the main one is the caller's."""
    if POSTGRES_URL and POSTGRES_URL != os.environ.get("TEST_DATABASE_URL"):
        target = make_url(POSTGRES_URL)
        server = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        server.dispose()


def _reset_postgres() -> None:
    """Create the schema once per run; empty every table after each test (fast and isolating)."""
    global _schema_ready
    if not _schema_ready:
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        db.create_all()
        _schema_ready = True


def _empty_postgres() -> None:
    """Empty every table after a test, and restart every sequence (tests count on ids from 1).

    DELETE, not TRUNCATE: TRUNCATE gives each of ~55 tables new files, a few tenths of a second
    per test and minutes over the suite, while the few rows a test leaves go in milliseconds.
    """
    tables = db.metadata.sorted_tables
    # The references that close a cycle (a course's current version, say) are cleared first.
    cycles = [f'UPDATE "{table.name}" SET ' + ", ".join(f'"{column.name}" = NULL' for column in fk.columns)
              for table in tables for fk in table.foreign_key_constraints if fk.use_alter]
    deletes = [f'DELETE FROM "{table.name}"' for table in reversed(tables)]
    db.session.execute(text("; ".join(cycles + deletes)))  # one round trip: psycopg sends them together
    db.session.execute(text("SELECT setval(c.oid::regclass, 1, false) FROM pg_class c "
                            "WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace"))
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


def _share_url_builders() -> None:
    """Let every test's app share Werkzeug's compiled URL builders.

    Each test builds its own app, and Werkzeug writes, parses and compiles two builder functions
    for each of its ~200 routes: about a tenth of a second an app, minutes over the suite. A
    builder's code depends only on the rule's text, its trace and its defaults (the rule itself is
    bound when called), so one compiled per distinct rule serves every app in the run.
    """
    compile_builder = Rule._compile_builder
    compiled: dict[tuple, Any] = {}

    def shared(rule: Rule, append_unknown: bool = True):
        key = (rule.rule, tuple(rule._trace), repr(sorted((rule.defaults or {}).items())), append_unknown)
        if key not in compiled:
            compiled[key] = compile_builder(rule, append_unknown)
        return compiled[key]

    Rule._compile_builder = shared


_share_url_builders()


class _SharedTemplateCode(BytecodeCache):
    """Compiled templates kept in the test process, for every test's app.

    Each test builds its own app, so each would compile every template it renders again: a page's
    first render is about 70 ms, of which 65 compiling base.html and the page. Jinja keys the code by
    template name and checks the source's checksum, so an edited template compiles anew. Every app
    here is made by create_app with the same Jinja settings, which is what makes sharing safe.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _SharedTemplateCode()


# For an app of another profile made in the test process: its first request would start a sealer
# thread that outlives the test and appends the checkpoints of a throwaway database to the
# project's own instance/audit-checkpoints.txt.
QUIET_AUDIT = {"AUDIT_SEAL_SECONDS": 0, "AUDIT_CHECKPOINT_FILE": ""}


def make_app(**overrides) -> Flask:
    config = {"SQLALCHEMY_DATABASE_URI": POSTGRES_URL or "sqlite://"}
    config.update(overrides)
    app = create_app(config, profile="test")
    app.test_client_class = IsolatedClient
    app.jinja_env.bytecode_cache = _TEMPLATE_CODE
    return app


_sqlite_schema: Path | None = None


def _sqlite_with_schema(path: Path) -> None:
    """A SQLite file at `path` holding the empty schema: a copy of one made by create_all once per
    process (copying is a millisecond; create_all is a tenth of a second per test)."""
    global _sqlite_schema
    if _sqlite_schema is None:
        template = Path(tempfile.mkdtemp(prefix="lms-schema-")) / "schema.sqlite3"
        schema_app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{template}")
        with schema_app.app_context():
            db.create_all()
            db.engine.dispose()
        _sqlite_schema = template
    shutil.copyfile(_sqlite_schema, path)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    # A file database, so the test and the requests it makes use separate connections.
    if not POSTGRES_URL:
        _sqlite_with_schema(tmp_path / "test.sqlite3")
    app = make_app(SQLALCHEMY_DATABASE_URI=POSTGRES_URL or f"sqlite:///{tmp_path / 'test.sqlite3'}")
    with app.app_context():
        if POSTGRES_URL:
            _reset_postgres()
        limiter.reset()
        yield app
        db.session.remove()
        if POSTGRES_URL:
            _empty_postgres()
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


def error_links(html: str) -> dict[str, bool]:
    """Each link of a page's error summary (its target id) and whether the page has an element with
    that id: a link to nowhere leaves a keyboard or screen-reader user where they were."""
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert summary, "no error summary on the page"
    return {target: f'id="{target}"' in html for target in re.findall(r'href="#([^"]+)"', summary.group(0))}


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
