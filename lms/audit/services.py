"""Recording audit events, erasing their personal fields, and reading the tree's state.

`record` only inserts rows in the caller's transaction: no lock, no read of a head. The
Merkle tree is built later by the sealer (lms/audit/sealing.py) and checked by
lms/audit/verify.py.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import has_request_context, request
from sqlalchemy import Dialect, bindparam, delete, insert, literal_column, or_, select, text
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from lms.audit import people
from lms.audit.leaves import SALT_BYTES, commitment
from lms.audit.merkle import EMPTY_ROOT
from lms.audit.models import AuditCheckpoint, AuditEvent, AuditLeaf, AuditPersonal
from lms.clock import now
from lms.driver_statements import DriverStatement
from lms.extensions import db

# The inserting transaction's id on PostgreSQL (xid8 as a number), for the sealing rule.
_PG_XID = text("pg_current_xact_id()::text::bigint")


def record(
    action: str,
    *,
    actor: Any = None,
    target: Any = None,
    target_type: str = "",
    target_id: str | int = "",
    actor_label: str | None = None,
    ip: str | None = None,
    subject_label: str = "",
    **data: Any,
) -> AuditEvent:
    """Add one event and its personal fields to the caller's transaction and flush; the caller commits.

    `actor` is a User or None (system); `target` any model with an `id`; `ip` defaults to the
    current request's client (an event recorded on behalf of an earlier request names its own).
    `subject_label` names the person the event is about (an e-mail), kept with the personal fields.
    `data` holds non-personal facts only: never e-mails, addresses, passwords, tokens or answers.

    Nearly every write of the app records an event, so the two rows go in without the ORM's
    unit of work: one statement on PostgreSQL (the event and its personal row in one WITH),
    two on SQLite, on the driver's cursor of the session's connection, after flushing what
    the caller has pending. The event returned is in the session as if loaded from the rows.
    """
    if target is not None:
        target_type = target_type or type(target).__name__.lower()
        target_id = target.id
    label = actor_label or getattr(actor, "email", None) or "system"
    address = ip if ip is not None else ((request.remote_addr or "") if has_request_context() else "")
    salt = os.urandom(SALT_BYTES)
    values = {
        "occurred_at": now(), "actor_id": getattr(actor, "id", None), "action": action,
        "target_type": target_type, "target_id": str(target_id), "data": data,
        "commitment": commitment(salt, label, address, subject_label),
    }
    personal = {"salt": salt, "actor_label": label, "ip": address, "subject_label": subject_label}
    session = db.session()
    session.flush()  # the caller's pending rows first, as when the event was flushed with them
    connection = session.connection()
    statements = _RECORD_STATEMENTS.get(connection.dialect.name) or _record_statements(connection.dialect)
    parameters = values | personal
    for name, process in statements.processors.items():
        parameters[name] = process(parameters[name])
    if statements.both is not None:
        seq, xid = statements.both.rows(connection, parameters)[0]
    else:
        seq, xid = statements.event.rows(connection, parameters)[0]
        statements.personal.rowcount(connection, {**parameters, "event_seq": seq})
    # The two objects as the ORM's loading makes them (attributes set without events), then
    # persistent with nothing left to flush.
    event = AuditEvent.__mapper__.class_manager.new_instance()
    event.__dict__.update(values, seq=seq, xid=xid, v1_prev_hash=None, v1_hash=None)
    event_personal = AuditPersonal.__mapper__.class_manager.new_instance()
    event_personal.__dict__.update(personal, event_seq=seq)
    make_transient_to_detached(event_personal)
    make_transient_to_detached(event)
    set_committed_value(event, "personal", event_personal)
    session.add(event)
    session.add(event_personal)
    return event


@dataclass(frozen=True)
class _RecordStatements:
    """record()'s statements for one dialect, and each parameter's bind processor (as the ORM would store it)."""

    both: DriverStatement | None  # PostgreSQL: the event and its personal row in one statement
    event: DriverStatement | None  # SQLite: the event, then
    personal: DriverStatement | None  # its personal row
    processors: dict[str, Callable[[Any], Any]]  # only the parameters that have one


_RECORD_STATEMENTS: dict[str, _RecordStatements] = {}
_EVENT_COLUMNS = ("occurred_at", "actor_id", "action", "target_type", "target_id", "data", "commitment")
_PERSONAL_COLUMNS = ("salt", "actor_label", "ip", "subject_label")


def _record_statements(dialect: Dialect) -> _RecordStatements:
    event_table, personal_table = AuditEvent.__table__, AuditPersonal.__table__
    # Typed parameters: PostgreSQL's statement casts each to its column's type, as the ORM's does.
    event_values = {name: bindparam(name, type_=event_table.c[name].type) for name in _EVENT_COLUMNS}
    personal_values = {name: bindparam(name, type_=personal_table.c[name].type) for name in _PERSONAL_COLUMNS}
    processors = {param.key: process for param in (*event_values.values(), *personal_values.values())
                  if (process := param.type.dialect_impl(dialect).bind_processor(dialect)) is not None}
    if dialect.name == "postgresql":
        event = (insert(event_table).values({**event_values, "xid": _PG_XID})
                 .returning(event_table.c.seq, event_table.c.xid).cte("event"))
        personal = insert(personal_table).from_select(
            ["event_seq", *personal_values], select(event.c.seq, *personal_values.values())).cte("personal")
        both = select(event.c.seq, event.c.xid).add_cte(personal)
        statements = _RecordStatements(DriverStatement(both), None, None, processors)
    else:
        event = (insert(event_table).values({**event_values, "xid": literal_column("0")})
                 .returning(event_table.c.seq, event_table.c.xid))
        personal = insert(personal_table).values({"event_seq": bindparam("event_seq"), **personal_values})
        statements = _RecordStatements(None, DriverStatement(event), DriverStatement(personal), processors)
    _RECORD_STATEMENTS[dialect.name] = statements
    return statements


def personal_rows_of(user_id: int):
    """The `audit_personal` rows that name this person (a WHERE clause): the events they did
    (actor), the events about them (a user target) and the events that carry their current
    e-mail as a label (a failed sign-in with their address)."""
    person = people.model()
    email = db.session.scalar(select(person.email).where(person.id == user_id))
    about = AuditPersonal.event_seq.in_(select(AuditEvent.seq).where(or_(
        AuditEvent.actor_id == user_id, (AuditEvent.target_type == "user") & (AuditEvent.target_id == str(user_id)))))
    if not email:
        return about
    return or_(about, AuditPersonal.actor_label == email, AuditPersonal.subject_label == email)


def erase_personal_data(user_id: int) -> int:
    """Delete the personal fields of every event that names this person (`personal_rows_of`);
    returns rows deleted.

    The events, leaves and checkpoints stay, and still verify: the tree holds only commitments.
    Flushes; the caller commits.
    """
    db.session.flush()
    result = db.session.execute(delete(AuditPersonal).where(personal_rows_of(user_id))
                                .execution_options(synchronize_session=False))
    db.session.expire_all()  # loaded events must not show the deleted fields
    return result.rowcount


def latest_checkpoint() -> AuditCheckpoint | None:
    """The newest signed checkpoint, or None before the first seal."""
    return db.session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1))


def leaf_hashes(size: int | None = None) -> list[bytes]:
    """The first `size` leaf hashes (all when None), in tree order: the input of every proof."""
    query = select(AuditLeaf.hash).order_by(AuditLeaf.index)
    if size is not None:
        query = query.where(AuditLeaf.index < size)
    return list(db.session.scalars(query.execution_options(yield_per=50_000)))


def head() -> tuple[int, str]:
    """The latest checkpoint's tree size and root hash (hex); (0, empty-tree root) before any seal."""
    checkpoint = latest_checkpoint()
    return (checkpoint.tree_size, checkpoint.root_hash) if checkpoint else (0, EMPTY_ROOT.hex())
