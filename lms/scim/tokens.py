"""SCIM tokens: created and revoked by admins on an organisation's page; checked on every call.

A token reads `scim_<prefix>_<secret>`. The prefix finds the row and the secret's SHA-256 is
compared in constant time.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from lms.accounts.models import Organisation, User
from lms.audit.services import record
from lms.clock import now
from lms.extensions import db
from lms.scim.models import ScimToken

TOKEN_PREFIX = "scim_"
MAX_DAYS = 366
# last_used_at is written at most once a minute: provisioning 1,000 people must not write 1,000 times.
LAST_USED_EVERY = timedelta(minutes=1)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(actor: User | None, organisation: Organisation, name: str, days: int) -> tuple[ScimToken, str]:
    """Create a token valid for `days` and return it with its secret, shown once and never stored."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"A token lives between 1 and {MAX_DAYS} days.")
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    token = ScimToken(organisation=organisation, name=name.strip() or "SCIM", prefix=prefix,
                      secret_hash=_digest(secret), expires_at=now() + timedelta(days=days),
                      created_by_id=getattr(actor, "id", None))
    db.session.add(token)
    db.session.flush()
    record("scim_token.created", actor=actor, target=token, prefix=prefix, organisation_id=organisation.id,
           expires_at=token.expires_at.isoformat())
    return token, f"{TOKEN_PREFIX}{prefix}_{secret}"


def revoke_token(actor: User, token: ScimToken) -> None:
    """Stop the token at once; the row stays, for the list and the audit log."""
    if token.revoked_at is None:
        token.revoked_at = now()
        record("scim_token.revoked", actor=actor, target=token, prefix=token.prefix)


def authenticate(bearer: str) -> ScimToken | None:
    """The live token a bearer value belongs to, or None."""
    if not bearer.startswith(TOKEN_PREFIX):
        return None
    prefix, _, secret = bearer[len(TOKEN_PREFIX):].partition("_")
    token = db.session.scalar(select(ScimToken).where(ScimToken.prefix == prefix))
    at = now()
    if token is None or not hmac.compare_digest(token.secret_hash, _digest(secret)) or not token.live(at):
        return None
    if token.last_used_at is None or at - token.last_used_at >= LAST_USED_EVERY:
        db.session.execute(update(ScimToken).where(ScimToken.id == token.id).values(last_used_at=at)
                           .execution_options(synchronize_session=False))
    return token
