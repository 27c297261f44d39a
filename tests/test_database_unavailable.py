"""When the database cannot be reached, people get a 503 "try again in a moment" page (or JSON for
the autosave) with the usual security headers, never a 500 traceback; the pool pings connections
that sat idle before use (lms/database_pool.py), so the app recovers by itself once the database
is back (bench/load.py L3 restarts a real PostgreSQL server under load)."""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, text

from lms.extensions import db
from tests.conftest import POSTGRES_URL, make_app

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2"  # nothing listens on port 1


def test_an_unreachable_database_gives_a_503_page_with_the_security_headers():
    app = make_app(SQLALCHEMY_DATABASE_URI=UNREACHABLE)
    client = app.test_client()

    page = client.get("/verify/ABCDEF123456")
    assert page.status_code == 503 and int(page.headers["Retry-After"]) > 0
    text = page.get_data(as_text=True)
    assert "Try again in a moment" in text and "Nothing you saved before is lost." in text
    assert "Traceback" not in text and "psycopg" not in text and "127.0.0.1:1" not in text
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src" in page.headers["Content-Security-Policy"]

    health = client.get("/healthz", headers={"Accept": "application/json"})
    assert health.status_code == 503 and "busy for a moment" in health.get_json()["error"]


def _app_noting_connections(tmp_path: Path, idle_seconds: float) -> tuple[Flask, list]:
    """An app whose pool pings after `idle_seconds`, and the list of driver connections it checks out."""
    app = make_app(SQLALCHEMY_DATABASE_URI=POSTGRES_URL or f"sqlite:///{tmp_path / 'pool.sqlite3'}",
                   DATABASE_PING_AFTER_IDLE_SECONDS=idle_seconds)
    used: list = []
    with app.app_context():
        event.listen(db.engine, "checkout", lambda dbapi_connection, *_: used.append(dbapi_connection))
    return app, used


def _kill(connection) -> None:
    """End a pooled connection behind the pool's back, as a database restart would."""
    if isinstance(connection, sqlite3.Connection):
        connection.close()
        return
    server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": connection.info.backend_pid})
    server.dispose()
    time.sleep(0.3)  # the server ends the backend a moment after the signal


def test_a_connection_that_died_while_idle_is_replaced_before_anyone_uses_it(tmp_path):
    app, used = _app_noting_connections(tmp_path, idle_seconds=0.1)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    _kill(used[-1])
    time.sleep(0.2)

    assert client.get("/healthz").status_code == 200
    assert used[-1] is not used[0]  # the pool connected afresh
    with app.app_context():
        db.engine.dispose()


def test_a_connection_in_use_a_moment_ago_is_not_pinged(tmp_path):
    """Under load no request pays for a ping: the same connection comes back without a statement."""
    app, used = _app_noting_connections(tmp_path, idle_seconds=10)
    statements: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda _c, _cur, sql, *_: statements.append(sql))
    client = app.test_client()
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert all(connection is used[0] for connection in used)
    assert statements == ["SELECT 1"] * 3  # /healthz's own, and no ping beside it
    with app.app_context():
        db.engine.dispose()


@pytest.mark.skipif(not POSTGRES_URL, reason="a server that ends a busy connection: PostgreSQL")
def test_a_connection_that_dies_while_busy_costs_one_503_then_the_pool_recovers(tmp_path):
    """The trade for not pinging busy connections (lms/database_pool.py): the request that finds
    the dead one gets the "try again in a moment" page, and the next is served."""
    app, used = _app_noting_connections(tmp_path, idle_seconds=10)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    _kill(used[-1])

    assert client.get("/healthz").status_code == 503
    assert client.get("/healthz").status_code == 200
    with app.app_context():
        db.engine.dispose()
