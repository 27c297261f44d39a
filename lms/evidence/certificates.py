"""Certificates: render once, sign, store; verify by code, by file, and from the command line.

The verification page shows as little personal data as works: the programme, the
status and dates, the content versions and the genuine file's SHA-256, and the
holder's initials only. Whoever holds the PDF already has the name; the page's job
is to say whether that file is genuine and still valid, not to reveal who trained.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import User
from lms.addresses import external_url
from lms.audit.services import record
from lms.certification.models import Award
from lms.clock import now
from lms.driver_statements import DriverStatement
from lms.evidence import documents, renderer, signing
from lms.evidence.embedded import embedded_json
from lms.evidence.models import Certificate
from lms.extensions import db
from lms.i18n import user_language
from lms.learning.translated import titles_in


def assessed_language(award: Award) -> str:
    """The language the agent studied and was assessed in, as their certificate records it: their
    quiz attempts' (kept in the award's evidence; the latest one's when they differ), else their
    documents' language."""
    quizzes = sorted(award.evidence.get("quizzes", []), key=lambda quiz: quiz.get("finished_at") or "")
    assessed = [quiz["language"] for quiz in quizzes if quiz.get("language")]
    offered = current_app.config.get("LANGUAGES") or tuple(documents.LANGUAGE_NAMES)
    if assessed and assessed[-1] in offered:
        return assessed[-1]
    return user_language(award.user)


def agent_time_zone(user: User) -> str:
    """The time zone of a user's documents: theirs, else their organisation's, else DEFAULT_TIME_ZONE."""
    from lms.accounts.locale_defaults import is_time_zone, organisation_defaults

    for choice in (user.time_zone, organisation_defaults(user.organisation_id)[1]):
        if choice and is_time_zone(choice):
            return choice
    return current_app.config.get("DEFAULT_TIME_ZONE", "UTC")


def certificate_data(award: Award, language: str | None = None) -> dict:
    """What the certificate states, also embedded in the PDF as JSON.

    `language`: the one the agent studied and was assessed in, by default `assessed_language`;
    the courses and quizzes are named as they were in it."""
    evidence = award.evidence
    language = language or assessed_language(award)
    # The courses and quizzes by the names the agent studied them under, in the certificate's language.
    course_titles = titles_in("course", [c.get("slug", "") for c in evidence.get("courses", [])], language)
    quiz_titles = titles_in("quiz", [q.get("slug", "") for q in evidence.get("quizzes", [])], language)
    programme_slug = award.programme_version.programme.slug
    return {
        "agent_name": award.user.name,
        "organisation": award.user.organisation.name,
        "programme": titles_in("programme", [programme_slug], language).get(programme_slug,
                                                                            award.programme_version.title),
        "courses": [{"title": course_titles.get(c.get("slug"), c["title"]), "version": c["version"]}
                    for c in evidence.get("courses", [])],
        "quizzes": [{"title": quiz_titles.get(q.get("slug"), q["title"]), "percent": q["percent"],
                     "version": q["version"]} for q in evidence.get("quizzes", [])],
        "issued_at": award.issued_at.date().isoformat(),
        "valid_until": award.valid_until.date().isoformat(),
        "verification_code": award.verification_code,
        "verify_url": external_url("evidence.verify", code=award.verification_code),
        "language": language,
    }


def certificate_branding() -> dict:
    """The branding a certificate prints, as plain data: what an admin saved on /admin/branding,
    else the BRANDING_* settings. Taken when the award is issued, kept in the render job."""
    from lms.evidence.branding import current_branding

    values = current_branding()
    return {"company_name": values.company_name, "primary_colour": values.primary_colour,
            "signatory_name": values.signatory_name, "signatory_title": values.signatory_title,
            "logo": values.logo or None}


class CertificateErased(LookupError):
    """The holder's data was erased (Art. 17): their PDF is deleted and none is rendered again."""


def stored_certificate_of(award: Award) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.award_id == award.id))


def certificate_for(award: Award, actor=None) -> Certificate:
    """The award's certificate: the stored one, rendered and signed now if there is none.

    Certificates are rendered when the award is issued (lms/evidence/issuing.py). Rendering
    here is the fallback, with today's branding, for awards issued before that existed and for
    an award whose render job failed or has not run yet.

    Raises CertificateErased for a holder whose data was erased: a new PDF would carry only
    their pseudonym, and the award verifies by its code (and a kept copy by upload) anyway.
    """
    existing = stored_certificate_of(award)
    if existing is not None and existing.pdf is not None:
        return existing
    return issue_certificate(award, certificate_branding(), actor=actor, existing=existing)


def issue_certificate(award: Award, branding: dict, actor=None, *, existing: Certificate | None = None,
                      language: str | None = None) -> Certificate:
    """Render, sign and store the award's certificate with `branding`, in `language` (by default
    the agent's documents' language now; it states the language they were assessed in, which
    may differ); flushes, the caller commits.

    Everything happens before the row is added, so a failed render or signature leaves nothing
    stored. Raises CertificateErased as `certificate_for` does.
    """
    if existing is not None or award.user.erased_at is not None:
        raise CertificateErased(f"the PDF of award {award.id} was deleted with its holder's data")
    data = certificate_data(award)
    # The JSON states dates as ISO text; the printed page wants dates.
    html = documents.certificate_html(
        {**data, "issued_at": award.issued_at.date(), "valid_until": award.valid_until.date()}, branding=branding,
        language=language or user_language(award.user))
    attachment = renderer.Attachment(name="certificate.json", data=json.dumps(data, indent=2).encode(),
                                     mime_type="application/json",
                                     description="The certificate's data, machine-readable")
    signer = signing.signer_from_config(current_app.config)
    signed = signing.sign_pdf(renderer.render_pdf(html, attachments=[attachment]), signer)
    certificate = Certificate(award=award, pdf=signed, sha256=hashlib.sha256(signed).hexdigest(),
                              key_id=signer.key_id)
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
    except IntegrityError:
        # Stored meanwhile by another process: the award's render job while a download rendered
        # the fallback, or a parallel download. The first one stored is the certificate; serve it.
        stored = db.session.scalar(select(Certificate).where(Certificate.award_id == award.id))
        if stored is None:
            raise
        return stored
    record("certificate.issued", actor=actor, target=certificate, award_id=award.id, sha256=certificate.sha256,
           key_id=signer.key_id)
    return certificate


# What a download needs, in one statement: the award's holder and code, and its stored
# certificate if there is one (NULLs before the first download). Built once, run on the
# driver's cursor: a stored certificate is downloaded far more often than it is issued.
_STORED = DriverStatement(
    select(Award.id, Award.user_id, Award.verification_code, Certificate.id.label("certificate_id"),
           Certificate.pdf, Certificate.sha256)
    .outerjoin(Certificate, Certificate.award_id == Award.id)
    .where(Award.id == bindparam("award_id")),
    binary=True,  # the PDF as raw bytes: as hex text, decoding it alone cost a seventh of the request
)


class StoredCertificate:
    """An award as a download sees it: who holds it, its code and its stored certificate, if any.

    Enough for policy.can_view_award (`user_id`, and `user`, loaded only when asked: for staff).
    """

    __slots__ = ("id", "user_id", "verification_code", "certificate_id", "pdf", "sha256")

    def __init__(self, row) -> None:
        self.id, self.user_id, self.verification_code = row.id, row.user_id, row.verification_code
        self.certificate_id, self.pdf, self.sha256 = row.certificate_id, row.pdf, row.sha256

    @property
    def user(self) -> User:
        return db.session.get(User, self.user_id)


def stored_certificate(award_id: int) -> StoredCertificate | None:
    """The award and its stored certificate (certificate_id None if none was issued yet); None
    when there is no such award. Runs in the request's transaction."""
    rows = _STORED.rows(db.session.connection(), {"award_id": award_id})
    return StoredCertificate(rows[0]) if rows else None


def award_status(award: Award, at: datetime | None = None) -> str:
    """valid, expired or revoked, as a verifier needs it (expiring still counts as valid)."""
    at = at or now()
    if award.revoked_at is not None:
        return "revoked"
    return "valid" if at < award.grace_until else "expired"


@dataclass(frozen=True)
class Verification:
    found: bool
    award: Award | None = None
    status: str = ""
    sha256: str | None = None          # of the genuine PDF, once one was issued
    file_matches: bool | None = None   # for an uploaded file
    signature: signing.SignatureCheck | None = None
    message: str = ""

    @property
    def initials(self) -> str:
        return " ".join(f"{part[0]}." for part in self.award.user.name.split() if part) if self.award else ""

    @property
    def language(self) -> str | None:
        """The language the holder studied and was assessed in, as their certificate records it
        (its embedded certificate.json); None before a PDF was issued, or for one issued before
        certificates recorded it."""
        if self.award is None:
            return None
        pdf = db.session.scalar(select(Certificate.pdf).where(Certificate.award_id == self.award.id))
        data = embedded_json(pdf, "certificate.json") if pdf else None
        return (data or {}).get("language")


def verify_code(code: str) -> Verification:
    award = db.session.scalar(select(Award).where(Award.verification_code == code))
    if award is None:
        return Verification(False, message=_("No certificate has this code. Check it against the PDF."))
    stored = db.session.scalar(select(Certificate.sha256).where(Certificate.award_id == award.id))
    return Verification(True, award, award_status(award), stored)


def verify_file(data: bytes) -> Verification:
    """Is this the genuine, unaltered PDF of a certificate we issued, and is it still valid?

    The fingerprint answers first, and a file whose bytes match none of ours is never parsed:
    whatever it holds, it is not ours, and a file built to exhaust a PDF reader (an array
    nested 200,000 deep) gets that same answer. Only our own file is read, for its signature.
    """
    digest = hashlib.sha256(data).hexdigest()
    certificate = db.session.scalar(select(Certificate).where(Certificate.sha256 == digest))
    if certificate is None:
        return Verification(False, sha256=digest, file_matches=False,
                            message=_("This file is not a certificate we issued, or it has been altered "
                                      "(its fingerprint matches none of ours)."))
    check = signing.verify_pdf_signature(data, [_trusted_certificate()])
    award = certificate.award
    return Verification(True, award, award_status(award), certificate.sha256, True, check,
                        "" if check.valid else _("The signature does not check out: %(reason)s", reason=check.reason))


def _trusted_certificate() -> bytes:
    return Path(current_app.config["SIGNING_CERT_PATH"]).read_bytes()


@dataclass(frozen=True)
class ForeignAddress:
    """A stored certificate whose embedded verification address is not the one BASE_URL gives."""

    award_id: int
    user_id: int
    code: str
    expected: str
    found: str | None  # None: the certificate's JSON could not be read


def certificates_with_foreign_address(batch: int = 100) -> Iterator[ForeignAddress]:
    """Every stored certificate of an award still in force whose address is not BASE_URL's.

    The printed link, the QR code and certificate.json are made from one value, so the
    embedded JSON stands for all three. Revoked awards are left out: a re-issued one is revoked.
    """
    query = (select(Certificate.award_id, Award.user_id, Certificate.pdf, Award.verification_code)
             .join(Award, Award.id == Certificate.award_id).where(Award.revoked_at.is_(None))
             .order_by(Certificate.id).execution_options(yield_per=batch))
    for award_id, user_id, document, code in db.session.execute(query):
        expected = external_url("evidence.verify", code=code)
        found = (embedded_json(document, "certificate.json") or {}).get("verify_url")
        if found != expected:
            yield ForeignAddress(award_id, user_id, code, expected, found if isinstance(found, str) else None)
