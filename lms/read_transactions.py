"""On PostgreSQL, a request's plain reads run outside a transaction; BEGIN comes before its first write.

psycopg opens a transaction with a BEGIN of its own round trip before a connection's first
statement, and the request ends with a ROLLBACK (or COMMIT) of another. A signed-in page that
only reads, which is most of them, paid two of its three to six round trips for a transaction
that protected nothing: under READ COMMITTED, PostgreSQL's default and ours, every statement
takes its own snapshot inside a transaction or out of it, and a plain SELECT takes no lock
that outlives it.

So a pooled connection is handed out in the driver's autocommit mode, and it leaves that mode,
for the rest of its checkout, just before the first statement that needs a transaction:

- anything that is not a SELECT built by SQLAlchemy (INSERT, UPDATE, DELETE, SAVEPOINT, SET
  LOCAL, any text() clause or driver-level SQL, whatever it does), or a SELECT holding one
  (the audit log's INSERT ... RETURNING in a WITH);
- a SELECT ... FOR UPDATE or FOR SHARE, whose row locks must last until the commit;
- a SELECT read through a server-side cursor (yield_per), which only lives in a transaction.

From there on, everything is as before: the first write and all that follows share one
transaction, committed or rolled back together, and the reads before it are the reads any
READ COMMITTED transaction would have made. This is what Python's sqlite3 driver has always
done for SQLite (BEGIN before the first write), so both databases now behave alike.

Connections that ask for autocommit themselves (accounts.services.autocommit_engine) are left
as they are. DriverStatement, which runs on the driver's cursor without SQLAlchemy's events,
calls `before_statement` itself.
"""
from __future__ import annotations

from weakref import WeakKeyDictionary

from psycopg import ServerCursor
from sqlalchemy import Connection, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql import ClauseElement, visitors
from sqlalchemy.sql.compiler import Compiled
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import GenerativeSelect

_READING = "lms.reading_outside_transaction"  # in a pooled connection's info while it is


def install(engine: Engine) -> None:
    """Run plain reads outside a transaction on `engine`'s connections (PostgreSQL only)."""
    if engine.dialect.name != "postgresql":
        return  # SQLite's driver already begins only before a write

    @event.listens_for(engine, "checkout")
    def hand_out_reading(dbapi_connection, record: ConnectionPoolEntry, proxy) -> None:
        # Returned connections were rolled back (the pool's reset), so the driver lets the mode change.
        dbapi_connection.autocommit = True
        record.info[_READING] = True

    @event.listens_for(engine, "before_cursor_execute")
    def begin_if_needed(connection: Connection, cursor, statement, parameters, context, executemany) -> None:
        if connection.connection.info.get(_READING) and not (
                context.compiled is not None and _compiled_reads_only(context.compiled)
                and not isinstance(cursor, ServerCursor)):
            before_statement(connection, writes=True)


def reads_only(statement: ClauseElement) -> bool:
    """Whether `statement` is a plain SELECT, which needs no transaction around it: no FOR UPDATE
    or FOR SHARE, and no INSERT, UPDATE or DELETE anywhere inside (a WITH may hold one)."""
    return (isinstance(statement, GenerativeSelect) and statement._for_update_arg is None
            and not any(isinstance(element, UpdateBase) for element in visitors.iterate(statement)))


# SQLAlchemy caches a statement's compiled form and runs it again and again: decided once per form.
_READS_ONLY: WeakKeyDictionary[Compiled, bool] = WeakKeyDictionary()


def _compiled_reads_only(compiled: Compiled) -> bool:
    known = _READS_ONLY.get(compiled)
    if known is None:
        known = _READS_ONLY[compiled] = reads_only(compiled.statement)
    return known


def before_statement(connection: Connection, *, writes: bool) -> None:
    """Called before a statement runs on `connection`: one that `writes` (or locks) starts the
    transaction that the rest of this checkout runs in."""
    if not writes:
        return
    info = connection.connection.info
    if not info.get(_READING):
        return
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return  # an autocommit connection by request: each statement stands alone, as asked
    info[_READING] = False
    connection.connection.dbapi_connection.autocommit = False  # psycopg sends BEGIN before the statement
