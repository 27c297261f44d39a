"""Open Badges 3.0: every award also becomes an OpenBadgeCredential, signed as VC-JWT.

The credential follows OB 3.0 on the VC Data Model 2.0: the achievement is the programme (its
criteria name the courses and assessments and the content versions that earned the award), the
issuer is the academy's profile under BASE_URL and did:web, the holder is a salted SHA-256 of
their e-mail address (never the address), validFrom/validUntil are the award's dates, the
evidence is the score per phase, and credentialStatus points at the published status list.

It is signed once, when the award is issued (`award_issued`), and stored as the compact JWS; an
award from before Open Badges existed gets its badge on first download. Nothing edits it later.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from datetime import datetime
from typing import Any

from flask import current_app
from joserfc import jwt
from sqlalchemy import select

from lms import signals
from lms.addresses import base_url, external_url
from lms.audit.services import record
from lms.certification.models import Award
from lms.credentials import keys, status_list
from lms.credentials.models import OpenBadge
from lms.evidence.branding import current_branding
from lms.extensions import db

CONTEXTS = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
SCHEMA_URL = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
MEDIA_TYPE = "application/vc+jwt"
# JWT registered claims that sit beside the credential's own members in the payload.
REGISTERED_CLAIMS = ("iss", "jti", "nbf", "exp", "iat", "sub")
PHASES = (("before", "Before the call"), ("during", "During the call"), ("after", "After the call"))


def _timestamp(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def identity_hash(email: str, salt: str) -> str:
    """OB 3.0 IdentityHash: "sha256$" and the hex SHA-256 of the identifier followed by the salt."""
    return "sha256$" + hashlib.sha256((email + salt).encode("utf-8")).hexdigest()


def issuer_profile() -> dict[str, Any]:
    """The academy as an OB 3.0 Profile: the company named in the branding, at BASE_URL."""
    branding = current_branding()
    logo = f"pdf/{branding.logo}" if branding.logo else "img/logo.svg"
    return {"id": keys.issuer_did(), "type": ["Profile"], "name": branding.company_name,
            "url": base_url() + "/",
            "image": {"id": external_url("static", filename=logo), "type": "Image",
                      "caption": f"{branding.company_name} logo"}}


def _criteria(award: Award) -> str:
    spec = award.programme_version.spec
    minimum = {r["quiz"]: r["min_score"] for r in spec.get("requirements", []) if "quiz" in r}
    lines = ["Issued when every requirement of the programme was met within one certification cycle:", ""]
    for course in award.evidence.get("courses", []):
        lines.append(f"- Read every lesson of the course **{course['title']}** (content version `{course['version']}`).")
    for quiz in award.evidence.get("quizzes", []):
        needed = minimum.get(quiz["slug"])
        score = f" with at least {needed}%" if needed is not None else ""
        lines.append(f"- Pass the assessment **{quiz['title']}**{score} (content version `{quiz['version']}`), "
                     "with no critical reply in a call simulation.")
    return "\n".join(lines)


def _evidence(award: Award) -> list[dict[str, Any]]:
    items = []
    for quiz in award.evidence.get("quizzes", []):
        phases = quiz.get("phases") or {}
        by_phase = [f"{label}: {phases[key]['percent']:g}%" for key, label in PHASES
                    if isinstance(phases.get(key), dict) and phases[key].get("percent") is not None]
        items.append({"type": ["Evidence"], "name": f"{quiz['title']}: {quiz['percent']:g}%",
                      "genre": "Assessment",
                      "description": f"Best passing attempt, finished {quiz['finished_at'][:10]} "
                                     f"(content version {quiz['version']}).",
                      "narrative": "Score by phase of the call: " + ("; ".join(by_phase) if by_phase else "not recorded") + "."})
    for course in award.evidence.get("courses", []):
        items.append({"type": ["Evidence"], "name": course["title"], "genre": "Course",
                      "description": f"All {course['lessons']} lessons read (content version {course['version']})."})
    return items


def achievement(award: Award) -> dict[str, Any]:
    version = award.programme_version
    return {
        # A name, not an address: the achievement is described in full inside every badge.
        "id": "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{base_url()}/programmes/{award.programme.slug}"
                                                                f"/{version.content_hash}")),
        "type": ["Achievement"],
        "achievementType": "Certification",
        "name": version.title,
        "description": version.spec.get("description") or version.title,
        "criteria": {"narrative": _criteria(award)},
        "image": {"id": external_url("static", filename="credentials/badge.png"), "type": "Image",
                  "caption": f"{version.title} badge"},
        "version": version.content_hash[:12],
        "inLanguage": "en",
    }


def build_credential(award: Award, credential_uuid: str, salt: str) -> dict[str, Any]:
    """The OpenBadgeCredential of an award, before signing."""
    title = award.programme_version.title
    return {
        "@context": list(CONTEXTS),
        "id": f"urn:uuid:{credential_uuid}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": title,
        "description": f"Certified in {title}: GDPR data handling for contact-centre agents.",
        "issuer": issuer_profile(),
        "validFrom": _timestamp(award.issued_at),
        "validUntil": _timestamp(award.valid_until),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
                            "identityHash": identity_hash(award.user.email, salt), "salt": salt}],
            "achievement": achievement(award),
        },
        "evidence": _evidence(award),
        "credentialStatus": status_list.status_entry(award.id),
        "credentialSchema": [{"id": SCHEMA_URL, "type": "1EdTechJsonSchemaValidator2019"}],
    }


def sign(credential: dict[str, Any], key: keys.IssuerKey) -> str:
    """VC-JWT: the credential is the JWT payload (VC-JOSE-COSE), with the registered claims that
    OB 3.0 maps from it, signed ES256 under the key's DID URL."""
    claims = {**credential, "iss": credential["issuer"]["id"] if isinstance(credential["issuer"], dict)
              else credential["issuer"], "jti": credential["id"],
              "nbf": int(datetime.fromisoformat(credential["validFrom"]).timestamp())}
    if "validUntil" in credential:
        claims["exp"] = int(datetime.fromisoformat(credential["validUntil"]).timestamp())
    header = {"alg": keys.ALGORITHM, "typ": "vc+jwt", "cty": "vc", "kid": keys.verification_method(key.kid)}
    return jwt.encode(header, claims, key.key)


def payload(token: str) -> dict[str, Any]:
    """The claims of a compact JWS, unverified: for our own stored tokens, or after verifying."""
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


class BadgeErased(LookupError):
    """The holder's data was erased (Art. 17): their badge is deleted and none is signed again."""


def credential_of(badge: OpenBadge) -> dict[str, Any]:
    """The credential a badge carries, without the JWT's registered claims."""
    if badge.jwt is None:
        raise BadgeErased(f"the badge of award {badge.award_id} was deleted with its holder's data")
    return {k: v for k, v in payload(badge.jwt).items() if k not in REGISTERED_CLAIMS}


def issue(award: Award, actor=None) -> OpenBadge:
    """Sign and store the award's Open Badge (once; the stored one after that). Flushes.

    Raises BadgeErased for a holder whose data was erased: their badge is gone, and a new one
    would only carry their pseudonym; the award still verifies by its code.
    """
    existing = db.session.scalar(select(OpenBadge).where(OpenBadge.award_id == award.id))
    if existing is not None and existing.jwt is not None:
        return existing
    if existing is not None or award.user.erased_at is not None:
        raise BadgeErased(f"the badge of award {award.id} was deleted with its holder's data")
    key = keys.issuer_key()
    credential_uuid = str(uuid.uuid4())
    token = sign(build_credential(award, credential_uuid, secrets.token_hex(16)), key)
    number, index = status_list.place(award.id)
    badge = OpenBadge(award=award, credential_uuid=credential_uuid, jwt=token, sha256=token_sha256(token),
                      key_id=key.kid, status_list=number, status_index=index)
    db.session.add(badge)
    db.session.flush()
    record("open_badge.issued", actor=actor, target=badge, award_id=award.id, key_id=key.kid,
           credential_id=f"urn:uuid:{credential_uuid}", status_list=number, status_index=index)
    return badge


@signals.award_issued.connect
def _issue_with_award(sender: object, award: Award, **_: object) -> None:
    """Every award also issues its Open Badge, in the same transaction.

    Without an issuer key (production not configured yet) the award is still issued: its badge
    is signed on first download once the key is there, and the error log says what is missing.
    """
    try:
        issue(award)
    except keys.IssuerKeyMissing as exc:
        current_app.logger.error("award %s issued without its Open Badge: %s", award.id, exc)

