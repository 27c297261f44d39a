"""The connections' client secrets, encrypted at rest (lms/sealed.py).

The app must send the secret to the IdP's token endpoint, so it is encrypted rather than hashed,
under a key derived from SSO_ENCRYPTION_KEY when set, otherwise from SECRET_KEY: rotating
SECRET_KEY without SSO_ENCRYPTION_KEY means typing each connection's secret again.
"""
from __future__ import annotations

from lms.sealed import SealedSecrets

_SEALED = SealedSecrets("SSO_ENCRYPTION_KEY", b"callsafe-sso", b"oidc-client-secret-encryption", "client secret")
encrypt = _SEALED.encrypt
decrypt = _SEALED.decrypt
