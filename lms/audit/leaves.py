"""What a leaf hashes: an event's non-personal fields and a commitment to its personal ones.

The leaf input is canonical JSON (sorted keys, no whitespace, UTF-8) of
{seq, occurred_at, action, target_type, target_id, actor_id, data, commitment}; the tree
hashes it as RFC 9162 prescribes (lms/audit/merkle.py). The commitment is
HMAC-SHA256(salt, canonical JSON of {actor_label, ip, subject_label}) with a random 32-byte
salt per event, kept with the fields in `audit_personal`: once that row is deleted, the
commitment reveals nothing (guessing an e-mail needs the salt) and the leaf still verifies.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from lms.audit import merkle

SALT_BYTES = 32

# One encoder for every call: json.dumps with these options builds a new one each time, which
# costs more than the encoding itself (it runs twice per event when verifying a million).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(value: Any) -> str:
    return _CANONICAL.encode(value)


def commitment(salt: bytes, actor_label: str, ip: str, subject_label: str) -> str:
    """Hex HMAC-SHA256 keyed with the event's salt over its personal fields."""
    body = canonical({"actor_label": actor_label, "ip": ip, "subject_label": subject_label})
    return hmac.new(salt, body.encode("utf-8"), hashlib.sha256).hexdigest()


def leaf_input(seq: int, occurred_at: datetime, action: str, target_type: str, target_id: str,
               actor_id: int | None, data: Any, commitment_hex: str) -> bytes:
    """The bytes a leaf hashes for one event (its row as stored, read back from the database)."""
    return canonical({
        "seq": seq, "occurred_at": occurred_at.isoformat(timespec="microseconds"), "action": action,
        "target_type": target_type, "target_id": target_id, "actor_id": actor_id, "data": data,
        "commitment": commitment_hex,
    }).encode("utf-8")


def leaf_hash_of(row: Any) -> bytes:
    """The RFC 9162 leaf hash of an event row (anything with the event's column attributes)."""
    return merkle.leaf_hash(leaf_input(row.seq, row.occurred_at, row.action, row.target_type, row.target_id,
                                       row.actor_id, row.data, row.commitment))
