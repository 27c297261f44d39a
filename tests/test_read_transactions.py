"""A request's plain reads run outside a transaction; the first write begins the one that the rest
of the request shares (lms/read_transactions.py on PostgreSQL, the sqlite3 driver on SQLite)."""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, func, select, text, update
from sqlalchemy.exc import OperationalError

from lms.accounts.models import Organisation, OrganisationKind, User
from lms.accounts.services import autocommit_engine
from lms.audit.models import AuditEvent
from lms.audit.services import record
from lms.extensions import db
from tests import factories
from tests.conftest import POSTGRES_URL


def _in_transaction(dbapi_connection) -> bool:
    if POSTGRES_URL:
        import psycopg

        return dbapi_connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
    return dbapi_connection.in_transaction


def _session_in_transaction() -> bool:
    return _in_transaction(db.session.connection().connection.dbapi_connection)


@contextmanager
def _wire(app: Flask) -> Iterator[list[str]]:
    """What the app's pooled connections send to PostgreSQL meanwhile: libpq's trace of the
    messages from the client ("Query", "Parse", "Sync"...), one line each, filled in at the end."""
    import psycopg

    sent: list[str] = []
    traced: dict[int, tuple[object, object]] = {}

    def trace(dbapi_connection, record, proxy) -> None:
        if id(dbapi_connection) not in traced:
            stream = tempfile.TemporaryFile()
            dbapi_connection.pgconn.trace(stream.fileno())
            dbapi_connection.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
            traced[id(dbapi_connection)] = (dbapi_connection, stream)

    event.listen(db.engine, "checkout", trace)
    try:
        yield sent
    finally:
        event.remove(db.engine, "checkout", trace)
        for dbapi_connection, stream in traced.values():
            dbapi_connection.pgconn.untrace()
            stream.seek(0)
            sent.extend(line for line in stream.read().decode().splitlines() if line.startswith("F\t"))
            stream.close()


def test_a_signed_in_page_that_only_reads_opens_no_transaction(app: Flask, client, login_as):
    seen: list[bool] = []
    app.after_request(lambda response: seen.append(_session_in_transaction()) or response)
    agent = factories.user(email="reader@example.org")
    db.session.commit()
    login_as(agent)
    seen.clear()

    assert client.get("/courses").status_code == 200
    assert client.get("/no-such-page").status_code == 404
    assert seen == [False, False]  # each read its session user, and the course list its courses

    if POSTGRES_URL:  # and nothing but those statements went to the server
        db.session.remove()
        db.engine.dispose()  # the next requests check out fresh connections, traced from the start
        with _wire(app) as sent:
            assert client.get("/no-such-page").status_code == 404
        assert not [line for line in sent if any(word in line for word in ("BEGIN", "ROLLBACK", "COMMIT"))]
        assert sum("\tSync" in line or "\tQuery\t" in line for line in sent) == 1  # one round trip: the session user


def test_the_first_write_begins_the_transaction_that_the_rest_shares(app: Flask):
    agent = factories.user(email="writer@example.org")
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))

    assert db.session.get(User, agent.id).email == "writer@example.org"
    assert not _session_in_transaction()  # a read alone opened nothing
    record("test.write", actor=agent, subject_label="writer@example.org")  # on the driver's cursor
    assert _session_in_transaction()
    db.session.add(Organisation(name="Written then undone", kind=OrganisationKind.PARTNER,
                                country="PT", contract_reference="DPA-1", contact_email="c@example.org"))
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before + 1  # its own write
    db.session.rollback()

    # Both rows went with the rollback: the event did not commit by itself before the transaction began.
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert db.session.scalar(select(Organisation).where(Organisation.name == "Written then undone")) is None


@pytest.mark.skipif(not POSTGRES_URL, reason="SQLite has no row locks: FOR UPDATE is PostgreSQL's")
def test_a_select_for_update_keeps_its_lock_until_the_transaction_ends(app: Flask):
    agent = factories.user(email="locked@example.org")
    db.session.commit()
    other = create_engine(POSTGRES_URL)
    try:
        locked = db.session.scalar(select(User).where(User.id == agent.id).with_for_update())
        assert locked.email == "locked@example.org" and _session_in_transaction()
        with other.connect() as connection, pytest.raises(OperationalError, match="could not obtain lock"):
            connection.execute(text("SELECT id FROM \"user\" WHERE id = :id FOR UPDATE NOWAIT"), {"id": agent.id})
        db.session.rollback()
        with other.connect() as connection:
            assert connection.execute(text("SELECT id FROM \"user\" WHERE id = :id FOR UPDATE NOWAIT"),
                                      {"id": agent.id}).scalar() == agent.id
    finally:
        other.dispose()


def test_reads_through_a_server_side_cursor(app: Flask):
    for n in range(5):
        factories.user(email=f"batch{n}@example.org")
    db.session.commit()
    emails = [row.email for row in db.session.execute(
        select(User.email).where(User.email.like("batch%")).order_by(User.email).execution_options(yield_per=2))]
    assert emails == [f"batch{n}@example.org" for n in range(5)]


def test_an_autocommit_connection_still_commits_each_statement(app: Flask):
    agent = factories.user(email="alone@example.org")
    db.session.commit()
    with autocommit_engine().connect() as connection:
        connection.execute(update(User).where(User.id == agent.id).values(name="Saved at once"))
        assert not _in_transaction(connection.connection.dbapi_connection)
        # Seen from the request's session before this connection commits anything.
        assert db.session.scalar(select(User.name).where(User.id == agent.id)) == "Saved at once"
