"""Pooled database connections that heal after a restart without a ping on every request.

SQLAlchemy's `pool_pre_ping` sends a statement before every checkout: on PostgreSQL one more
round trip on every request, about a tenth of a signed-in page's time. A connection that was
in use a moment ago is almost surely alive; one that sat idle across a database restart, a
failover or a firewall's idle cut-off may not be. So the pool pings a connection only when it
has been idle for more than DATABASE_PING_AFTER_IDLE_SECONDS (0: before every use, as
pre-ping does). A dead one is swapped for a fresh connection before the request sees it
(SQLAlchemy's documented way: the checkout listener raises DisconnectionError and the pool
retries).

What this gives up: a connection that dies while the app is busy (a restart under load) is
found by the request that uses it, which gets the 503 "try again in a moment" page
(lms/errors.py); SQLAlchemy then retires every connection older than the failure, so each
worker sees that once.
"""
from __future__ import annotations

import time

from flask import Flask
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.pool import ConnectionPoolEntry

_CHECKED_IN_AT = "lms.checked_in_at"  # in each pooled connection's info: time.monotonic() of its return


def install(app: Flask, engine: Engine) -> None:
    """Ping the engine's pooled connections that were idle too long, on checkout."""
    idle_limit = float(app.config["DATABASE_PING_AFTER_IDLE_SECONDS"])
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def note_return(dbapi_connection, record: ConnectionPoolEntry) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection, record: ConnectionPoolEntry, proxy) -> None:
        returned = record.info.get(_CHECKED_IN_AT)
        if returned is None or time.monotonic() - returned <= idle_limit:
            return  # new (just connected), or in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(f"pooled connection died while idle: {error}") from error
