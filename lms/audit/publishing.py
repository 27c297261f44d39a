"""Publishing checkpoints outside the database: the append-only file, documents, and the seal.

A database administrator could remove the newest leaves together with their checkpoints,
and nothing left inside the database would show it. A copy of each signed checkpoint kept
elsewhere does: `lms audit verify --checkpoint FILE` finds the tree shorter than a
checkpoint it once signed. The file is one signed note per seal, separated by blank lines,
only ever appended to (O_APPEND, fsync). Publishing catches up: it appends every stored
checkpoint newer than the file's last note, so a seal whose append failed (a full disk),
or one made by `lms audit migrate-v1`, reaches the file with the next seal.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from lms.audit.checkpoints import ParsedNote, checkpoint_note, parse_notes
from lms.audit.models import AuditCheckpoint
from lms.audit.merkle import EMPTY_ROOT
from lms.audit.sealing import SealResult, seal
from lms.audit.services import latest_checkpoint
from lms.extensions import db

log = logging.getLogger(__name__)
_TAIL_BYTES = 4096  # a note is about 250 bytes: the last one is in the file's last 4 KiB


def last_published(path: Path) -> ParsedNote | None:
    """The file's last note; None for a missing or empty file.

    ValueError if the end of the file is not a readable note (the file was edited).
    """
    try:
        with path.open("rb") as file:
            file.seek(0, os.SEEK_END)
            file.seek(max(0, file.tell() - _TAIL_BYTES))
            tail = file.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None
    if not tail.strip():
        return None
    # The tail may start mid-note; the last two blocks are the last note's body and signature line.
    blocks = tail.rstrip("\n").split("\n\n")
    return parse_notes("\n\n".join(blocks[-2:]) + "\n")[-1]


def _check_continues(path: Path, last: ParsedNote) -> None:
    """The file's last note must be one of this log's checkpoints: else say so loudly, append nothing."""
    stored = db.session.get(AuditCheckpoint, last.tree_size)
    if stored is None or stored.root_hash != last.root.hex():
        raise ValueError(f"{path} ends with a checkpoint at tree size {last.tree_size} that this log does not "
                         "hold: the log was truncated or rewritten, or the file belongs to another database "
                         "(run `lms audit verify --checkpoint` on it)")


def publish() -> int:
    """Append to AUDIT_CHECKPOINT_FILE every stored checkpoint newer than its last note; how many.

    Returns 0 when no file is configured. Raises OSError, or ValueError when the file's last note
    is unreadable or not one of this log's checkpoints (an alarm: the log lost what the file
    shows), for the caller to report; nothing is lost, the next call catches up.
    """
    configured = current_app.config.get("AUDIT_CHECKPOINT_FILE")
    if not configured:
        return 0
    target = Path(configured)
    last = last_published(target)
    if last is not None:
        _check_continues(target, last)
    after = last.tree_size if last is not None else 0
    checkpoints = db.session.scalars(select(AuditCheckpoint).where(AuditCheckpoint.tree_size > after)
                                     .order_by(AuditCheckpoint.tree_size)).all()
    if not checkpoints:
        return 0
    text = "".join("\n" + checkpoint_note(checkpoint) for checkpoint in checkpoints)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return len(checkpoints)


def seal_and_publish(limit: int | None = None) -> SealResult:
    """`seal`, then `publish`; a failure to publish is logged, never undoes the seal."""
    result = seal(limit)
    try:
        publish()
    except (OSError, ValueError) as exc:
        log.error("the audit checkpoint was sealed but not appended to %s: %s",
                  current_app.config.get("AUDIT_CHECKPOINT_FILE"), exc)
    return result


def for_documents() -> dict[str, int | str | None]:
    """The latest checkpoint as transcripts and evidence packs carry it (their "audit_checkpoint").

    The note is the signed text `lms audit verify --checkpoint` reads back from the document's
    JSON; before the first seal it is None and the root is the empty tree's.
    """
    latest = latest_checkpoint()
    if latest is None:
        return {"tree_size": 0, "root_hash": EMPTY_ROOT.hex(), "signed_at": None, "note": None}
    return {"tree_size": latest.tree_size, "root_hash": latest.root_hash,
            "signed_at": latest.created_at.isoformat(), "note": checkpoint_note(latest)}
