"""Friendly error pages: never a stack trace."""
from __future__ import annotations

from flask import Flask, render_template, request
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from lms.extensions import db

MESSAGES = {
    400: ("Something in that request was not right", "The page could not understand what was sent. Go back and try again."),
    401: ("Please sign in again", "Your session has ended. Sign in again to carry on where you left off."),
    403: ("You don't have access to this page", "Your role does not include this page. If you need it, ask an administrator."),
    404: ("Page not found", "The page may have moved, or the link may be wrong."),
    405: ("That action isn't available here", "Go back and use the buttons on the page."),
    413: ("That upload is too large", "Choose a smaller file and try again."),
    429: ("Too many attempts", "Please wait a minute before you try again."),
    500: ("Something went wrong on our side", "The problem has been logged. Please try again in a moment."),
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        if wants_json():
            return {"error": f"{error.description} Reload the page and try again."}, 400
        return render_template("errors/csrf.html", reason=error.description), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        title, text = MESSAGES.get(code, (error.name, error.description))
        if wants_json():  # scripts (the quiz autosave) show the message to the user
            return {"error": f"{title}. {text}"}, code
        if request_ctx.url_adapter is None:
            # The Host header was refused (not in TRUSTED_HOSTS, or malformed), so no URL can be
            # built for this request: a page of its own that links nowhere, headers as usual.
            return render_template("errors/bare.html", code=code, title=title, text=text), code
        return render_template("errors/error.html", code=code, title=title, text=text), code

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error")
        title, text = MESSAGES[500]
        if wants_json():
            return {"error": f"{title}. {text}"}, 500
        return render_template("errors/error.html", code=500, title=title, text=text), 500


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"
