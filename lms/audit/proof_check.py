"""Checking an event's inclusion proof offline: no database, no app, only our signing certificate.

    python -m lms.audit.proof_check audit-event-42-proof.json --certificate cert.pem

The bundle (lms/audit/proofs.py) carries the leaf's input, its index, the audit path and a
signed checkpoint note. The check: the note is signed by the certificate's key; the leaf
hash is RFC 9162's SHA-256(0x00 || input); the path leads from it to the note's root at
the note's tree size (RFC 9162 2.1.3.2). Anyone can redo these steps in another language:
docs/audit-log.md gives them.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lms.audit import merkle
from lms.audit.checkpoints import parse_note, verify_note

FORMAT = "callsafe-audit-inclusion-proof/1"  # lms/audit/proofs.py writes this


class ProofError(ValueError):
    """The bundle does not prove what it claims; the message says which step failed."""


@dataclass(frozen=True)
class CheckedProof:
    event: dict[str, Any]  # the leaf input: the event's non-personal fields
    leaf_index: int
    tree_size: int
    checkpoint_time: str


def check_bundle(bundle: Any, certificate_pem: bytes, key_ids: tuple[str, ...] = ()) -> CheckedProof:
    """Check an inclusion-proof bundle against a trusted certificate; ProofError saying why not."""
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise ProofError(f"not an audit inclusion proof (expected format {FORMAT!r})")
    try:
        note = parse_note(str(bundle["checkpoint"]))
        index, size = bundle["leaf_index"], bundle["tree_size"]
        leaf_input = str(bundle["leaf_input"])
        path = [bytes.fromhex(h) for h in bundle["audit_path"]]
        event = json.loads(leaf_input)
    except (KeyError, TypeError, ValueError) as exc:
        raise ProofError(f"the bundle is malformed: {exc}") from None
    if not verify_note(note.body, note.key_id, note.signature, certificate_pem, key_ids):
        raise ProofError("the checkpoint is not signed by the given certificate's key")
    if size != note.tree_size:
        raise ProofError(f"the bundle says tree size {size} but its checkpoint has {note.tree_size}")
    if not isinstance(event, dict) or event.get("seq") != bundle.get("event_seq"):
        raise ProofError("the leaf input is not the event the bundle names")
    leaf_hash = merkle.leaf_hash(leaf_input.encode("utf-8"))
    if not merkle.verify_inclusion(index, size, leaf_hash, path, note.root):
        raise ProofError(f"the audit path does not lead from leaf #{index} to the checkpoint's root")
    return CheckedProof(event, index, size, note.created_at.isoformat())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lms.audit.proof_check", description=__doc__.split("\n")[0])
    parser.add_argument("bundle", type=Path, help="the proof downloaded from the event's page (JSON)")
    parser.add_argument("--certificate", type=Path, required=True,
                        help="the academy's signing certificate (PEM), obtained from the academy, not from the bundle")
    parser.add_argument("--key-id", action="append", default=[],
                        help="the deployment's SIGNING_KEY_ID, when it names its key by one")
    args = parser.parse_args(argv)
    try:
        bundle = json.loads(args.bundle.read_text(encoding="utf-8"))
        checked = check_bundle(bundle, args.certificate.read_bytes(), tuple(args.key_id))
    except (OSError, ValueError) as exc:  # ProofError and JSON errors are ValueErrors
        print(f"{args.bundle}: NOT PROVEN: {exc}", file=sys.stderr)
        return 1
    event = checked.event
    print(f"{args.bundle}: proven. Event #{event['seq']} ({event['action']}, {event['occurred_at']}) is leaf "
          f"#{checked.leaf_index} of the audit log's tree of {checked.tree_size} leaves signed at "
          f"{checked.checkpoint_time}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
