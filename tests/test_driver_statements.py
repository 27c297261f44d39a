"""DriverStatement: Core statements run on the driver's cursor (lms/driver_statements.py)."""
from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import bindparam, case, create_engine, select, text
from sqlalchemy.exc import DBAPIError

from lms.accounts.models import Role, User
from lms.driver_statements import DriverStatement
from lms.extensions import db
from tests import factories


def test_rows_carry_the_statement_labels_and_parameters_go_by_name(app: Flask):
    first, second = factories.user(email="first@example.com"), factories.user(email="second@example.com")
    db.session.commit()
    # Two parameters, given in the other order than the SQL uses them (SQLite's are positional).
    statement = DriverStatement(select(User.id, User.email.label("address"))
                                .where(User.id >= bindparam("lowest"), User.email != bindparam("skip"))
                                .order_by(User.id))
    with db.engine.connect() as connection:
        rows = statement.rows(connection, {"skip": "first@example.com", "lowest": first.id})
    assert [(row.id, row.address) for row in rows] == [(second.id, "second@example.com")]


def test_values_the_statement_holds_go_in_as_sqlalchemy_sends_them(app: Flask):
    agent, trainer = factories.user(Role.AGENT, email="agent@example.com"), factories.user(Role.TRAINER)
    db.session.commit()
    # An enum compared (sent as its stored value), a CASE's results, and a parameter the caller gives.
    statement = DriverStatement(select(User.email, case((User.id == bindparam("marked"), "marked"), else_="plain")
                                       .label("mark")).where(User.role == Role.AGENT))
    with db.engine.connect() as connection:
        rows = statement.rows(connection, {"marked": agent.id})
    assert [(row.email, row.mark) for row in rows] == [("agent@example.com", "marked")]
    assert trainer.email not in {row.email for row in rows}


def test_rowcount_says_what_a_write_changed_and_the_write_joins_the_connections_transaction(app: Flask):
    factories.user(email="agent@example.com")
    db.session.commit()
    rename = DriverStatement(text('UPDATE "user" SET name = :name WHERE email = :email'))
    with db.engine.connect() as connection:
        assert rename.rowcount(connection, {"name": "Renamed", "email": "agent@example.com"}) == 1
        assert rename.rowcount(connection, {"name": "Renamed", "email": "nobody@example.com"}) == 0
        connection.rollback()
    assert db.session.scalar(select(User.name).where(User.email == "agent@example.com")) != "Renamed"
    with db.engine.connect() as connection:
        rename.rowcount(connection, {"name": "Renamed", "email": "agent@example.com"})
        connection.commit()
    assert db.session.scalar(select(User.name).where(User.email == "agent@example.com")) == "Renamed"


def test_a_connection_the_server_dropped_leaves_the_pool(app: Flask):
    engine = create_engine(db.engine.url)
    statement = DriverStatement(select(User.id).where(User.id == bindparam("id")))
    try:
        with engine.connect() as connection:
            connection.connection.dbapi_connection.close()  # as a server restart would leave it
            # Raised as SQLAlchemy's own error (what the 503 page answers), the driver's as its cause.
            with pytest.raises(DBAPIError) as raised:
                statement.rows(connection, {"id": 1})
            assert isinstance(raised.value.orig, engine.dialect.loaded_dbapi.Error)
            assert raised.value.connection_invalidated and connection.invalidated
        with engine.connect() as connection:  # the pool hands out a new one
            assert statement.rows(connection, {"id": 1}) == []
    finally:
        engine.dispose()


def test_binary_results_come_back_as_the_same_values(app: Flask):
    """binary=True (PostgreSQL's binary result format; nothing changes on SQLite): bytes, text and
    numbers come back as with the text format, the bytes unchanged whatever they hold."""
    from lms.audit.models import AuditPersonal
    from lms.audit.services import record

    salt = bytes(range(256)) * 4
    event = record("test.binary", actor_label="ann@example.org")
    db.session.commit()
    db.session.execute(text("UPDATE audit_personal SET salt = :salt WHERE event_seq = :seq"),
                       {"salt": salt, "seq": event.seq})
    db.session.commit()
    query = (select(AuditPersonal.event_seq, AuditPersonal.salt, AuditPersonal.actor_label)
             .where(AuditPersonal.event_seq == bindparam("seq")))
    with db.engine.connect() as connection:
        text_rows = DriverStatement(query).rows(connection, {"seq": event.seq})
        binary_rows = DriverStatement(query, binary=True).rows(connection, {"seq": event.seq})
    assert binary_rows == text_rows
    assert (binary_rows[0].event_seq, binary_rows[0].salt, binary_rows[0].actor_label) == (
        event.seq, salt, "ann@example.org")
    assert type(binary_rows[0].salt) is bytes
