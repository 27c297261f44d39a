"""Signed checkpoints (tree heads) as text notes, in the spirit of C2SP tlog-checkpoint.

A checkpoint note's body is four lines: the log's origin, the tree size, the root hash in
base64 and the time of the seal (ISO 8601, UTC)::

    CallSafe Academy audit log
    1042
    3q2+7w...=
    2026-12-06T09:15:02.123456+00:00

and the signed note adds a blank line and one signature line, "— <key id> <base64 signature>".

Key choice: the checkpoints are signed with the app's existing document-signing key
(SIGNING_KEY_PATH, the PAdES key of lms/evidence/signing.py: ECDSA P-256 for the development
key, or RSA), with the same key id (SIGNING_KEY_ID, or the first 16 hex digits of the
certificate's SHA-256 fingerprint). Auditors already hold its certificate to check our PDFs,
so one certificate checks both, and key rotation works the same way for both. ECDSA
signatures are DER-encoded over SHA-256; RSA uses PKCS#1 v1.5 with SHA-256.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection
from datetime import datetime
from pathlib import Path
from typing import NamedTuple, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from flask import current_app, has_app_context

from lms.signing_keys import SigningError, key_id_for

ORIGIN = "CallSafe Academy audit log"
_DASH = "\u2014"  # the signed-note signature line starts with an em dash


class CheckpointLike(Protocol):
    tree_size: int
    root_hash: str
    created_at: datetime


class AuditCheckpointRow(CheckpointLike, Protocol):
    key_id: str
    signature: str


class ParsedNote(NamedTuple):
    tree_size: int
    root: bytes
    created_at: datetime
    key_id: str
    signature: str  # base64
    body: str  # the signed text (note_text of the checkpoint), for verify_note


def note_text(checkpoint: CheckpointLike) -> str:
    """The signed body of a checkpoint: origin, size, base64 root and time, one per line."""
    root = base64.b64encode(bytes.fromhex(checkpoint.root_hash)).decode("ascii")
    return (f"{ORIGIN}\n{checkpoint.tree_size}\n{root}\n"
            f"{checkpoint.created_at.isoformat(timespec='microseconds')}\n")


def signed_note(checkpoint: CheckpointLike, key_id: str, signature_b64: str) -> str:
    """The body and its signature line: what is exported and what `parse_note` reads back."""
    return f"{note_text(checkpoint)}\n{_DASH} {key_id} {signature_b64}\n"


def checkpoint_note(checkpoint: AuditCheckpointRow) -> str:
    """A stored checkpoint as its signed note: what goes to the file, the e-mail and the documents."""
    return signed_note(checkpoint, checkpoint.key_id, checkpoint.signature)


def _private_key(path: Path, passphrase: str | bytes | None):
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SigningError(f"Cannot read the signing key: {exc}. For development, create it with "
                           "`flask --app wsgi lms evidence dev-key`.") from None
    if isinstance(passphrase, str):
        passphrase = passphrase.encode()
    try:
        return serialization.load_pem_private_key(data, password=passphrase or None)
    except (TypeError, ValueError):
        raise SigningError(f"Cannot load the signing key {path} (wrong or missing passphrase?).") from None


def signing_certificate_pem() -> bytes:
    """The configured signing certificate (PEM): the one to give auditors to check checkpoints."""
    try:
        return Path(current_app.config["SIGNING_CERT_PATH"]).read_bytes()
    except OSError as exc:
        raise SigningError(f"Cannot read the signing certificate: {exc}.") from None


def current_key_id() -> str:
    """The key id the app signs with: SIGNING_KEY_ID, else the certificate's fingerprint id."""
    configured = current_app.config.get("SIGNING_KEY_ID")
    if configured:
        return configured
    cert = x509.load_pem_x509_certificate(signing_certificate_pem())
    return key_id_for(cert.public_bytes(serialization.Encoding.DER))


def sign_note(text: str) -> tuple[str, str]:
    """Sign a note body with the app's signing key; (key id, base64 signature)."""
    config = current_app.config
    key = _private_key(config["SIGNING_KEY_PATH"], config.get("SIGNING_KEY_PASSPHRASE"))
    message = text.encode("utf-8")
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(message, ec.ECDSA(hashes.SHA256()))
    elif isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        signature = key.sign(message)
    else:
        raise SigningError("The signing key must be ECDSA, RSA or Ed25519.")
    return current_key_id(), base64.b64encode(signature).decode("ascii")


def verify_note(text: str, key_id: str, signature_b64: str, certificate_pem: bytes,
                extra_key_ids: Collection[str] = ()) -> bool:
    """True if `signature_b64` is the certificate's key's signature of `text` and `key_id` names it.

    The key id must be the certificate's fingerprint id, one of `extra_key_ids` (a checker told
    the deployment's SIGNING_KEY_ID), or SIGNING_KEY_ID when the app runs with a configured one
    and the certificate is the configured one.
    """
    try:
        cert = x509.load_pem_x509_certificate(certificate_pem)
        signature = base64.b64decode(signature_b64, validate=True)
    except (ValueError, binascii.Error):
        return False
    fingerprint_id = key_id_for(cert.public_bytes(serialization.Encoding.DER))
    if key_id != fingerprint_id and key_id not in extra_key_ids and not _is_configured_id(key_id, certificate_pem):
        return False
    public_key = cert.public_key()
    message = text.encode("utf-8")
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, message)
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _is_configured_id(key_id: str, certificate_pem: bytes) -> bool:
    if not has_app_context():  # checked offline (lms/audit/proof_check.py): only the fingerprint id counts
        return False
    configured = current_app.config.get("SIGNING_KEY_ID")
    if not configured or key_id != configured:
        return False
    try:
        return signing_certificate_pem().strip() == certificate_pem.strip()
    except SigningError:
        return False


def parse_note(text: str) -> ParsedNote:
    """Read a signed checkpoint note back; ValueError saying what is wrong with it.

    The signature line may arrive wrapped (copied from a PDF or an e-mail that folds long
    lines): its words are read across line breaks and a base64 signature split over several
    lines is joined back.
    """
    body, sep, signature_part = text.replace("\r\n", "\n").partition("\n\n")
    lines = body.split("\n")
    if not sep or len(lines) != 4 or lines[0] != ORIGIN:
        raise ValueError(f"not a checkpoint of the {ORIGIN}: expected four lines, a blank line and a signature")
    size, root_b64, created = lines[1:]
    words = signature_part.split()
    if len(words) < 3 or words[0] != _DASH:
        raise ValueError("the signature line must read '— KEY-ID SIGNATURE'")
    if not size.isdigit():
        raise ValueError(f"the tree size {size!r} is not a number")
    try:
        root = base64.b64decode(root_b64, validate=True)
        at = datetime.fromisoformat(created)
    except (ValueError, binascii.Error):
        raise ValueError("the root hash or the time is malformed") from None
    if len(root) != 32:
        raise ValueError("the root hash is not 32 bytes")
    return ParsedNote(int(size), root, at, words[1], "".join(words[2:]), body + "\n")


def parse_notes(text: str) -> list[ParsedNote]:
    """Every checkpoint note in `text`, oldest first: one note, or the append-only file's many.

    A note is four body lines, a blank line and its signature (one line, or several when
    wrapped); notes are separated by blank lines. ValueError naming the line where an
    unreadable note starts.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    notes: list[ParsedNote] = []
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        start, body = i, lines[i:i + 4]
        i += 5  # the body and the blank line after it
        signature: list[str] = []
        while i < len(lines) and lines[i].strip():
            signature.append(lines[i])
            i += 1
        try:
            notes.append(parse_note("\n".join(body) + "\n\n" + "\n".join(signature) + "\n"))
        except ValueError as exc:
            raise ValueError(f"line {start + 1}: {exc}") from None
    if not notes:
        raise ValueError("no checkpoint note found")
    return notes


def notes_in(text: str) -> list[ParsedNote]:
    """The checkpoints in a file someone kept: notes (the append-only file, an e-mail's lines
    saved as a file, `lms audit checkpoint --out`) or a transcript's or pack's JSON, whose
    "audit_checkpoint" holds the note. ValueError saying what is wrong.
    """
    if text.lstrip().startswith("{"):
        try:
            note = json.loads(text)["audit_checkpoint"]["note"]
        except (ValueError, KeyError, TypeError):
            raise ValueError("a JSON file must be a transcript's or evidence pack's data, with an "
                             "audit_checkpoint.note") from None
        return parse_notes(str(note))
    return parse_notes(text)
