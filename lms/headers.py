"""Security headers on every response, with a per-request nonce for the few scripts we run."""
from __future__ import annotations

import secrets

from flask import Flask, Response, g

# The policy's script-src takes a nonce only on pages that place a script (csp_nonce() in a
# template); every other response, the answer autosave's JSON included, allows no inline or
# nonce'd script at all, and skips drawing a random nonce for nothing.
_POLICY = ("default-src 'self'; script-src 'self'{nonce}; style-src 'self'; img-src 'self' data:; "
           "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
           "form-action 'self'")
_POLICY_WITHOUT_NONCE = _POLICY.format(nonce="")
_FIXED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
_HSTS = {"Strict-Transport-Security": "max-age=31536000; includeSubDomains"}


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def install(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    fixed = _FIXED | (_HSTS if app.config.get("HSTS") else {})

    @app.after_request
    def set_headers(response: Response) -> Response:
        nonce = g.get("csp_nonce")
        # A view may set a stricter policy of its own (lesson images do).
        response.headers.setdefault("Content-Security-Policy",
                                    _POLICY.format(nonce=f" 'nonce-{nonce}'") if nonce else _POLICY_WITHOUT_NONCE)
        response.headers.update(fixed)
        return response
