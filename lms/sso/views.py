"""Sign-in through an organisation's IdP, single logout, the periodic re-check, and the admin pages
for connections."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import click

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from sqlalchemy import func, select

from lms.accounts import services as accounts
from lms.accounts.models import Organisation, User
from lms.accounts.redirects import safe_next
from lms.accounts.sign_in import finish_sign_in
from lms.addresses import external_url
from lms.audit.services import record
from lms.extensions import db
from lms.sso import client, services
from lms.sso.forms import ConnectionForm, DeleteForm
from lms.sso.models import SsoConnection, SsoIdentity

bp = Blueprint("sso", __name__)


@bp.record_once
def _settings(state) -> None:
    """The SSO settings from the environment (README, Configuration), unless the app was given them."""
    config = state.app.config
    # After this long a session that came through an IdP needs the IdP's word again (prompt=none).
    config.setdefault("SSO_RECHECK_MINUTES", float(os.environ.get("SSO_RECHECK_MINUTES", "60")))
    # The clock skew tolerated on an id_token's iat and exp.
    config.setdefault("SSO_LEEWAY_SECONDS", int(os.environ.get("SSO_LEEWAY_SECONDS", "60")))
    config.setdefault("SSO_HTTP_TIMEOUT_SECONDS", float(os.environ.get("SSO_HTTP_TIMEOUT_SECONDS", "10")))
    # The root of the key that encrypts client secrets; empty: derived from SECRET_KEY.
    config.setdefault("SSO_ENCRYPTION_KEY", os.environ.get("SSO_ENCRYPTION_KEY", ""))

# In the Flask session. FLOW: between the redirect to the IdP and its answer (which connection,
# where to go next, whether it is a re-check). SIGNED_IN: for a session started through an IdP,
# the connection, the user, when the IdP last vouched for them, and the id_token for logout.
FLOW = "sso_flow"
SIGNED_IN = "sso"


def start_sign_in(connection: SsoConnection, email: str, next_url: str):
    """From the sign-in page: on to the connection's IdP, the e-mail offered as login_hint."""
    session[FLOW] = {"connection": connection.id, "next": next_url}
    try:
        response = client.authorize_redirect(connection, login_hint=email)
    except services.SsoError as exc:
        return _failed(str(exc), 502)
    return leave_for(response.location, _("Taking you to your organisation's sign-in…"),
                     _("%(organisation)s signs you in with its own account.", organisation=connection.organisation.name))


def leave_for(url: str, heading: str, text: str):
    """A page that moves on to the IdP at once (a meta refresh, and a link to follow by hand).

    Not a redirect: the site's CSP has form-action 'self', which browsers also apply to the
    redirects that follow a form's POST, so a redirect from the sign-in or sign-out form to
    another origin is blocked. A fresh navigation from this page is not.
    """
    return render_template("sso/redirect.html", url=url, heading=heading, text=text)


@bp.route("/sso/callback")
def callback():
    """The IdP's answer: verify it, then sign in (or refresh the re-check of) the person it names."""
    flow = session.pop(FLOW, None)
    connection = db.session.get(SsoConnection, flow.get("connection")) if isinstance(flow, dict) else None
    if connection is None or not connection.enabled:
        return _failed(_("This sign-in was not started here, or has expired. Please start again."), 400)
    try:
        token, claims = client.complete_authorization(connection)
        user = services.resolve_user(connection, claims)
    except services.SsoError as exc:
        db.session.rollback()  # nothing of a refused sign-in stays, an account it began included
        record("sso.login_refused", actor=db.session.get(User, exc.user_id) if exc.user_id else None,
               actor_label=None if exc.user_id else f"sso:{connection.issuer}"[:200],
               connection_id=connection.id, reason=exc.reason[:200])
        db.session.commit()
        if flow.get("recheck"):
            return _end_session(str(exc))
        return _failed(str(exc), 400)
    if flow.get("recheck"):
        current = session.get(SIGNED_IN) or {}
        if not current_user.is_authenticated or current_user.id != user.id:
            return _end_session(_("Your organisation's sign-in now names someone else. Please sign in again."))
        current.update(checked_at=int(time.time()), id_token=token.get("id_token"))
        session[SIGNED_IN] = current
        db.session.commit()
        return redirect(safe_next(flow.get("next")))
    record("auth.login", actor=user, method="sso", connection_id=connection.id)
    second_factor = "idp" if services.idp_second_factor(connection, claims) else None
    # Without the IdP's second factor, people whose role needs one pass the app's own next: the
    # session starts without one and the policy hook sends them to it (lms/policy.py).
    response = finish_sign_in(user, remember=False, next_url=safe_next(flow.get("next")),
                              second_factor=second_factor)
    session[SIGNED_IN] = {"connection": connection.id, "user": user.id, "checked_at": int(time.time()),
                          "id_token": token.get("id_token")}
    return response


def _failed(message: str, status: int):
    return render_template("sso/failed.html", message=message), status


def _end_session(message: str):
    """The IdP no longer vouches for the person: end the app's session for good."""
    if current_user.is_authenticated:
        accounts.end_session(current_user.session_token, current_user)
        db.session.commit()
        logout_user()
    session.clear()
    flash(message, "error")
    return redirect(url_for("accounts.login"))


@bp.before_app_request
def recheck_with_idp():
    """After SSO_RECHECK_MINUTES, a session started through an IdP needs the IdP's word again: a
    silent round trip (prompt=none) that ends the session if the person was signed out or
    deactivated there. Only on GET, so that no form's content is lost on the way."""
    marker = session.get(SIGNED_IN)
    if not isinstance(marker, dict) or request.method != "GET" or request.endpoint in (None, "static") \
            or (request.endpoint or "").startswith("sso.") or request.endpoint == "main.health":
        return None
    if not current_user.is_authenticated or current_user.id != marker.get("user"):
        session.pop(SIGNED_IN, None)
        return None
    if time.time() - marker.get("checked_at", 0) < current_app.config["SSO_RECHECK_MINUTES"] * 60:
        return None
    connection = db.session.get(SsoConnection, marker.get("connection"))
    if connection is None or not connection.enabled:
        return _end_session(_("Your organisation's sign-in is no longer set up here. Ask your administrator."))
    session[FLOW] = {"connection": connection.id, "next": request.full_path.rstrip("?"), "recheck": True}
    try:
        return client.authorize_redirect(connection, prompt="none", id_token_hint=marker.get("id_token"))
    except services.SsoError as exc:
        return _end_session(str(exc))


def logout_redirect() -> str | None:
    """For accounts.logout, called before the session is cleared: the IdP's end-session address
    when this session came through an IdP that supports RP-initiated logout, else None."""
    marker = session.get(SIGNED_IN)
    if not isinstance(marker, dict):
        return None
    connection = db.session.get(SsoConnection, marker.get("connection"))
    return client.logout_url(connection, marker.get("id_token")) if connection is not None else None


@bp.route("/sso/signed-out")
def signed_out():
    """Where the IdP sends the browser back after single logout."""
    flash(_("You are signed out, here and at your organisation's sign-in."), "info")
    return redirect(url_for("accounts.login"))


# ---- admin: connections -----------------------------------------------------------

@bp.route("/admin/sso")
def connection_list():
    connections = db.session.scalars(select(SsoConnection).join(SsoConnection.organisation)
                                     .order_by(Organisation.name)).all()
    linked = dict(db.session.execute(select(SsoIdentity.connection_id, func.count())
                                     .group_by(SsoIdentity.connection_id)).all())
    return render_template("sso/connection_list.html", connections=connections, linked=linked,
                           callback=external_url("sso.callback"),
                           signed_out=external_url("sso.signed_out"))


def _organisation_choices(form: ConnectionForm) -> None:
    form.organisation_id.choices = [(o.id, o.name) for o in db.session.scalars(
        select(Organisation).order_by(Organisation.kind, Organisation.name))]


def _data(form: ConnectionForm) -> services.ConnectionData:
    return services.ConnectionData(**{name: form[name].data for name in services.ConnectionData.__dataclass_fields__})


@bp.route("/admin/sso/new", methods=["GET", "POST"])
@bp.route("/admin/sso/<int:connection_id>", methods=["GET", "POST"], endpoint="connection_edit")
def connection_new(connection_id: int | None = None):
    connection = db.get_or_404(SsoConnection, connection_id) if connection_id is not None else None
    form = ConnectionForm(obj=connection)
    _organisation_choices(form)
    if form.validate_on_submit():
        try:
            connection = services.save_connection(current_user, _data(form), connection)
        except services.SsoError as exc:
            db.session.rollback()
            field = form[exc.field] if exc.field else None
            if field is not None:
                field.errors = [*field.errors, str(exc)]
            else:
                flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("The sign-in for %(organisation)s is saved.", organisation=connection.organisation.name), "success")
            return redirect(url_for("sso.connection_list"))
    form.client_secret.data = ""  # write-only: never sent back to the browser
    return render_template("sso/connection_form.html", form=form, connection=connection,
                           callback=external_url("sso.callback"),
                           signed_out=external_url("sso.signed_out"))


@bp.route("/admin/sso/<int:connection_id>/delete", methods=["GET", "POST"])
def connection_delete(connection_id: int):
    """A confirmation page, then the POST that removes the connection."""
    connection = db.get_or_404(SsoConnection, connection_id)
    form = DeleteForm()
    if form.validate_on_submit():
        name = connection.organisation.name
        services.delete_connection(current_user, connection)
        db.session.commit()
        flash(_("The sign-in for %(organisation)s is removed. Its people can no longer sign in through it.",
                organisation=name), "success")
        return redirect(url_for("sso.connection_list"))
    linked = db.session.scalar(select(func.count()).select_from(SsoIdentity)
                               .where(SsoIdentity.connection_id == connection.id))
    return render_template("sso/connection_delete.html", connection=connection, form=form, linked=linked)


# ---- development: the demo connection -------------------------------------------------

@bp.cli.command("demo-connection")
@click.option("--issuer", default="http://127.0.0.1:4000", show_default=True)
def demo_connection(issuer: str) -> None:
    """Connect Atlas Customer Care to the demo OpenID Provider of `make oidc-demo`
    (tests/sso/provider/demo.json): JIT on, the atlas-trainers group makes trainers."""
    demo = json.loads((Path(current_app.root_path).parent / "tests/sso/provider/demo.json").read_text())
    org = db.session.scalar(select(Organisation).where(Organisation.name == "Atlas Customer Care"))
    if org is None:
        raise click.ClickException("No Atlas Customer Care organisation: run `make run` (lms demo) first.")
    client_config = demo["clients"][0]
    data = services.ConnectionData(
        organisation_id=org.id, issuer=issuer, client_id=client_config["client_id"],
        client_secret=client_config["client_secret"], scopes="openid email profile groups", email_claim="email",
        role_claim="groups", trainer_values="atlas-trainers", domains="atlascare.example", jit_provisioning=True,
        link_by_email=False, passwords_forbidden=False, idp_mfa_accepted=False, mfa_acr_values="", enabled=True)
    existing = db.session.scalar(select(SsoConnection).where(SsoConnection.organisation_id == org.id))
    services.save_connection(None, data, existing)
    db.session.commit()
    click.echo(f"Atlas Customer Care signs in through {issuer} (redirect URI {external_url('sso.callback')}).")
