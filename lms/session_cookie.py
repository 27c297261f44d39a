"""Flask's signed session cookie, with its signing objects made once and each cookie read once.

Flask builds a new itsdangerous serializer for each request that reads the cookie (and each
response that writes it), and itsdangerous derives the signing key from the secret (one HMAC)
each time it signs or checks. Both depend only on the secret keys and fixed settings, so they
are kept per list of keys; together they were a quarter of opening the cookie, which every
signed-in request does (bench/README.md, #17 pages).

A browser then sends the same cookie on request after request, and checking its signature and
decoding it (base64, zlib, Flask's tagged JSON) cost another 60 µs of each signed-in page. So
what a cookie holds, once its signature has checked out under a list of keys, is kept by the
cookie's exact text and that list (an LRU); every request still checks its age against
PERMANENT_SESSION_LIFETIME as itsdangerous does, and gets its own copy of the values. A cookie
whose signature fails is never kept. The format, the signature, key rotation through
SECRET_KEY_FALLBACKS and the expiry rule are Flask's and itsdangerous's own.
"""
from __future__ import annotations

import copy
import time
from functools import lru_cache
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
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
    """Flask's signed-cookie session, its serializer kept per list of secret keys and each
    cookie's contents kept once its signature has checked out."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # Flask's own, with the signature checked and the values decoded once per cookie.
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        try:
            signed_at, values = _opened(serializer, cookie)
        except BadSignature:
            return self.session_class()
        # itsdangerous's expiry rule (TimestampSigner.unsign with max_age), checked on every request.
        age = int(time.time()) - signed_at
        if age > app.permanent_session_lifetime.total_seconds() or age < 0:
            return self.session_class()
        return self.session_class(_own_copy(values))

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


@lru_cache(maxsize=4096)
def _opened(serializer: URLSafeTimedSerializer, cookie: str) -> tuple[int, dict[str, Any]]:
    """The cookie's signing time and values, if its signature checks out under `serializer`'s keys
    (BadSignature otherwise, which is not kept). Never hand out the dict itself: see _own_copy."""
    values, signed_at = serializer.loads(cookie, return_timestamp=True)
    return int(signed_at.timestamp()), values


def _own_copy(values: dict[str, Any]) -> dict[str, Any]:
    # A request may change what it was given (a flash appends to the list in "_flashes"): the kept
    # values must not change with it. Most values are strings and flags, shared as they are.
    return {key: value if isinstance(value, (str, int, float, bool, type(None))) else copy.deepcopy(value)
            for key, value in values.items()}
