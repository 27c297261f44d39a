"""GDPR Art. 15 access: "My data", downloaded by the person or, for them, by an administrator."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template
from flask_babel import gettext as _
from flask_login import current_user

from lms.accounts.models import User
from lms.audit.services import record
from lms.clock import now
from lms.evidence.renderer import RenderError
from lms.evidence.signing import SigningError
from lms.extensions import db
from lms.policy import can_view_user
from lms.privacy import access
from lms.privacy.processing import article_15_information

bp = Blueprint("my_data", __name__)


@bp.route("/account/my-data")
def overview():
    """What the download holds, and the button."""
    return render_template("privacy/my_data.html", information=article_15_information(current_app.config))


@bp.route("/account/my-data.zip")
def download():
    return _download(current_user._get_current_object())


@bp.route("/people/<int:user_id>/my-data.zip")
def download_for(user_id: int):
    """An administrator answering a person's access request (404 for anyone they may not see)."""
    person = db.session.get(User, user_id)
    if person is None or not can_view_user(current_user, person):
        abort(404)
    return _download(person)


def _download(person: User) -> Response | tuple[str, int]:
    try:
        result = access.export(person, requested_by=current_user, config=current_app.config, at=now())
    except (RenderError, SigningError) as exc:
        db.session.rollback()
        current_app.logger.error("my data of user %s could not be produced: %s", person.id, exc)
        return render_template("errors/error.html", code=503, title=_("Your data could not be put together"),
                               text=_("Please try again in a minute; if it keeps failing, tell your administrator.")), 503
    # The file is not kept: the event keeps its fingerprint and what it held, nothing personal.
    record("privacy.access_exported", actor=current_user, target=person, sha256=result.sha256,
           by_self=current_user.id == person.id, counts=result.counts)
    db.session.commit()
    response = Response(result.content, mimetype="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{result.filename}"'})
    response.headers["X-Content-SHA256"] = result.sha256
    response.headers["Cache-Control"] = "no-store"
    return response
