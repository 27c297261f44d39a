"""The least a signed-in page costs in the project's mandated stack: a reference for bench/pages.py.

Issue #17 sets the signed-in 404 at 0.4 of bare Flask. This app answers the question that target
raises: what does the stack itself (Flask, Flask-Login, Flask-SQLAlchemy, Flask-WTF's CSRF token,
Jinja2 template inheritance) cost for a page a signed-in person gets, before any of the LMS's own
work? Its 404 does only what every signed-in page must, written the way the libraries' own
documentation shows:

- Flask's signed session cookie, opened on every request;
- Flask-Login's user loader, reading the person by their session token with one ORM query
  (the LMS reads its `login_session` joined to `user` instead, and checks expiry and revocation);
- a layout with a navigation of ten links, the person's name and a sign-out form carrying the
  CSRF token (the LMS's has translated messages, a search form and role-dependent links);
- the security headers the LMS sends (lms/headers.py).

No translation, no audit, no rate limit, no policy check. `python bench/pages.py --floor` serves
it with the same gunicorn settings as the LMS and the bare app and times its 404 in the same run.
It keeps its people in a table of its own (`stack_floor_user`) in the bench's database.
"""
from __future__ import annotations

import json
import os
import secrets
import sys

from flask import Flask, Response, render_template, session
from flask_login import LoginManager, UserMixin, login_user, logout_user
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect, generate_csrf
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()
login_manager = LoginManager()


class FloorUser(db.Model, UserMixin):  # type: ignore[name-defined]
    __tablename__ = "stack_floor_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    session_token: Mapped[str] = mapped_column(String(64), unique=True)

    def get_id(self) -> str:
        return self.session_token


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
                               "frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def create_app(database_url: str | None = None, secret_key: str | None = None) -> Flask:
    """The app, on `database_url` and `secret_key` (default: DATABASE_URL and SECRET_KEY, as the LMS).
    gunicorn serves it as `bench.stack_floor_app:create_app()`."""
    app = Flask(__name__, template_folder="stack_floor_templates")
    app.config.update(SECRET_KEY=secret_key or os.environ["SECRET_KEY"],
                      SQLALCHEMY_DATABASE_URI=database_url or os.environ["DATABASE_URL"])
    db.init_app(app)
    CSRFProtect(app)
    login_manager.init_app(app)
    login_manager.session_protection = "basic"  # as the LMS

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.errorhandler(404)
    def not_found(error) -> tuple[str, int]:
        return render_template("error.html", title="Page not found", text=error.description), 404

    @app.get("/")
    def home() -> str:
        """Readiness probe."""
        return "ok"

    @app.post("/logout")
    def logout() -> tuple[str, int]:
        logout_user()
        return "signed out", 200

    return app


@login_manager.user_loader
def load_user(token: str) -> FloorUser | None:
    return db.session.scalars(select(FloorUser).where(FloorUser.session_token == token)).first()


def prepare(app: Flask, count: int, user_agent: str) -> list[str]:
    """Create the table and `count` people, and sign each in; their Cookie headers.

    Each cookie holds what the LMS's does after a first page: Flask-Login's user id and its
    session-protection identifier (for 127.0.0.1 and `user_agent`), and Flask-WTF's CSRF secret.
    """
    cookies = []
    people = [FloorUser(name=f"Agent {n}", session_token=secrets.token_urlsafe(32)) for n in range(count)]
    tokens = [person.session_token for person in people]
    with app.app_context():
        db.create_all()
        db.session.add_all(people)
        db.session.commit()
    for token in tokens:  # each in a request (and app context) of its own, so that g holds no earlier token
        with app.test_request_context(headers={"User-Agent": user_agent}, environ_base={"REMOTE_ADDR": "127.0.0.1"}):
            login_user(load_user(token))
            generate_csrf()  # puts the CSRF secret into the session
            response = app.make_response("")
            app.session_interface.save_session(app, session, response)
            name, _, value = response.headers["Set-Cookie"].partition(";")[0].partition("=")
            cookies.append(f"{name}={value}")
    return cookies


if __name__ == "__main__":  # python -m bench.stack_floor_app COUNT USER_AGENT: print the cookies as JSON
    print(json.dumps(prepare(create_app(), int(sys.argv[1]), sys.argv[2])))
