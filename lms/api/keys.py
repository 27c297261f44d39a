"""API keys: created, rotated and revoked by admins; checked on every API call.

A token reads `csa_<prefix>_<secret>`. The prefix finds the row (indexed, unique) and the
secret's SHA-256 is compared in constant time. Scopes are read-only by construction: the API
has no endpoint that writes.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, bindparam, or_, select, update

from lms.accounts.models import Organisation, User
from lms.api.models import SCOPES, ApiKey
from lms.audit.services import record
from lms.clock import now
from lms.driver_statements import DriverStatement, as_driver_time
from lms.extensions import db

TOKEN_PREFIX = "csa_"
# last_used_at is written at most once a minute per key: a busy integration must not turn every
# read into a write.
LAST_USED_EVERY = timedelta(minutes=1)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_secret() -> tuple[str, str]:
    return secrets.token_hex(6), secrets.token_urlsafe(32)


def create_key(actor: User | None, name: str, scopes: list[str], organisation: Organisation | None) -> tuple[ApiKey, str]:
    """Create a key and return it with its token, which is shown once and never stored."""
    unknown = set(scopes) - SCOPES.keys()
    if unknown or not scopes:
        raise ValueError(f"Choose scopes among {', '.join(SCOPES)}.")
    prefix, secret = _new_secret()
    key = ApiKey(name=name.strip(), prefix=prefix, secret_hash=_digest(secret), scopes=" ".join(sorted(scopes)),
                 organisation=organisation, created_by_id=getattr(actor, "id", None))
    db.session.add(key)
    db.session.flush()
    record("api_key.created", actor=actor, target=key, name=key.name, prefix=prefix, scopes=key.scopes,
           organisation_id=key.organisation_id)
    return key, f"{TOKEN_PREFIX}{prefix}_{secret}"


def rotate_key(actor: User, key: ApiKey) -> str:
    """Give the key a new secret (same prefix, scopes and history); the old token stops at once."""
    _, secret = _new_secret()
    key.secret_hash = _digest(secret)
    key.rotated_at = now()
    record("api_key.rotated", actor=actor, target=key, prefix=key.prefix)
    return f"{TOKEN_PREFIX}{key.prefix}_{secret}"


def revoke_key(actor: User, key: ApiKey) -> None:
    """Stop the key for good; the row stays, for the audit log and the list."""
    if key.revoked_at is None:
        key.revoked_at = now()
        record("api_key.revoked", actor=actor, target=key, prefix=key.prefix)


@dataclass(frozen=True)
class LiveKey:
    """What a call needs of the key it came with. Read as plain columns on the API's autocommit
    connection, not as an ApiKey through the ORM session: this runs on every call."""

    id: int
    prefix: str
    organisation_id: int | None
    scopes: str

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


# Run on the driver's cursor (every call does): whether last_used_at is due is asked of the database,
# so no timestamp has to be read back and converted.
_LIVE = DriverStatement(
    select(ApiKey.id, ApiKey.prefix, ApiKey.organisation_id, ApiKey.scopes, ApiKey.secret_hash,
           or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= bindparam("since")).label("use_due"))
    .where(ApiKey.prefix == bindparam("prefix"), ApiKey.revoked_at.is_(None)))
# Conditional, so that concurrent calls write it once.
_USED = (update(ApiKey.__table__)
         .where(ApiKey.id == bindparam("key_id"),
                or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= bindparam("since")))
         .values(last_used_at=bindparam("at")))


def authenticate(connection: Connection, token: str) -> LiveKey | None:
    """The live key a bearer token belongs to, or None. Notes its use (at most once a minute).

    `connection` is in autocommit mode: the last-used update stands alone."""
    if not token.startswith(TOKEN_PREFIX) or token.count("_") < 2:
        return None
    prefix, _, secret = token[len(TOKEN_PREFIX):].partition("_")
    at = now()
    rows = _LIVE.rows(connection, {"prefix": prefix, "since": as_driver_time(at - LAST_USED_EVERY)})
    if not rows or not hmac.compare_digest(rows[0].secret_hash, _digest(secret)):
        return None
    row = rows[0]
    if row.use_due:
        connection.execute(_USED, {"key_id": row.id, "since": at - LAST_USED_EVERY, "at": at})
    return LiveKey(row.id, row.prefix, row.organisation_id, row.scopes)
