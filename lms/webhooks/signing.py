"""Signing secrets (Standard Webhooks form), kept encrypted, and the signature headers.

A secret reads `whsec_` + base64 of 32 random bytes. It is shown once, when it is made; the app
must sign every delivery with it, so it is stored encrypted (Fernet: AES with an HMAC) rather
than hashed, under a key derived through HKDF from WEBHOOKS_ENCRYPTION_KEY when set, else from
SECRET_KEY (as lms/sso/crypto.py does for client secrets). Rotating SECRET_KEY without
WEBHOOKS_ENCRYPTION_KEY means rotating every endpoint's secret.

The signature follows Standard Webhooks: HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}"
with the decoded secret, sent as "v1,<base64>"; several space-separated while an old secret
still signs after a rotation.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret, to be shown once."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _fernet() -> Fernet:
    root = current_app.config.get("WEBHOOKS_ENCRYPTION_KEY") or current_app.config["SECRET_KEY"]
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"callsafe-webhooks",
               info=b"webhook-signing-secret-encryption").derive(root.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    """The secret; ValueError when the key changed or the value was tampered with."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("the endpoint's signing secret cannot be decrypted with the configured key: "
                         "rotate its secret") from None


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of a delivery."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(secrets_: list[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers for a body, signed with each secret given (current first)."""
    return {"Content-Type": "application/json", "webhook-id": message_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": " ".join(signature(s, message_id, timestamp, body) for s in secrets_)}
