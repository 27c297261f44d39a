"""What the app's signing key means to the two packages that sign with it: the PAdES signatures
on issued PDFs (lms/evidence/signing.py) and the audit log's checkpoints (lms/audit/checkpoints.py).
Kept below both, so that the audit log, which evidence records into, needs nothing from evidence.
"""
from __future__ import annotations

import hashlib


class SigningError(RuntimeError):
    """The signing key or certificate cannot be used, or a document cannot be signed."""


def key_id_for(cert_der: bytes) -> str:
    """Default key id: the first 16 hex digits of the certificate's SHA-256 fingerprint."""
    return hashlib.sha256(cert_der).hexdigest()[:16]
