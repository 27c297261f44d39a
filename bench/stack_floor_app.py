"""What the mandated stack costs before the LMS's own work: the reference the benches' `--floor` times.

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

Issue #16 sets one agent's clearance at 0.5 of bare Flask; this app's
`GET /api/v1/agents/<id>/clearance` is the least such an API call does: the bearer key found by
its prefix and its secret's SHA-256 compared in constant time (as lms/api/keys.py), the agent read
by id, both through the ORM, and a JSON reply (the LMS's also rate-limits and counts the call and
works out the agent's certification).

Issue #15 sets SCIM's user creation at 0.3 of bare Flask; `POST /scim/v2/Users` here is the
least such a call does: the same key check, the JSON body read, one person inserted and committed,
and a SCIM reply (the LMS's also checks for clashes, enrols and audits the new person, and parses
and writes the full SCIM resource).

Issue #13 sets an attempt's submit at 0.15 of bare Flask; `POST /attempts/<id>/submit` here is the
least a signed-in form post that writes does: Flask-WTF's CSRF check, one conditional UPDATE
(the attempt's status, as the LMS's submit wins its race) and a commit, and a JSON reply (the
LMS's also grades, may issue an award, writes the xAPI statements and the audit event).

Issue #13 also sets a stored certificate's download at 0.5 of a bare endpoint serving the same bytes;
this app's `GET /certificate.pdf` is the least a signed-in download does: the person's stored
document read through the ORM and sent with the same headers (the LMS's also checks who may see
the award, and audits the download).

No translation, no audit, no rate limit, no policy check. `--floor` on bench/pages.py,
bench/clearance.py, bench/evidence.py and bench/scim.py serves it with the same gunicorn settings as
the LMS and the bare app and times it in the same run. It keeps its tables (`stack_floor_user`,
`stack_floor_key`, `stack_floor_document`) in the bench's database.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

from flask import Flask, Response, abort, render_template, request, session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect, generate_csrf
from sqlalchemy import DateTime, LargeBinary, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

# The LMS's SQLite settings (write-ahead log, synchronous=NORMAL, a busy timeout), which its module
# registers for every engine: how the database is run is the deployment's, not the app's work.
import lms.extensions  # noqa: F401

db = SQLAlchemy()
csrf = CSRFProtect()
login_manager = LoginManager()
SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"


class FloorUser(db.Model, UserMixin):  # type: ignore[name-defined]
    __tablename__ = "stack_floor_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    session_token: Mapped[str] = mapped_column(String(64), unique=True)

    def get_id(self) -> str:
        return self.session_token


class FloorKey(db.Model):  # type: ignore[name-defined]
    __tablename__ = "stack_floor_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(12), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))


class FloorDocument(db.Model):  # type: ignore[name-defined]
    __tablename__ = "stack_floor_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class FloorAttempt(db.Model):  # type: ignore[name-defined]
    __tablename__ = "stack_floor_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(12))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


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
    csrf.init_app(app)
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

    @app.get("/certificate.pdf")
    def certificate() -> Response:
        if not current_user.is_authenticated:
            abort(401)
        document = db.session.scalars(select(FloorDocument).where(FloorDocument.user_id == current_user.id)).first()
        if document is None:
            abort(404)
        return Response(document.data, mimetype="application/pdf",
                        headers={"Content-Disposition": 'attachment; filename="certificate.pdf"'})

    @app.post("/attempts/<int:attempt_id>/submit")
    def submit(attempt_id: int) -> tuple[dict, int]:
        # Flask-WTF has checked the form's CSRF token; one conditional UPDATE decides who wins.
        if not current_user.is_authenticated:
            abort(401)
        won = db.session.execute(
            update(FloorAttempt)
            .where(FloorAttempt.id == attempt_id, FloorAttempt.user_id == current_user.id,
                   FloorAttempt.status == "in_progress")
            .values(status="submitted", finished_at=datetime.now(timezone.utc))).rowcount
        db.session.commit()
        return ({"submitted": True}, 200) if won == 1 else ({"submitted": False}, 409)

    @app.get("/api/v1/agents/<int:agent_id>/clearance")
    def clearance(agent_id: int) -> dict:
        _check_key()
        agent = db.session.get(FloorUser, agent_id)
        if agent is None:
            abort(404)
        return {"id": str(agent.id), "agent_id": agent.id, "name": agent.name, "cleared": True}

    @app.post("/scim/v2/Users")
    @csrf.exempt
    def scim_create() -> tuple[dict, int]:
        _check_key()
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("userName"), str):
            abort(400)
        person = FloorUser(name=body["userName"][:100], session_token=secrets.token_urlsafe(32))
        db.session.add(person)
        db.session.commit()
        return {"schemas": [SCIM_USER], "id": str(person.id), "userName": person.name, "active": True}, 201

    return app


def _check_key() -> None:
    """401 unless the request carries a live key (`Authorization: Bearer csa_<prefix>_<secret>`)."""
    prefix, _, secret = request.headers.get("Authorization", "").removeprefix("Bearer csa_").partition("_")
    key = db.session.scalars(select(FloorKey).where(FloorKey.prefix == prefix)).first()
    if key is None or not hmac.compare_digest(key.secret_hash, hashlib.sha256(secret.encode()).hexdigest()):
        abort(401)


@login_manager.user_loader
def load_user(token: str) -> FloorUser | None:
    return db.session.scalars(select(FloorUser).where(FloorUser.session_token == token)).first()


class SignedIn(NamedTuple):
    """A person's Cookie header and the CSRF token their forms carry."""

    cookie: str
    csrf_token: str


def prepare(app: Flask, count: int, user_agent: str) -> list[SignedIn]:
    """Create the tables and `count` people, and sign each in.

    Each cookie holds what the LMS's does after a first page: Flask-Login's user id and its
    session-protection identifier (for 127.0.0.1 and `user_agent`), and Flask-WTF's CSRF secret.
    """
    signed_in = []
    people = [FloorUser(name=f"Agent {n}", session_token=secrets.token_urlsafe(32)) for n in range(count)]
    tokens = [person.session_token for person in people]
    with app.app_context():
        db.create_all()
        db.session.add_all(people)
        db.session.commit()
    for token in tokens:  # each in a request (and app context) of its own, so that g holds no earlier token
        with app.test_request_context(headers={"User-Agent": user_agent}, environ_base={"REMOTE_ADDR": "127.0.0.1"}):
            login_user(load_user(token))
            csrf_token = generate_csrf()  # and the CSRF secret goes into the session
            response = app.make_response("")
            app.session_interface.save_session(app, session, response)
            name, _, value = response.headers["Set-Cookie"].partition(";")[0].partition("=")
            signed_in.append(SignedIn(f"{name}={value}", csrf_token))
    return signed_in


def prepare_api(app: Flask) -> dict:
    """An API key, after prepare(): its token and the people's ids, for GET .../agents/<id>/clearance."""
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    with app.app_context():
        db.create_all()
        db.session.add(FloorKey(prefix=prefix, secret_hash=hashlib.sha256(secret.encode()).hexdigest()))
        db.session.commit()
        ids = list(db.session.scalars(select(FloorUser.id).order_by(FloorUser.id)))
    return {"token": f"csa_{prefix}_{secret}", "ids": ids}


def prepare_documents(app: Flask, data: bytes) -> None:
    """After prepare(): give every person a stored document of these bytes, for GET /certificate.pdf."""
    with app.app_context():
        db.create_all()
        people = db.session.scalars(select(FloorUser.id)).all()
        db.session.add_all(FloorDocument(user_id=user_id, data=data) for user_id in people)
        db.session.commit()


def prepare_attempts(app: Flask) -> list[int]:
    """After prepare(): an attempt in progress for every person; their ids, in the people's order."""
    with app.app_context():
        db.create_all()
        attempts = [FloorAttempt(user_id=user_id, status="in_progress")
                    for user_id in db.session.scalars(select(FloorUser.id).order_by(FloorUser.id))]
        db.session.add_all(attempts)
        db.session.commit()
        return [attempt.id for attempt in attempts]


def main() -> None:
    """Prepare the bench database (DATABASE_URL) and print, as JSON, what the bench sends:
    {"cookies": [...], "csrf_tokens": [...]}, with --api also "token" and "ids", with --attempts
    "attempt_ids"."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--people", type=int, required=True)
    parser.add_argument("--user-agent", required=True, help="the User-Agent every request will send")
    parser.add_argument("--api", action="store_true", help="also an API key")
    parser.add_argument("--document", type=Path, help="also a stored document of this file's bytes for each person")
    parser.add_argument("--attempts", action="store_true", help="also an attempt in progress for each person")
    args = parser.parse_args()
    app = create_app()
    people = prepare(app, args.people, args.user_agent)
    found: dict = {"cookies": [person.cookie for person in people],
                   "csrf_tokens": [person.csrf_token for person in people]}
    if args.api:
        found.update(prepare_api(app))
    if args.document:
        prepare_documents(app, args.document.read_bytes())
    if args.attempts:
        found["attempt_ids"] = prepare_attempts(app)
    print(json.dumps(found))


if __name__ == "__main__":
    main()
