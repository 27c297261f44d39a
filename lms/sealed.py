"""Secrets the app must use again (a TOTP seed, an IdP's client secret, a webhook signing secret),
encrypted at rest: they cannot be hashed like passwords, since the app sends or signs with them.

Fernet (AES with an HMAC) under a key derived through HKDF from a root: the purpose's own setting
(e.g. SSO_ENCRYPTION_KEY) when set, else SECRET_KEY. Each purpose has its own salt and label, so no
key serves two purposes; rotating SECRET_KEY without the purpose's setting makes its stored
secrets unreadable.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


@dataclass(frozen=True)
class SealedSecrets:
    """One purpose's key: `root_setting` names its configuration key; `salt` and `label` are fixed
    forever (changing them makes every stored value unreadable)."""

    root_setting: str
    salt: bytes
    label: bytes
    what: str  # named in the error, e.g. "TOTP secret"

    def derive(self, label: bytes | None = None) -> bytes:
        """32 key bytes for `label` (by default the encryption's) from this purpose's root."""
        root = current_app.config.get(self.root_setting) or current_app.config["SECRET_KEY"]
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=self.salt,
                    info=label or self.label).derive(root.encode())

    def encrypt(self, secret: str) -> str:
        """Encrypt and authenticate a secret for storage."""
        return self._fernet().encrypt(secret.encode()).decode()

    def decrypt(self, token: str) -> str:
        """The secret; ValueError when the key changed or the value was tampered with."""
        try:
            return self._fernet().decrypt(token.encode()).decode()
        except InvalidToken:
            raise ValueError(f"the stored {self.what} cannot be decrypted with the configured key") from None

    def _fernet(self) -> Fernet:
        return Fernet(base64.urlsafe_b64encode(self.derive()))
