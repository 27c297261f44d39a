"""The one way into a session, and the remember-me cookie's renewal. The password form (lms/account_pages),
the second step (lms/mfa) and single sign-on (lms/sso) all end a sign-in here."""
from __future__ import annotations

from flask import abort, redirect, request, session, url_for
from flask_login import login_user, logout_user, user_loaded_from_cookie
from werkzeug.wrappers import Response

from lms.accounts import services
from lms.accounts.models import User
from lms.extensions import db


def finish_sign_in(user: User, *, remember: bool, next_url: str, second_factor: str | None = None) -> Response:
    """Start the server-side session once every factor has been checked, and go on."""
    session.clear()  # a fresh session at sign-in (ASVS 7.2.4)
    user.session_token = services.start_session(user, remember=remember, second_factor=second_factor,
                                                user_agent=request.headers.get("User-Agent", ""))
    login_user(user, remember=remember)
    db.session.commit()
    return redirect(next_url)


@user_loaded_from_cookie.connect
def _rotate_remember_token(app, user: User) -> None:
    """A remember-me cookie revived the session: give it a new token and the browser a new cookie.

    The old cookie stops working at once, so a copied one is good for one use at most, and
    using it signs the real owner out (who then notices). A session that was not started
    with remember-me cannot be revived this way.
    """
    rotated = services.rotate_remember_token(user.session_token)
    if rotated is None:
        logout_user()  # and Flask-Login clears the cookie on the way out
        abort(redirect(url_for("accounts.login")))
    user.session_token, left = rotated
    session["_user_id"] = user.session_token
    session["_remember"] = "set"  # Flask-Login re-sets the cookie at the end of the request
    session["_remember_seconds"] = max(int(left.total_seconds()), 0)
    db.session.commit()
