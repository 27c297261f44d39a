"""The v1 audit chain (before the Merkle tree): checking it once, then sealing it as the first leaves.

In v1 each event's hash was SHA-256(previous hash + canonical JSON of the event, personal
fields included). The migration to v2 moved the personal fields to `audit_personal` and kept
the links as `prev_hash`/`hash`; `migrate_v1` checks the chain over them and only then seals
the v1 events, in their order, as leaves 0, 1, 2, ... of the tree.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select

from lms.audit.models import AuditEvent, AuditPersonal
from lms.audit.sealing import seal_events
from lms.audit.services import latest_checkpoint
from lms.extensions import db

GENESIS = "0" * 64


class V1ChainBroken(RuntimeError):
    """The v1 chain does not verify: nothing is converted."""

    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(f"the v1 audit chain is broken at event #{seq}: {reason}")
        self.seq = seq
        self.reason = reason


def chain_hash(prev_hash: str, seq: int, occurred_at, actor_id: int | None, actor_label: str, action: str,
               target_type: str, target_id: str, ip: str, data: dict) -> str:
    """v1's hash of one event: SHA-256 of the previous hash and the event's canonical JSON."""
    body = {"seq": seq, "occurred_at": occurred_at.isoformat(timespec="microseconds"), "actor_id": actor_id,
            "actor": actor_label, "action": action, "target_type": target_type, "target_id": target_id,
            "ip": ip, "data": data}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def verify_v1_chain(batch_size: int = 5000) -> int:
    """Walk the v1 events in order; how many verified. Raises V1ChainBroken at the first bad one."""
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    query = (select(AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.actor_id, AuditEvent.action,
                    AuditEvent.target_type, AuditEvent.target_id, AuditEvent.data, AuditEvent.v1_prev_hash,
                    AuditEvent.v1_hash, AuditPersonal.actor_label, AuditPersonal.ip)
             .outerjoin(AuditPersonal, AuditPersonal.event_seq == AuditEvent.seq)
             .where(AuditEvent.v1_hash.is_not(None)).order_by(AuditEvent.seq)
             .execution_options(yield_per=batch_size))
    rows = db.session.execute(query)
    try:
        for row in rows:
            if row.seq != expected_seq:
                raise V1ChainBroken(row.seq, f"expected event #{expected_seq} next (missing or reordered)")
            if row.v1_prev_hash != expected_prev:
                raise V1ChainBroken(row.seq, "its link to the previous event does not match "
                                             "(deleted, inserted or swapped rows)")
            if row.actor_label is None:
                raise V1ChainBroken(row.seq, "its personal fields are gone, so its v1 hash cannot be checked")
            digest = chain_hash(row.v1_prev_hash, row.seq, row.occurred_at, row.actor_id, row.actor_label,
                                row.action, row.target_type, row.target_id, row.ip, row.data)
            if digest != row.v1_hash:
                raise V1ChainBroken(row.seq, "its content does not match its hash (edited)")
            expected_prev, expected_seq, checked = row.v1_hash, row.seq + 1, checked + 1
    finally:
        rows.close()
    return checked


@dataclass(frozen=True)
class MigrateResult:
    checked: int  # v1 events whose chain verified
    sealed: int  # events sealed by this run (the v1 ones, then any newer ones)
    already_done: bool = False


def migrate_v1() -> MigrateResult:
    """Check the v1 chain and seal it as the tree's first leaves; a no-op once the tree exists.

    Commits (through the seal). Raises V1ChainBroken, changing nothing, if the chain is broken.
    """
    if latest_checkpoint() is not None:
        return MigrateResult(0, 0, already_done=True)
    checked = verify_v1_chain()
    if not checked:
        return MigrateResult(0, 0)
    result = seal_events(None, v1_checked=True)
    return MigrateResult(checked, result.sealed)
