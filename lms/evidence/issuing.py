"""Certificates are rendered when an award is issued, not at its first download (#20).

`award_issued` queues a job that renders, signs and stores the certificate with BASE_URL's
address (jobs run in a request context built from it), and the branding and the agent's language
of the moment the award was issued (taken here, kept in the job's parameters; the certificate
states the language the agent studied and was assessed in). The job runs once the award's transaction
commits; its certificate is stored in the same transaction that marks it succeeded, so a failed
render leaves nothing behind, and the first download then renders on demand instead
(certificates.certificate_for).
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from lms import signals
from lms.certification.models import Award
from lms.evidence.certificates import CertificateErased, certificate_branding, issue_certificate
from lms.evidence.models import Certificate
from lms.extensions import db
from lms.i18n import user_language
from lms.jobs import kinds, services
from lms.jobs.context import JobContext, OutputFile

KIND = "certificate"


def render_certificate(ctx: JobContext) -> list[OutputFile]:
    """Render and store the award's certificate unless one exists (a download or a re-issue came first)."""
    award = db.session.get(Award, ctx.params["award_id"])
    if award is None or db.session.scalar(select(Certificate.id).where(Certificate.award_id == award.id)):
        return []
    try:
        issue_certificate(award, ctx.params["branding"], language=ctx.params.get("language"))
    except CertificateErased:  # erased before the job ran: no PDF is made for them
        pass
    return []


@signals.award_issued.connect
def _queue_certificate(_actor, *, award: Award, **__: object) -> None:
    if not current_app.config["CERTIFICATES_ON_AWARD"] or award.user.erased_at is not None:
        return
    services.queue_after_commit(KIND, {"award_id": award.id, "branding": certificate_branding(),
                                       "language": user_language(award.user)},
                                requested_by_id=award.user_id, organisation_id=award.user.organisation_id)


kinds.register(kinds.JobKind(KIND, "Certificate of a new award", render_certificate, listed=False))
