"""The pages that list people run a fixed number of SQL queries, whatever the number of agents.

The demo generator (devtools.bulk.generate_bulk) builds the same company at 100 and
at 1,000 agents, with 18 months of certification history, on the test
database; each page is requested through the test client, signed in through
the real form, while a `before_cursor_execute` listener counts the statements.
A query inside a loop over rows shows up as a count that grows with the agents.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from flask import Flask
from sqlalchemy import event, func, select

from lms.accounts.models import Organisation, Role, User
from lms.certification.models import Enrolment
from devtools.bulk import generate_bulk
from devtools.demo import DEMO_PASSWORD, PEOPLE
from lms.extensions import db, limiter
from lms.learning.sync import load_content
from tests.conftest import login

AT = datetime(2026, 6, 1, 9, 30, tzinfo=timezone.utc)
SIZES = (100, 1000)
TRAINER, ADMIN = "trainer@northwind.example", "admin@northwind.example"
PARTNER = "Lisboa Contact Services"


@contextmanager
def counting() -> Iterator[list[str]]:
    """The SQL statements run on the app's engine inside the block."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def build(app: Flask, agents: int) -> None:
    """A fresh database with the content and the demo company at `agents` agents, as of AT."""
    db.session.remove()
    db.drop_all()
    db.create_all()
    limiter.reset()
    load_content(app.config["CONTENT_ROOT"])
    db.session.commit()
    generate_bulk(agents, at=AT)
    db.session.commit()


def queries(app: Flask, email: str, paths: list[str]) -> dict[str, int]:
    """Sign in as `email`; request each path twice (the first warms up), count the second."""
    client = app.test_client()
    response = login(client, email, DEMO_PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    counts = {}
    for path in paths:
        client.get(path).get_data()
        with counting() as statements:
            response = client.get(path)
            body = response.get_data()  # a streamed CSV runs its queries while it is read
        assert response.status_code == 200, (path, response.status_code)
        assert body
        counts[f"{email} GET {path}"] = len(statements)
    return counts


def measure(app: Flask, agents: int, monkeypatch) -> dict[str, int]:
    monkeypatch.setattr("lms.clock._fixed", AT)
    build(app, agents)
    partner = db.session.scalar(select(Organisation.id).where(Organisation.name == PARTNER))
    # The first generated agent of the partner: the same person, with the same history, at every size.
    agent = db.session.scalar(select(User.email).where(
        User.organisation_id == partner, User.role == Role.AGENT, User.active.is_(True),
        User.email.not_in([email for email, *_ in PEOPLE])).order_by(User.id).limit(1))
    active_enrolments = db.session.scalar(select(func.count()).select_from(Enrolment).join(
        User, User.id == Enrolment.user_id).where(User.active.is_(True)))
    db.session.remove()

    counts = queries(app, TRAINER, ["/dashboard", f"/dashboard?status=overdue&organisation={partner}",
                                    "/dashboard.csv"])
    counts |= queries(app, ADMIN, ["/admin/users", "/"])
    counts |= {key.replace(agent, "<agent>"): n for key, n in queries(app, agent, ["/"]).items()}

    # The CSV really is the whole table: a header and one line per enrolment of an active agent.
    client = app.test_client()
    login(client, TRAINER, DEMO_PASSWORD)
    csv_lines = client.get("/dashboard.csv").get_data(as_text=True).strip().splitlines()
    assert len(csv_lines) == active_enrolments + 1
    return counts


def test_pages_run_the_same_queries_at_100_and_1000_agents(app, monkeypatch):
    small, large = (measure(app, agents, monkeypatch) for agents in SIZES)
    grown = {page: (small[page], large[page]) for page in small if small[page] != large[page]}
    assert not grown, f"queries grow with the number of agents ({SIZES[0]} -> {SIZES[1]}): {grown}"
    # The agent's home reads each programme requirement's data once, not per requirement.
    assert large["<agent> GET /"] <= 15, large
