"""The connections' client secrets, encrypted at rest.

The app must send the secret to the IdP's token endpoint, so it is encrypted (Fernet: AES with
an HMAC) rather than hashed. The key is derived through HKDF from SSO_ENCRYPTION_KEY when set,
otherwise from SECRET_KEY: rotating SECRET_KEY without SSO_ENCRYPTION_KEY means typing each
connection's secret again.
"""
from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


def _fernet() -> Fernet:
    root = current_app.config.get("SSO_ENCRYPTION_KEY") or current_app.config["SECRET_KEY"]
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"callsafe-sso",
               info=b"oidc-client-secret-encryption").derive(root.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(secret: str) -> str:
    """Encrypt and authenticate a client secret for storage."""
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    """The client secret; ValueError when the key changed or the value was tampered with."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("the stored client secret cannot be decrypted with the configured key") from None
