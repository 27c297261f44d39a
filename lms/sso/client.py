"""Authlib's Flask client for each connection: discovery, the authorisation code flow with PKCE
(S256), state and nonce, and the id_token's signature and claims checked with a bounded leeway.

One client per connection and process, rebuilt when the connection changes and refetching the
discovery document after DISCOVERY_SECONDS, so the IdP's key rotations are picked up (Authlib
also refetches the JWKS when an id_token names a key it does not know).
"""
from __future__ import annotations

import threading
import time
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App
from flask import current_app
from flask_babel import gettext as _
from joserfc.errors import JoseError

from lms.addresses import external_url
from lms.sso import crypto
from lms.sso.models import SsoConnection
from lms.sso.services import SsoError

DISCOVERY_SECONDS = 3600
_clients: dict[int, tuple[tuple, FlaskOAuth2App]] = {}
_lock = threading.Lock()


def _fingerprint(connection: SsoConnection) -> tuple:
    return (connection.issuer, connection.client_id, connection.client_secret_encrypted, connection.scopes)


def oidc_client(connection: SsoConnection) -> FlaskOAuth2App:
    """The connection's Authlib client, its discovery document loaded and checked."""
    with _lock:
        cached = _clients.get(connection.id)
        if cached is None or cached[0] != _fingerprint(connection) \
                or time.time() - cached[1].server_metadata.get("_loaded_at", 0) > DISCOVERY_SECONDS:
            name = f"sso-{connection.id}"
            client = FlaskOAuth2App(
                FlaskIntegration(name), name,
                client_id=connection.client_id,
                client_secret=crypto.decrypt(connection.client_secret_encrypted),
                server_metadata_url=connection.issuer + "/.well-known/openid-configuration",
                client_kwargs={"scope": connection.scopes, "code_challenge_method": "S256",
                               "default_timeout": current_app.config["SSO_HTTP_TIMEOUT_SECONDS"]},
            )
            cached = (_fingerprint(connection), client)
            _clients[connection.id] = cached
        client = cached[1]
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        _clients.pop(connection.id, None)
        raise SsoError(_("Your organisation's sign-in cannot be reached just now. Try again in a moment."),
                       reason=f"discovery failed: {type(exc).__name__}") from exc
    # OpenID Connect Discovery 1.0 §4.3: the document must name exactly the issuer we asked.
    if metadata.get("issuer") != connection.issuer:
        _clients.pop(connection.id, None)
        raise SsoError(_("Your organisation's sign-in is not set up correctly. Ask your administrator."),
                       reason="discovery issuer mismatch")
    return client


def authorize_redirect(connection: SsoConnection, **params: Any):
    """Send the browser to the IdP (state, nonce and a PKCE verifier kept in the session)."""
    return oidc_client(connection).authorize_redirect(external_url("sso.callback"), **params)


def complete_authorization(connection: SsoConnection) -> tuple[dict[str, Any], dict[str, Any]]:
    """Trade the code for tokens and check the id_token: (token, verified claims). SsoError when
    the answer is an error, the state is not this browser's, or the id_token does not verify."""
    client = oidc_client(connection)
    try:
        token = client.authorize_access_token(
            leeway=current_app.config["SSO_LEEWAY_SECONDS"],
            claims_options={"iss": {"essential": True, "values": [connection.issuer]}},
        )
    except OAuthError as exc:
        error = getattr(exc, "error", "") or ""
        if error in ("login_required", "interaction_required", "consent_required", "account_selection_required"):
            raise SsoError(_("Your organisation's sign-in needs you to sign in again."), reason=error) from exc
        if error == "access_denied":
            raise SsoError(_("The sign-in was cancelled at your organisation's sign-in page."), reason=error) from exc
        raise SsoError(_("The sign-in could not be completed (it may have been started in another tab or "
                         "taken too long). Please start again."), reason=f"oauth: {error or 'state'}") from exc
    except JoseError as exc:
        raise SsoError(_("Your organisation's sign-in sent an answer that did not verify, so it was refused. "
                         "Please start again; if it keeps happening, tell your administrator."),
                       reason=f"id_token: {type(exc).__name__}") from exc
    except requests.RequestException as exc:
        raise SsoError(_("Your organisation's sign-in cannot be reached just now. Try again in a moment."),
                       reason=f"token endpoint: {type(exc).__name__}") from exc
    claims = token.get("userinfo")
    if not claims:
        raise SsoError(_("Your organisation's sign-in sent no identity token, so it was refused."),
                       reason="no id_token")
    return token, dict(claims)


def logout_url(connection: SsoConnection, id_token: str | None) -> str | None:
    """RP-initiated logout at the IdP, back to our signed-out page; None when it has none."""
    try:
        client = oidc_client(connection)
    except (SsoError, ValueError):
        return None
    if not client.server_metadata.get("end_session_endpoint"):
        return None
    return client.create_logout_url(post_logout_redirect_uri=external_url("sso.signed_out"),
                                    id_token_hint=id_token, client_id=connection.client_id)["url"]
