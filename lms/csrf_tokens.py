"""The CSRF token a page carries, signed at most once a minute per session.

Flask-WTF keeps a random secret in the session and puts into every form a signed, timestamped
copy of it (`generate_csrf`): a new serializer, a JSON dump, a key derivation and an HMAC on
every page that has a form, and every signed-in page has one (the sign-out button). Measured
in one process, that was 60 µs of a 770 µs signed-in 404 and of a 1.24 ms question page.

Here the signed token is kept, per session secret and signing key, for the rest of the minute
it was signed in; a page reuses it rather than signing again. Nothing about checking changes:
Flask-WTF's `validate_csrf` checks the same signature and the same age limit
(WTF_CSRF_TIME_LIMIT), which a token reaches at most a minute earlier than a freshly signed one
would. A rotated SECRET_KEY signs anew at once (the key is part of what a token is kept by).

Flask-WTF's forms and its `csrf_token()` template global both call its module's
`generate_csrf`; `install` puts this one in its place, for the process (it reads each app's
configuration as Flask-WTF's does). A test checks that both use it and that what it signs passes
Flask-WTF's own check.
"""
from __future__ import annotations

import time
from functools import lru_cache

import flask_wtf.csrf
from flask import Flask, current_app, g, session
from itsdangerous import URLSafeTimedSerializer

_FLASK_WTF_GENERATE = flask_wtf.csrf.generate_csrf
_SALT = "wtf-csrf-token"  # Flask-WTF's, so that its validate_csrf accepts the token


def install(app: Flask) -> None:
    """Give Flask-WTF's forms and templates the kept token (call after CSRFProtect.init_app)."""
    flask_wtf.csrf.generate_csrf = generate_csrf
    app.jinja_env.globals["csrf_token"] = generate_csrf


def generate_csrf(secret_key: str | bytes | None = None, token_key: str | None = None) -> str:
    """Flask-WTF's `generate_csrf` (same arguments, same configuration), with the signed token
    kept for up to a minute."""
    config = current_app.config
    key = secret_key if secret_key is not None else config.get("WTF_CSRF_SECRET_KEY", current_app.secret_key)
    field = token_key if token_key is not None else config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    token = g.get(field)
    if token is None:
        secret = session.get(field)
        if not isinstance(secret, str) or key is None:
            # No secret yet (Flask-WTF makes one and signs it), or no key (Flask-WTF says so).
            return _FLASK_WTF_GENERATE(secret_key, token_key)
        token = _signed(secret, key, int(time.time()) // 60)
        setattr(g, field, token)
    return token


@lru_cache(maxsize=4096)
def _signed(secret: str, key: str | bytes, minute: int) -> str:
    # `minute` only ends an entry's use: a token signed in an earlier minute is not handed out again.
    return URLSafeTimedSerializer(key, salt=_SALT).dumps(secret)
