"""Is this Open Badge one we issued, unaltered, and still valid? The /verify answer for badges.

Accepts what a holder has: the compact JWS (.jwt), the VC 2.0 enveloped form (JSON whose id is a
data:application/vc+jwt URL), the baked PNG, or the credential's JSON as downloaded. Each is
bounded and parsed defensively: anything malformed is a clear refusal, never an error page.
The answer uses the same words as a PDF's: valid, expired or revoked, or not ours.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from sqlalchemy import select

from lms.certification.models import Award
from lms.credentials import baking, keys
from lms.credentials.models import OpenBadge
from lms.credentials.open_badges import credential_of, token_sha256
from lms.evidence import other_credentials
from lms.evidence.certificates import award_status
from lms.extensions import db

MAX_BYTES = 512 * 1024  # a badge is a few kilobytes; a baked PNG well under this
ENVELOPE_PREFIX = "data:application/vc+jwt,"


class Unreadable(other_credentials.Unreadable):
    """The input is not an Open Badge in any form we accept; the message says why, for people."""


@dataclass(frozen=True)
class BadgeVerification:
    """What the verification page shows for a badge; the attribute names match a PDF's result."""

    found: bool
    award: Award | None = None
    status: str = ""
    message: str = ""
    signed: bool = False  # the input carried our signature and it checked out
    sha256: str | None = None
    file_matches: bool | None = None
    signature: None = None
    credential: bool = True

    @property
    def initials(self) -> str:
        return " ".join(f"{part[0]}." for part in self.award.user.name.split() if part) if self.award else ""


NOT_OURS = ("This is not an Open Badge we issued, or it has been altered (its signature does not check "
            "against our published keys).")


def read_token(data: bytes) -> tuple[str | None, dict[str, Any] | None]:
    """The compact JWS in the input, or (None, the plain credential JSON) when it carries no proof."""
    if len(data) > MAX_BYTES:
        raise Unreadable("That is too large to be an Open Badge.")
    if data.startswith(baking.SIGNATURE):
        try:
            return baking.extract(data).strip(), None
        except baking.NotABadge as exc:
            raise Unreadable(str(exc)) from exc
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise Unreadable("That is neither a badge image, a signed credential nor credential JSON.") from exc
    if not text.startswith("{"):
        return text, None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise Unreadable("That looks like JSON but cannot be read.") from exc
    if not isinstance(document, dict):
        raise Unreadable("That JSON is not a credential.")
    envelope = document.get("id")
    if isinstance(envelope, str) and envelope.startswith(ENVELOPE_PREFIX):
        return envelope[len(ENVELOPE_PREFIX):], None
    return None, document


def _header(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise Unreadable("That is not a signed credential (a JWT has three parts separated by dots).")
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, binascii.Error, RecursionError) as exc:
        raise Unreadable("The credential's header cannot be read.") from exc
    if not isinstance(header, dict):
        raise Unreadable("The credential's header cannot be read.")
    return header


def _result(badge: OpenBadge, signed: bool) -> BadgeVerification:
    award = badge.award
    return BadgeVerification(True, award, award_status(award), signed=signed)


def verify_badge(data: bytes) -> BadgeVerification:
    """Verify a badge in any accepted form. Raises Unreadable for input that is not one."""
    token, document = read_token(data)
    if token is None:
        # Unsigned JSON: ours only if it is exactly the credential we signed under that id.
        credential_id = document.get("id") if isinstance(document.get("id"), str) else ""
        badge = db.session.scalar(select(OpenBadge).where(
            OpenBadge.credential_uuid == credential_id.removeprefix("urn:uuid:")[:36]))
        if badge is not None and badge.jwt is None:
            return BadgeVerification(False, message="The holder of this badge had their data erased, so its JSON "
                                                    "cannot be compared any more. Check the signed badge (the "
                                                    ".jwt file or the badge image) instead.")
        if badge is None or credential_of(badge) != document:
            return BadgeVerification(False, message="This credential JSON is not one we issued, or it has been "
                                                    "altered (it matches none of ours).")
        return _result(badge, signed=False)
    header = _header(token)
    kid = header.get("kid")
    prefix = keys.issuer_did() + "#"
    key = keys.key_by_id(kid[len(prefix):]) if isinstance(kid, str) and kid.startswith(prefix) else None
    if key is None or header.get("alg") != keys.ALGORITHM:
        return BadgeVerification(False, message=NOT_OURS)
    try:
        jws.deserialize_compact(token, key.key, algorithms=[keys.ALGORITHM])
    except (JoseError, ValueError, binascii.Error):
        return BadgeVerification(False, message=NOT_OURS)
    badge = db.session.scalar(select(OpenBadge).where(OpenBadge.sha256 == token_sha256(token)))
    if badge is None:  # signed with our key, yet not a badge this database issued (another deployment's?)
        return BadgeVerification(False, message="This credential is signed with our key but is not one we "
                                                "issued. Tell your administrator.")
    return _result(badge, signed=True)


other_credentials.register(verify_badge)  # the verify page (lms/evidence) reads badges through this
