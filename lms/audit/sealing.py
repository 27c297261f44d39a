"""The sealer: appends committed audit events to the Merkle tree and signs a checkpoint.

Requests insert events without any lock, so events can commit out of `seq` order: a request
that took seq 41 may commit after one that took seq 42. The sealer must never put an event
in the tree while an event that belongs before it can still appear. Its rule:

- PostgreSQL. Every event stores its inserting transaction's id (`xid`, the 64-bit
  `pg_current_xact_id()`). The horizon is the oldest transaction of *this database* still in
  progress in the current snapshot (`_HORIZON`), or the snapshot's xmax when there is none:
  every transaction of this database with a smaller id has ended (committed or rolled back), so
  the set of events with `xid` below it is final and fully visible to the next statement.
  Transaction ids are shared by every database of the server; the snapshot's own xmin would
  let a long transaction in another database (a report, a migration, a backup) hold sealing
  back here, so in-progress ids are kept only when a backend of this database holds them
  (`pg_stat_activity.backend_xid`, visible for the app's own role). The tree's order is
  (xid, seq). A seal takes the events after the last leaf's (xid, seq) and below the horizon,
  in that order. Nothing can ever appear before the last leaf, so the leaves are contiguous
  and every committed event is sealed exactly once, without scanning the sealed ones again.
  A long transaction in this database holds the horizon back: events after it wait until it ends.
- SQLite has one writer at a time: a transaction that inserted an event commits before the
  next one can insert, so every committed event is safe and the order is simply seq (xid 0).

Events of the v1 chain have xid 0, so they come first, in their old order
(`lms audit migrate-v1` checks their chain before the first seal).

One sealer runs at a time: a transaction-scoped advisory lock on PostgreSQL (taken only here,
never by requests; a second sealer gives up at once), SQLite's write lock otherwise. A seal
is one transaction: leaves and checkpoint commit together, so a sealer killed half-way
leaves nothing behind and the next seal does the whole work again.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, insert, select, text, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA, INTEGER

from lms.audit import merkle
from lms.audit.checkpoints import note_text, sign_note
from lms.audit.leaves import leaf_input
from lms.audit.models import AuditCheckpoint, AuditEvent, AuditLeaf
from lms.audit.services import latest_checkpoint
from lms.clock import now
from lms.extensions import db

_SEALER_LOCK = 0x6C6D7373  # "lmss": the PostgreSQL advisory lock id only the sealer takes
# The oldest in-progress transaction of this database in the current snapshot, else the snapshot's
# xmax (the module docstring says why not its xmin). backend_xid is 32 bits: the low half of an xid8.
_HORIZON = text("""
    WITH snapshot AS (SELECT pg_current_snapshot() AS s),
         ours AS (SELECT backend_xid::text::bigint AS xid FROM pg_stat_activity
                  WHERE datname = current_database() AND backend_xid IS NOT NULL)
    SELECT coalesce(
        (SELECT min(x::text::bigint) FROM snapshot, pg_snapshot_xip(snapshot.s) AS x
         WHERE x::text::bigint % 4294967296 IN (SELECT xid FROM ours)),
        (SELECT pg_snapshot_xmax(s)::text::bigint FROM snapshot))
""")
_BATCH = 10_000  # events read, and leaves inserted, per round trip
_PG_INSERT_LEAVES = text('INSERT INTO audit_leaf ("index", event_seq, hash) '
                         "SELECT * FROM unnest(:indexes, :seqs, :hashes)").bindparams(
    bindparam("indexes", type_=ARRAY(INTEGER)), bindparam("seqs", type_=ARRAY(INTEGER)),
    bindparam("hashes", type_=ARRAY(BYTEA)))


class SealError(RuntimeError):
    """The log cannot be sealed as it stands (the v1 chain is not migrated, or leaves and checkpoints disagree)."""


@dataclass(frozen=True)
class SealResult:
    sealed: int  # events added to the tree by this seal
    tree_size: int  # the tree's size afterwards
    checkpoint: AuditCheckpoint | None  # the new checkpoint; None when nothing was sealed
    busy: bool = False  # another sealer was running; this one did nothing


def _take_lock(dialect: str) -> bool:
    if dialect == "postgresql":
        return bool(db.session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _SEALER_LOCK}))
    # SQLite: a write statement (matching nothing) takes the database's write lock now, so the
    # tree's state read next cannot change under us.
    db.session.execute(text("UPDATE audit_checkpoint SET tree_size = tree_size WHERE 0 = 1"))
    return True


def _insert_leaves(connection: Connection, dialect: str, start: int, seqs: list[int], hashes: list[bytes]) -> None:
    """Insert leaves #start, #start + 1, ... for the events `seqs` with their `hashes`."""
    if dialect == "postgresql":
        # One statement per batch: executemany sends one INSERT per leaf, twice as slow here.
        connection.execute(_PG_INSERT_LEAVES, {"indexes": list(range(start, start + len(seqs))), "seqs": seqs,
                                               "hashes": hashes})
    else:
        connection.execute(insert(AuditLeaf.__table__), [
            {"index": index, "event_seq": seq, "hash": digest}
            for index, seq, digest in zip(range(start, start + len(seqs)), seqs, hashes)])


def _check_v1_migrated() -> None:
    legacy = db.session.scalar(select(AuditEvent.seq).where(AuditEvent.v1_hash.is_not(None)).limit(1))
    if legacy is not None:
        raise SealError("the log still holds v1 chained events: run `flask --app wsgi lms audit migrate-v1`, "
                        "which checks their chain, before sealing")


def seal(limit: int | None = None) -> SealResult:
    """Seal the committed events the rule allows (at most `limit`), sign a checkpoint, commit.

    Commits (or rolls back) the session's transaction itself: call it with nothing pending.
    Needs the signing key (SIGNING_KEY_PATH). No new events: no checkpoint.
    """
    return seal_events(limit, v1_checked=False)


def seal_events(limit: int | None, *, v1_checked: bool) -> SealResult:
    """`seal`; `v1_checked` lets the first seal take v1 events (only lms/audit/v1.py, after checking their chain)."""
    session = db.session
    dialect = session.get_bind().dialect.name
    try:
        if not _take_lock(dialect):
            size = latest_checkpoint()
            session.rollback()
            return SealResult(0, size.tree_size if size else 0, None, busy=True)
        result = _seal_locked(dialect, limit, v1_checked)
        session.commit()
        return result
    except BaseException:
        session.rollback()
        raise


def _seal_locked(dialect: str, limit: int | None, v1_checked: bool) -> SealResult:
    session = db.session
    latest = latest_checkpoint()
    if latest is None:
        if not v1_checked:
            _check_v1_migrated()
        compact, cursor = merkle.CompactRange(), None
    else:
        compact = merkle.CompactRange(latest.tree_size, [bytes.fromhex(h) for h in latest.frontier])
        cursor = session.execute(select(AuditEvent.xid, AuditEvent.seq, AuditLeaf.index)
                                 .join(AuditLeaf, AuditLeaf.event_seq == AuditEvent.seq)
                                 .order_by(AuditLeaf.index.desc()).limit(1)).first()
        if cursor is None or cursor.index != latest.tree_size - 1:
            raise SealError(f"the last leaf is not #{latest.tree_size - 1}, as the latest checkpoint says: "
                            "run `lms audit verify`")
    # The horizon first, the events second: the later statement's snapshot sees every
    # transaction below the horizon as ended.
    horizon = session.scalar(_HORIZON) if dialect == "postgresql" else None
    query = select(AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.action, AuditEvent.target_type,
                   AuditEvent.target_id, AuditEvent.actor_id, AuditEvent.data, AuditEvent.commitment)
    if cursor is not None:
        query = query.where(tuple_(AuditEvent.xid, AuditEvent.seq) > tuple_(cursor.xid, cursor.seq))
    if horizon is not None:
        query = query.where(AuditEvent.xid < horizon)
    query = query.order_by(AuditEvent.xid, AuditEvent.seq)
    if limit is not None:
        query = query.limit(limit)
    first_index = compact.size
    # Core rows, not the ORM's: a seal reads up to a million of them, and the ORM's per-row
    # work would cost as much as hashing them.
    connection = session.connection()
    rows = connection.execute(query.execution_options(yield_per=_BATCH))
    try:
        for chunk in rows.partitions():
            start = compact.size
            # The query's columns are leaf_input's parameters, in order (as leaf_hash_of reads them).
            hashes = [merkle.leaf_hash(leaf_input(*row)) for row in chunk]
            for digest in hashes:
                compact.append(digest)
            _insert_leaves(connection, dialect, start, [row.seq for row in chunk], hashes)
    finally:
        rows.close()
    sealed = compact.size - first_index
    if not sealed:
        return SealResult(0, compact.size, None)
    checkpoint = AuditCheckpoint(tree_size=compact.size, root_hash=compact.root().hex(),
                                 frontier=[h.hex() for h in compact.hashes], created_at=now())
    checkpoint.key_id, checkpoint.signature = sign_note(note_text(checkpoint))
    session.add(checkpoint)
    session.flush()
    return SealResult(sealed, compact.size, checkpoint)
