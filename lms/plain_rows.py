"""Plain rows of a Core statement, read in the request's transaction without the ORM's execution.

`db.session.execute()` of a statement that selects columns, not entities, still runs the ORM's
execution around it (its session events, its compile state, a result built for entities): about
110 µs of CPU on top of the 100 µs the same statement costs on its connection (SQLite, a handful
of rows). The agent's home page runs half a dozen such statements. `rows()` flushes the session's
pending changes first, as `session.execute()`'s autoflush would, so that what the request has
written is seen, then runs the statement on the session's own connection and transaction.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row
from sqlalchemy.sql.expression import Executable

from lms.extensions import db


def rows(statement: Executable, parameters: Mapping[str, Any] | None = None) -> Sequence[Row]:
    """Every row of `statement` (a SELECT of columns) with `parameters`, as `session.execute().all()` gives them."""
    session = db.session()
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, parameters or {}).all()
