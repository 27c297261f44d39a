"""When the database cannot be reached, people get a 503 "try again in a moment" page (or JSON for
the autosave) with the usual security headers, never a 500 traceback; the pool pings connections
before use, so the app recovers by itself once the database is back (bench/load.py L3 restarts a
real PostgreSQL server under load)."""
from __future__ import annotations

from tests.conftest import make_app

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


def test_connections_are_checked_before_use():
    assert make_app().config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
