"""Flask's signed session cookie, with its signing objects made once instead of on every request.

Flask builds a new itsdangerous serializer for each request that reads the cookie (and each
response that writes it), and itsdangerous derives the signing key from the secret (one HMAC)
each time it signs or checks. Both depend only on the secret keys and fixed settings, so they
are kept per list of keys; together they were a quarter of opening the cookie, which every
signed-in request does (bench/README.md, #17 pages). The cookie's format, its signature, key
rotation through SECRET_KEY_FALLBACKS and its expiry check are Flask's and itsdangerous's own.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import want_bytes


class _KeyKeepingSigner(TimestampSigner):
    """itsdangerous's timestamp signer, deriving each secret's key once per process."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        secret = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        return _derived_key(secret, self.salt, self.key_derivation, self.digest_method)


@lru_cache(maxsize=32)
def _derived_key(secret: bytes, salt: bytes, key_derivation: str, digest_method: Any) -> bytes:
    return TimestampSigner(secret, salt=salt, key_derivation=key_derivation,
                           digest_method=digest_method).derive_key()


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, its serializer kept per list of secret keys."""

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        # As Flask orders them: the fallbacks, then the current key, which itsdangerous signs with.
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        return _serializer(keys, self.salt, self.serializer, self.key_derivation, self.digest_method)


@lru_cache(maxsize=8)
def _serializer(keys: tuple[str | bytes, ...], salt: str, serializer: Any, key_derivation: str,
                digest_method: Any) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(list(keys), salt=salt, serializer=serializer, signer=_KeyKeepingSigner,
                                  signer_kwargs={"key_derivation": key_derivation, "digest_method": digest_method})
