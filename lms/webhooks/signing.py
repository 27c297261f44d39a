"""Signing secrets (Standard Webhooks form), kept encrypted, and the signature headers.

A secret reads `whsec_` + base64 of 32 random bytes. It is shown once, when it is made; the app
must sign every delivery with it, so it is stored encrypted (Fernet: AES with an HMAC) rather
than hashed (lms/sealed.py), under a key derived from WEBHOOKS_ENCRYPTION_KEY when set, else from
SECRET_KEY. Rotating SECRET_KEY without WEBHOOKS_ENCRYPTION_KEY means rotating every endpoint's
secret.

The signature follows Standard Webhooks: HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}"
with the decoded secret, sent as "v1,<base64>"; several space-separated while an old secret
still signs after a rotation.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from lms.sealed import SealedSecrets

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret, to be shown once."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


_SEALED = SealedSecrets("WEBHOOKS_ENCRYPTION_KEY", b"callsafe-webhooks", b"webhook-signing-secret-encryption",
                       "webhook signing secret")
encrypt = _SEALED.encrypt
decrypt = _SEALED.decrypt


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of a delivery."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(secrets_: list[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers for a body, signed with each secret given (current first)."""
    return {"Content-Type": "application/json", "webhook-id": message_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": " ".join(signature(s, message_id, timestamp, body) for s in secrets_)}
