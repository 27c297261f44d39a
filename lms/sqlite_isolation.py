"""SQLite: switching a pooled connection in and out of autocommit without losing its prepared statements.

The API, the answer autosave and the session's idle slide borrow a connection in AUTOCOMMIT
(lms.accounts.services.autocommit_engine). When such a connection goes back to the pool, SQLAlchemy
restores SQLite's default level, SERIALIZABLE, by sending `PRAGMA read_uncommitted = 0`. Setting a
flag pragma expires every statement the connection has prepared (SQLite's pragma.c adds OP_Expire),
so the next request on that connection compiled each of its statements again: the clearance API's
query took 110 µs where a prepared one takes 15 (bench/README.md, the clearance API).

READ UNCOMMITTED is the only level that turns read_uncommitted on, and the app never asks for it.
So going back to SERIALIZABLE sends the pragma only on a connection that was put in READ
UNCOMMITTED; elsewhere it only sets the driver's own flag, as SQLAlchemy's driver code does.
"""
from __future__ import annotations

from sqlalchemy.engine import Engine


def install(engine: Engine) -> None:
    """Skip the needless `PRAGMA read_uncommitted = 0` on `engine`'s SQLite connections."""
    dialect = engine.dialect
    if dialect.name != "sqlite":
        return
    set_level = dialect.set_isolation_level
    # ids of the connections that may have read_uncommitted on (sqlite3 connections take no weak
    # references; a reused id only costs one needless pragma).
    read_uncommitted: set[int] = set()

    def set_isolation_level(dbapi_connection, level) -> None:
        if level == "SERIALIZABLE" and id(dbapi_connection) not in read_uncommitted:
            dbapi_connection.isolation_level = ""  # the driver's default: BEGIN before a write
            return
        set_level(dbapi_connection, level)
        if level == "READ UNCOMMITTED":
            read_uncommitted.add(id(dbapi_connection))
        elif level == "SERIALIZABLE":
            read_uncommitted.discard(id(dbapi_connection))

    dialect.set_isolation_level = set_isolation_level
