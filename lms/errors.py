"""Friendly error pages: never a stack trace."""
from __future__ import annotations

from flask import Flask, current_app, render_template, request
from flask.globals import request_ctx
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from lms.audit import probes
from lms.audit.services import record
from lms.extensions import db

MESSAGES = {
    400: (_l("Something in that request was not right"), _l("The page could not understand what was sent. Go back and try again.")),
    401: (_l("Please sign in again"), _l("Your session has ended. Sign in again to carry on where you left off.")),
    403: (_l("You don't have access to this page"), _l("Your role does not include this page. If you need it, ask an administrator.")),
    404: (_l("Page not found"), _l("The page may have moved, or the link may be wrong.")),
    405: (_l("That action isn't available here"), _l("Go back and use the buttons on the page.")),
    413: (_l("That upload is too large"), _l("Choose a smaller file and try again.")),
    429: (_l("Too many attempts"), _l("Please wait a minute before you try again.")),
    500: (_l("Something went wrong on our side"), _l("The problem has been logged. Please try again in a moment.")),
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        if wants_json():
            return {"error": _("%(reason)s Reload the page and try again.", reason=error.description)}, 400
        return render_template("errors/csrf.html", reason=error.description), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        if code in _PROBES and request.endpoint not in (None, "static"):
            _note_probe(_PROBES[code])
        elif code == 403 and request.endpoint is not None:
            _record_denial()
        # str(): in the reader's language now, and escaped as text (a lazy string renders as markup).
        title, text = (str(part) for part in MESSAGES.get(code, (error.name, error.description)))
        if wants_json():  # scripts (the quiz autosave) show the message to the user
            return {"error": f"{title}. {text}"}, code
        if request_ctx.url_adapter is None:
            # The Host header was refused (not in TRUSTED_HOSTS, or malformed), so no URL can be
            # built for this request: a page of its own that links nowhere, headers as usual.
            return render_template("errors/bare.html", code=code, title=title, text=text), code
        return render_template("errors/error.html", code=code, title=title, text=text), code

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        # The database went away (a restart, a failover) or is too busy: a moment's wait fixes it,
        # and the pool retires connections older than the failure (lms/database_pool.py), so the next request recovers.
        try:
            db.session.rollback()
        except SQLAlchemyError:
            pass  # the connection is gone; the session is discarded at the end of the request anyway
        app.logger.warning("database unavailable: %s", str(error.orig).strip().splitlines()[0] if error.orig else error)
        headers = {"Retry-After": "5"}
        # The browser's language only: choosing the person's or organisation's would need the database.
        with force_locale(request.accept_languages.best_match(app.config["LANGUAGES"]) or "en"):
            if wants_json():  # the autosave shows this and keeps the answer to send again
                return {"error": _("Not saved: the server is busy for a moment. Try again shortly.")}, 503, headers
            return render_template("errors/unavailable.html"), 503, headers

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error")
        title, text = (str(part) for part in MESSAGES[500])
        if wants_json():
            return {"error": f"{title}. {text}"}, 500
        return render_template("errors/error.html", code=500, title=title, text=text), 500


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


# A 404 from a route that exists means a record that is missing or not the requester's (the
# policy answers 404, not 403, for other people's records, and for a refused export); a 429, a
# rate limit. Both are how probing looks. A URL that matches no route is just a wrong address.
_PROBES = {404: probes.NOT_FOUND, 429: probes.THROTTLED}


def _record_denial() -> None:
    """A refused request (the policy answered 403) is an audit event naming who was refused what."""
    actor = current_user if current_user.is_authenticated else None
    db.session.rollback()  # nothing of the refused request is kept
    try:
        record("access.denied", actor=actor, path=request.path, endpoint=request.endpoint)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("could not record a refused request")


def _note_probe(kind: str) -> None:
    """Count the request in the probe tallies; never turn the error page itself into a 500."""
    actor = current_user if current_user.is_authenticated else None
    if kind == probes.NOT_FOUND and actor is None:
        return  # signed-out requests for records are sent to sign in; a public 404 is no probe
    db.session.rollback()  # nothing of the refused request is kept
    try:
        probes.note(kind, actor)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("could not count a probe")
