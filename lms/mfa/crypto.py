"""Keys for second factors, derived from configuration: nothing extra to store or rotate by hand.

MFA_ENCRYPTION_KEY, when set, is the root; otherwise SECRET_KEY is. Each use gets its own
key through HKDF with a distinct label, so no key serves two purposes.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


def _derive(label: bytes) -> bytes:
    root = current_app.config.get("MFA_ENCRYPTION_KEY") or current_app.config["SECRET_KEY"]
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"callsafe-mfa", info=label).derive(root.encode())


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(b"totp-secret-encryption")))


def encrypt(secret: str) -> str:
    """Encrypt and authenticate a TOTP secret for storage."""
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    """The TOTP secret; ValueError when the key changed or the value was tampered with."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("the stored TOTP secret cannot be decrypted with the configured key") from None


def webauthn_user_handle(user_id: int) -> bytes:
    """The opaque WebAuthn user.id for a person: stable, and reveals nothing about them."""
    return hmac.new(_derive(b"webauthn-user-handle"), str(user_id).encode(), hashlib.sha256).digest()
