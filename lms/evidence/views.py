"""Certificate and transcript downloads and the public verification page."""
from __future__ import annotations

import hashlib

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.accounts.models import User
from lms.audit.services import record
from lms.certification import services as certification
from lms.certification.forms import ReissueForm
from lms.certification.models import Award
from lms.clock import now
# exports and issuing register their job kinds and connect the award_issued subscriber when loaded.
from lms.evidence import certificates, exports, issuing, other_credentials, transcript  # noqa: F401
from lms.evidence.renderer import RenderError
from lms.evidence.signing import SigningError
from lms.extensions import db, limiter
from lms.i18n import user_language
from lms.policy import can_view_award, can_view_user

bp = Blueprint("evidence", __name__)


@bp.route("/awards/<int:award_id>/certificate.pdf")
def certificate_pdf(award_id: int):
    stored = certificates.stored_certificate(award_id)  # one statement, the bytes included
    if stored is None or not can_view_award(current_user, stored):
        abort(404)
    document, sha256, certificate_id = stored.pdf, stored.sha256, stored.certificate_id
    if document is None:  # the first download renders, signs and stores it
        try:
            certificate = certificates.certificate_for(db.session.get(Award, award_id), actor=current_user)
        except certificates.CertificateErased:
            return render_template(
                "errors/error.html", code=410, title="This certificate's PDF was deleted",
                text="Its holder's personal data was erased at their request. The certificate still verifies "
                     "by its code, and a copy they kept still checks as genuine by upload."), 410
        except (RenderError, SigningError) as exc:
            db.session.rollback()
            current_app.logger.error("certificate %s could not be produced: %s", award_id, exc)
            return render_template("errors/error.html", code=503, title="The certificate could not be produced",
                                   text="Nothing was issued. Please try again in a minute; if it keeps failing, "
                                        "tell your administrator."), 503
        document, sha256, certificate_id = certificate.pdf, certificate.sha256, certificate.id
    record("certificate.downloaded", actor=current_user, target_type="certificate", target_id=certificate_id,
           award_id=stored.id)
    db.session.commit()
    name = f"certificate-{stored.verification_code[:8]}.pdf"
    response = Response(document, mimetype="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    response.headers["X-Content-SHA256"] = sha256
    return response


@bp.route("/people/<int:user_id>/transcript.pdf")
def transcript_pdf(user_id: int):
    """An agent's transcript: their own, or anyone's the policy lets the user see (404 otherwise)."""
    person = db.session.get(User, user_id)
    if person is None or not can_view_user(current_user, person):
        abort(404)
    at = now()
    try:
        data = transcript.transcript_data(person, generated_by=current_user, at=at)
        document = transcript.render_transcript(data, language=user_language(person),
                                                time_zone=certificates.agent_time_zone(person))
    except (RenderError, SigningError) as exc:
        db.session.rollback()
        current_app.logger.error("transcript of user %s could not be produced: %s", user_id, exc)
        return render_template("errors/error.html", code=503, title="The transcript could not be produced",
                               text="Please try again in a minute; if it keeps failing, tell your administrator."), 503
    sha256 = hashlib.sha256(document).hexdigest()
    # The file is not stored: the event keeps its fingerprint and the checkpoint it carries.
    record("transcript.exported", actor=current_user, target=person, sha256=sha256,
           checkpoint_tree_size=data["audit_checkpoint"]["tree_size"])
    db.session.commit()
    name = f"transcript-{person.id}-{at:%Y%m%d-%H%M}.pdf"
    response = Response(document, mimetype="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    response.headers["X-Content-SHA256"] = sha256
    return response


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit("30 per minute")
def verify_start():
    """Enter a code, or upload a PDF or an Open Badge (or paste a badge) to learn whether it is
    genuine and still valid."""
    limiter.check()
    result = None
    error = None
    code = request.args.get("code", "").strip()
    if request.method == "GET" and code:
        return redirect(url_for("evidence.verify", code=code))
    if request.method == "POST":
        upload = request.files.get("file")
        data = upload.read() if upload else b""  # MAX_CONTENT_LENGTH bounds it (a 413 beyond)
        if not data:  # an Open Badge pasted as text (the signed JWT, or its JSON)
            data = request.form.get("credential", "").strip().encode()
        if not data:
            error = _("Choose the certificate's PDF or the badge's file, or paste the badge.")
        elif data.startswith(b"%PDF-"):
            result = certificates.verify_file(data)
        else:
            try:
                result = other_credentials.verify(data)  # an Open Badge (lms/credentials registers it)
            except other_credentials.Unreadable as exc:
                error = str(exc)
        db.session.rollback()  # the check writes nothing
    # A file refused, or not one of ours (an altered certificate, or one built to break a
    # PDF reader: it is never parsed), is a 400 that a script can tell from a verified file.
    refused = error is not None or (result is not None and not result.found)
    status = 400 if refused and request.method == "POST" else 200
    return render_template("evidence/verify.html", result=result, error=error, code=code), status


@bp.route("/verify/<code>")
@limiter.limit("30 per minute")
def verify(code: str):
    limiter.check()
    return render_template("evidence/verify.html", result=certificates.verify_code(code[:64]), error=None, code=code)


@bp.route("/awards/<int:award_id>/reissue", methods=["POST"])
def reissue(award_id: int):
    """A new certificate, with a new code and BASE_URL's address, replacing one that is wrong."""
    award = db.get_or_404(Award, award_id)
    if not ReissueForm().validate_on_submit():
        abort(400)
    try:
        new = certification.reissue(current_user, award)
        certificates.certificate_for(new, actor=current_user)  # rendered now, so it carries today's BASE_URL
    except certification.CertificationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    except (RenderError, SigningError) as exc:
        db.session.rollback()
        current_app.logger.error("re-issue of award %s failed: %s", award_id, exc)
        flash(_("The new certificate could not be produced, so nothing changed. Try again in a minute."), "error")
    else:
        db.session.commit()
        flash(_("Re-issued with the new code %(code)s. The old certificate now verifies as revoked (re-issued).",
                code=new.verification_code), "success")
    return redirect(url_for("certification.person", user_id=award.user_id))
