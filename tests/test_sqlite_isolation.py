"""SQLite connections go in and out of autocommit without the pragma that expires every prepared
statement (lms/sqlite_isolation.py), and still keep their transactions and isolation levels."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import QueuePool

from lms import sqlite_isolation


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    # One pooled connection, so that each checkout gets the connection the last one returned.
    engine = create_engine(f"sqlite:///{tmp_path / 'isolation.sqlite3'}", poolclass=QueuePool, pool_size=1,
                           max_overflow=0)
    sqlite_isolation.install(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE note (body TEXT)")
    return engine


def _sent_while(engine: Engine, isolation_level: str) -> tuple[list[str], object]:
    """The statements the driver sent for one use of a connection at `isolation_level` and its return."""
    sent: list[str] = []
    with engine.connect().execution_options(isolation_level=isolation_level) as connection:
        dbapi_connection = connection.connection.dbapi_connection
        dbapi_connection.set_trace_callback(sent.append)
        connection.execute(text("SELECT count(*) FROM note"))
    dbapi_connection.set_trace_callback(None)
    return sent, dbapi_connection


def test_an_autocommit_connection_returns_to_the_pool_without_a_pragma(engine: Engine):
    sent, dbapi_connection = _sent_while(engine, "AUTOCOMMIT")
    assert sent == ["SELECT count(*) FROM note"]  # no PRAGMA read_uncommitted = 0 at the return
    assert dbapi_connection.isolation_level == ""  # the driver begins before a write again


def test_the_returned_connection_still_rolls_back_a_write(engine: Engine):
    _sent_while(engine, "AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("INSERT INTO note VALUES ('kept only if committed')"))
        connection.rollback()
        assert connection.execute(text("SELECT count(*) FROM note")).scalar() == 0


def test_read_uncommitted_is_still_set_and_undone(engine: Engine):
    with engine.connect().execution_options(isolation_level="READ UNCOMMITTED") as connection:
        assert connection.exec_driver_sql("PRAGMA read_uncommitted").scalar() == 1
        dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection.execute("PRAGMA read_uncommitted").fetchone()[0] == 0
    sent, _ = _sent_while(engine, "AUTOCOMMIT")
    assert sent == ["SELECT count(*) FROM note"]  # undone once: no pragma the next time


def test_other_databases_are_left_alone():
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/unused")  # never connects
    level = engine.dialect.set_isolation_level
    sqlite_isolation.install(engine)
    assert engine.dialect.set_isolation_level == level
