"""Evidence's export job kinds: every certificate of an organisation as a ZIP, and the evidence pack.

Both run through a JobContext only (see lms/jobs/context.py), so they work in the web
app's worker thread and in a separate worker process alike. Evidence registers them with jobs
(below), which runs them without knowing what they are.
"""
from __future__ import annotations

import csv
import io
import json
import re
import tempfile
import unicodedata
import zipfile
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.accounts.models import Organisation, User
from lms.certification.models import Award, Enrolment
from lms.certification.reports import spreadsheet_safe
from lms.evidence import renderer, signing
from lms.evidence.certificates import CertificateErased, certificate_for
from lms.evidence.models import Certificate
from lms.extensions import db
from lms.evidence.pack import build_pack
from lms.jobs import kinds
from lms.jobs.context import JobContext, JobFailed, OutputFile

CERTIFICATES_ZIP = "certificates_zip"
EVIDENCE_PACK = "evidence_pack"

MANIFEST_COLUMNS = ("file", "certificate_code", "agent", "programme", "issued_at", "valid_until", "sha256")
# A ZIP that grows past this is written to disk while it is built, not kept in memory.
_SPOOL_BYTES = 32 * 1024 * 1024


def _organisation(ctx: JobContext) -> Organisation:
    organisation = db.session.get(Organisation, ctx.organisation_id) if ctx.organisation_id else None
    if organisation is None:
        raise JobFailed("The organisation of this export no longer exists.")
    return organisation


# Letters that Unicode does not decompose into an ASCII base letter.
_LATIN = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "ł": "l",
                        "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "Th", "ı": "i"})


def slug(text: str, limit: int = 40) -> str:
    """ASCII, lower case, hyphens: a file-name part that every ZIP tool and file system accepts."""
    ascii_text = unicodedata.normalize("NFKD", text.translate(_LATIN)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].rstrip("-") or "x"


def current_awards(organisation_id: int) -> list[Award]:
    """Each agent's current award per programme in the organisation, revoked ones left out."""
    query = (select(Award).join(Enrolment, Enrolment.current_award_id == Award.id)
             .join(User, User.id == Award.user_id)
             .where(User.organisation_id == organisation_id, Award.revoked_at.is_(None))
             .order_by(User.name, Award.id)
             # The ZIP names each file after them; the stored PDF itself is read one at a time.
             .options(joinedload(Award.user), joinedload(Award.programme_version)))
    return list(db.session.scalars(query))


def certificates_zip(ctx: JobContext) -> list[OutputFile]:
    """One signed PDF per current award (rendered now if it never was), plus manifest.csv and .json.

    A certificate rendered here is issued for good (it is committed with the progress report), so a
    retry after a failure reuses it instead of rendering it again.
    """
    organisation = _organisation(ctx)
    actor = db.session.get(User, ctx.requested_by_id)
    awards = current_awards(organisation.id)
    total = len(awards)
    ctx.report_progress(0, total)
    manifest: list[dict[str, str]] = []
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
        with zipfile.ZipFile(spool, "w") as archive:
            for done, award in enumerate(awards, start=1):
                try:
                    certificate = certificate_for(award, actor=actor)
                except CertificateErased:  # listed, under the pseudonym, without a file
                    name, sha256 = "", db.session.scalar(select(Certificate.sha256)
                                                         .where(Certificate.award_id == award.id)) or ""
                else:
                    name = (f"{slug(award.user.name)}-{slug(award.programme_version.title)}-"
                            f"{award.verification_code[:12]}.pdf")
                    # PDFs are compressed already: store them as they are.
                    archive.writestr(name, certificate.pdf, compress_type=zipfile.ZIP_STORED)
                    sha256 = certificate.sha256
                manifest.append({"file": name, "certificate_code": award.verification_code,
                                 "agent": award.user.name, "programme": award.programme_version.title,
                                 "issued_at": award.issued_at.date().isoformat(),
                                 "valid_until": award.valid_until.date().isoformat(),
                                 "sha256": sha256})
                ctx.report_progress(done, total)
            archive.writestr("manifest.csv", _manifest_csv(manifest), compress_type=zipfile.ZIP_DEFLATED)
            archive.writestr("manifest.json", json.dumps(
                {"organisation": organisation.name, "certificates": manifest}, indent=2, ensure_ascii=False),
                compress_type=zipfile.ZIP_DEFLATED)
        spool.seek(0)
        data = spool.read()
    return [OutputFile(f"certificates-{slug(organisation.name)}.zip", "application/zip", data)]


def _manifest_csv(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(MANIFEST_COLUMNS)
    for row in rows:
        writer.writerow([spreadsheet_safe(row[column]) for column in MANIFEST_COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM tells Excel it is UTF-8


def evidence_pack(ctx: JobContext) -> list[OutputFile]:
    """The organisation's evidence pack (lms/evidence/pack.py) as its PDF and its data files."""
    organisation = _organisation(ctx)
    pack = build_pack(organisation.id, generated_by_id=ctx.requested_by_id,
                      date_from=_date(ctx.params.get("date_from")), date_to=_date(ctx.params.get("date_to")),
                      progress=ctx.report_progress)
    return [OutputFile("evidence-pack.pdf", "application/pdf", pack.pdf),
            OutputFile("evidence-pack.json", "application/json", pack.json),
            OutputFile("roster.csv", "text/csv", pack.csv)]


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


kinds.register(kinds.JobKind(CERTIFICATES_ZIP, _l("All certificates (ZIP with manifest)"), certificates_zip, export=True))
kinds.register(kinds.JobKind(EVIDENCE_PACK, _l("Evidence pack (PDF, JSON and roster CSV)"), evidence_pack, export=True,
                             date_range=True))
_PDF_FAILURE = ("A PDF could not be produced or signed on the server. Retrying may help; if it keeps failing, "
                "tell your administrator (the server log has the details).")
kinds.register_server_failure(renderer.RenderError, _PDF_FAILURE)
kinds.register_server_failure(signing.SigningError, _PDF_FAILURE)
