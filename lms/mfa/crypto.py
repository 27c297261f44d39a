"""Keys for second factors, derived from configuration: nothing extra to store or rotate by hand.

MFA_ENCRYPTION_KEY, when set, is the root; otherwise SECRET_KEY is. Each use gets its own
key through HKDF with a distinct label, so no key serves two purposes.
"""
from __future__ import annotations

import hashlib
import hmac

from lms.sealed import SealedSecrets

_SEALED = SealedSecrets("MFA_ENCRYPTION_KEY", b"callsafe-mfa", b"totp-secret-encryption", "TOTP secret")
encrypt = _SEALED.encrypt
decrypt = _SEALED.decrypt


def webauthn_user_handle(user_id: int) -> bytes:
    """The opaque WebAuthn user.id for a person: stable, and reveals nothing about them."""
    return hmac.new(_SEALED.derive(b"webauthn-user-handle"), str(user_id).encode(), hashlib.sha256).digest()
