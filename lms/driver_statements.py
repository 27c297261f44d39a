"""Core statements run on the database driver's own cursor, for the hottest request.

SQLAlchemy running a cached statement costs about 75 microseconds of CPU on top of the
driver's own (an execution context, parameter and result processing, events): on the
answer autosave, more than PostgreSQL spends running its statements. A DriverStatement
compiles a Core statement once per dialect and hands it straight to the DBAPI cursor of
a connection SQLAlchemy checked out, so it runs inside that connection's transaction (or
autocommit mode) like any other statement of it.

What SQLAlchemy's types would do is the caller's part: parameters are given as the
driver takes them (str, int, naive UTC datetimes, JSON as text) and results come back
as the driver returns them (enums as their values, so a JSON column is best cast to
Text in the SELECT). Values the statement holds itself (`User.role == Role.AGENT`, a
CASE's results) go in as SQLAlchemy would send them, processed once at compile time.
Engine events (before_cursor_execute) do not see these statements, so
the one beginning a transaction before a write (lms/read_transactions.py) is called here.
Use it where a measurement says so, not as a habit.
"""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Executable

from lms import read_transactions
from lms.clock import UTCDateTime


class _Compiled(NamedTuple):
    sql: str
    positions: tuple[str, ...] | None  # parameter names in order, for positional paramstyles
    held: dict[str, Any]  # the values the statement holds, as the driver takes them
    row: type | None  # a namedtuple of the selected columns' names
    cursor_options: dict[str, Any]  # what the driver's cursor() is given
    writes: bool  # needs a transaction around it (anything but a plain SELECT; see lms.read_transactions)


class DriverStatement:
    """One Core statement (a SELECT, an INSERT, UPDATE or DELETE, or a text() clause), compiled per
    dialect on first use."""

    def __init__(self, statement: Executable, *, binary: bool = False) -> None:
        """`binary`: on PostgreSQL, results come in the binary format, which saves encoding and
        decoding them as text (a bytea column as hex, twice its size); no effect on SQLite."""
        self._statement = statement
        self._binary = binary
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, connection: Connection, parameters: Mapping[str, Any]) -> list[Any]:
        """Run a SELECT; its rows as namedtuples with the statement's column labels."""
        compiled = self._compile(connection)
        with _cursor(connection, compiled, parameters) as cursor:
            return [compiled.row._make(row) for row in cursor.fetchall()]

    def rowcount(self, connection: Connection, parameters: Mapping[str, Any]) -> int:
        """Run a statement that returns no rows; how many rows it changed."""
        with _cursor(connection, self._compile(connection), parameters) as cursor:
            return cursor.rowcount

    def _compile(self, connection: Connection) -> _Compiled:
        dialect = connection.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            core = self._statement.compile(dialect=dialect)
            # A SELECT's columns, or what an INSERT .. RETURNING returns.
            columns = getattr(self._statement, "selected_columns", None) or \
                getattr(self._statement, "exported_columns", None) or None
            compiled = self._compiled[dialect.name] = _Compiled(
                sql=core.string,
                positions=tuple(core.positiontup) if core.positional else None,
                held=_held_values(core.binds, dialect),
                row=namedtuple("Row", columns.keys()) if columns is not None else None,
                cursor_options={"binary": True} if self._binary and dialect.name == "postgresql" else {},
                writes=not read_transactions.reads_only(self._statement),
            )
        return compiled


def _held_values(binds: Mapping[str, BindParameter], dialect: Dialect) -> dict[str, Any]:
    held = {}
    for name, bind in binds.items():
        if bind.required or bind.callable is not None:
            continue  # the caller gives it
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        held[name] = process(bind.value) if process is not None else bind.value
    return held


def as_driver_time(moment: datetime) -> datetime:
    """An aware time as the driver takes it for a UTCDateTime column: naive, in UTC."""
    return UTCDateTime().process_bind_param(moment, None)


@contextmanager
def _cursor(connection: Connection, compiled: _Compiled, parameters: Mapping[str, Any]) -> Iterator[Any]:
    """The DBAPI cursor having run the statement, as Connection.execute would run it."""
    if not connection.in_transaction():
        connection.begin()  # Connection.execute's autobegin: so that commit() and rollback() cover it
    read_transactions.before_statement(connection, writes=compiled.writes)
    if compiled.held:
        parameters = {**compiled.held, **parameters}
    values = parameters if compiled.positions is None else tuple(parameters[name] for name in compiled.positions)
    try:
        cursor = connection.connection.cursor(**compiled.cursor_options)
        try:
            cursor.execute(compiled.sql, values)
            yield cursor
        finally:
            cursor.close()
    except connection.dialect.loaded_dbapi.Error as error:
        # Also what Connection.execute does: a connection the server dropped (a restart, a
        # failover) leaves the pool rather than failing the next request too, and the error is
        # raised as SQLAlchemy's own (OperationalError, IntegrityError, ...), which callers and
        # the error pages (a 503 while the database is away) know.
        invalidated = connection.dialect.is_disconnect(error, connection.connection.dbapi_connection, None)
        if invalidated:
            connection.invalidate(error)
        raise DBAPIError.instance(compiled.sql, values, error, connection.dialect.loaded_dbapi.Error,
                                  connection_invalidated=invalidated, dialect=connection.dialect) from error
