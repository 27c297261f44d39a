"""The second step of sign-in, sign-in with a passkey, and each person's own factors."""
from __future__ import annotations

from typing import Any

import segno
from flask import (Blueprint, Response, abort, current_app, flash, jsonify, make_response, redirect,
                   render_template, request, session, url_for)
from flask_babel import gettext as _, ngettext
from flask_login import current_user

from lms.accounts.models import User
from lms.accounts.services import end_all_sessions
from lms.accounts.redirects import safe_next
from lms.accounts.sign_in import finish_sign_in
from lms.clock import now
from lms.config import ConfigError
from lms.extensions import db, limiter
from lms.mfa import services
from lms.mfa.forms import CodeForm, ConfirmForm, ConfirmTotpForm
from lms.mfa.models import Passkey

bp = Blueprint("mfa", __name__)


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; it is translated where shown, with _()."""
    return message


@bp.record_once
def _check_settings(state) -> None:
    """A misspelt role in MFA_REQUIRED_ROLES must stop the start, not quietly require nothing."""
    try:
        services.parse_roles(state.app.config.get("MFA_REQUIRED_ROLES", ""))
    except ValueError as exc:
        raise ConfigError(f"MFA_REQUIRED_ROLES: {exc}") from None

PENDING = "mfa_pending"


# ---- the second step of sign-in ---------------------------------------------------

def begin_second_step(user: User, *, remember: bool, next_url: str) -> Response:
    """After a right password, for someone with a second factor: no session yet, only a short-lived
    note of who is signing in (in the signed session cookie), and on to the challenge page."""
    session.clear()
    session[PENDING] = {"user_id": user.id, "remember": bool(remember), "next": next_url,
                        "at": int(now().timestamp())}
    db.session.commit()  # the password check's audit event
    return redirect(url_for("mfa.verify"))


def _pending() -> tuple[User, dict[str, Any]] | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) \
            or now().timestamp() - pending.get("at", 0) > current_app.config["MFA_PENDING_SECONDS"]:
        return None
    user = db.session.get(User, pending.get("user_id"))
    return (user, pending) if user is not None and user.active else None


def _challenged_user() -> tuple[User, dict[str, Any] | None] | None:
    """Who is proving a second factor: someone between password and session, or a signed-in
    person whose session has none yet (when their role starts to require one)."""
    if current_user.is_authenticated:
        return current_user, None
    return _pending()


def _verify_key() -> str:
    found = _challenged_user()
    return f"mfa-verify:{found[0].id if found else request.remote_addr}"


def _passed(user: User, pending: dict[str, Any] | None, method: str, next_url: str | None = None) -> Response:
    if pending is not None:
        return finish_sign_in(user, remember=pending["remember"], next_url=pending["next"], second_factor=method)
    services.mark_session(method)
    db.session.commit()
    return redirect(safe_next(next_url))


@bp.route("/login/verify", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["MFA_VERIFY_LIMIT"], key_func=_verify_key, methods=["POST"])
def verify():
    """Ask for a code or a passkey; the session starts (or is marked) once one is right."""
    limiter.check()
    found = _challenged_user()
    if found is None:
        flash(_("Sign in again: the second step has to follow the password within a few minutes."), "info")
        return redirect(url_for("accounts.login"))
    user, pending = found
    if pending is None and not services.has_factor(user):
        return redirect(url_for("mfa.overview"))
    form = CodeForm()
    if form.validate_on_submit():
        method = services.verify_code(user, form.code.data)
        if method is not None:
            left = services.summary(user).recovery_codes_left
            response = _passed(user, pending, method, request.args.get("next"))
            if method == "recovery":  # after _passed: signing in starts a fresh session
                flash(ngettext("You used a recovery code; %(num)d left. Set up a new authenticator or passkey "
                               "if you have lost yours.",
                               "You used a recovery code; %(num)d left. Set up a new authenticator or passkey "
                               "if you have lost yours.", left), "info")
            return response
        db.session.commit()  # keep the failure in the audit log
        form.code.data = ""
        form.code.errors = [_("That code is not right, or it was already used. Try the code now shown.")]
    factors = services.summary(user)
    return render_template("mfa/verify.html", form=form, factors=factors, signed_in=pending is None)


@bp.route("/login/verify/passkey/options", methods=["POST"])
def passkey_verify_options():
    found = _challenged_user()
    if found is None:
        return {"error": _("Sign in again.")}, 401
    options = services.authentication_options(found[0])
    db.session.commit()
    return Response(options, mimetype="application/json")


@bp.route("/login/verify/passkey", methods=["POST"])
@limiter.limit(lambda: current_app.config["MFA_VERIFY_LIMIT"], key_func=_verify_key)
def passkey_verify():
    limiter.check()
    found = _challenged_user()
    if found is None:
        return {"error": _("Sign in again.")}, 401
    user, pending = found
    try:
        services.authenticate_passkey(services.parse_credential(request.get_data()), user)
    except services.MfaError as exc:
        db.session.commit()
        return {"error": str(exc)}, 400
    response = _passed(user, pending, "passkey", request.args.get("next"))
    return {"redirect": response.location}


@bp.route("/login/passkey/options", methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"])
def passkey_sign_in_options():
    """Options for signing in with a passkey alone (a discoverable credential, user verification)."""
    limiter.check()
    options = services.authentication_options(None)
    db.session.commit()
    return Response(options, mimetype="application/json")


@bp.route("/login/passkey", methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"])
def passkey_sign_in():
    limiter.check()
    try:
        user = services.authenticate_passkey(services.parse_credential(request.get_data()), None)
    except services.MfaError as exc:
        db.session.commit()
        return {"error": str(exc)}, 400
    response = finish_sign_in(user, remember=False, next_url=safe_next(request.args.get("next")),
                              second_factor="passkey")
    return {"redirect": response.location}


# ---- one's own factors --------------------------------------------------------------

def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _last_required_factor() -> bool:
    """Removing this factor would leave someone whose role requires one with none."""
    factors = services.summary(current_user)
    return services.mfa_required(current_user.role, current_user.organisation_id) \
        and int(factors.totp) + len(factors.passkeys) <= 1


LAST_FACTOR = N_("Your role requires a second factor: add another one before removing this one.")


def _step_up_needed() -> Response | None:
    """Changing factors needs a session that passed one, when the person has any."""
    if services.has_factor(current_user) and services.session_second_factor() is None:
        return redirect(url_for("mfa.verify", next=request.path))
    return None


@bp.app_template_global("mfa_summary")
def mfa_summary(user: User) -> services.FactorSummary:
    """What a person has enrolled, for pages outside this blueprint (the account page)."""
    return services.summary(user)


@bp.route("/account/mfa")
def overview():
    factors = services.summary(current_user)
    required = services.mfa_required(current_user.role, current_user.organisation_id)
    return render_template("mfa/overview.html", factors=factors, required=required,
                           verified=services.session_second_factor())


@bp.route("/account/mfa/totp", methods=["GET", "POST"])
def totp_enrol():
    """Set up an authenticator app: a QR code and the secret as text, confirmed with a code."""
    if services.summary(current_user).totp:
        flash(_("An authenticator app is already set up."), "info")
        return redirect(url_for("mfa.overview"))
    step_up = _step_up_needed()
    if step_up:
        return step_up
    form = ConfirmTotpForm()
    if form.validate_on_submit():
        try:
            codes = services.confirm_totp(current_user, form.code.data)
        except services.MfaError as exc:
            db.session.commit()
            form.code.errors = [str(exc)]
        else:
            _enrolled("totp")
            return _no_store(make_response(render_template("mfa/recovery_codes.html", codes=codes, new_factor=True)))
    secret = services.pending_totp_secret(current_user) or services.start_totp(current_user)
    db.session.commit()
    uri = services.provisioning_uri(current_user, secret)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, dark="#000", light="#fff")
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return _no_store(make_response(render_template("mfa/totp_enrol.html", form=form, qr=qr, secret=grouped)))


def _enrolled(method: str) -> None:
    """A first factor was just added: this session counts as having passed it, and the person's
    other sessions, which a password alone opened, end."""
    if services.session_second_factor() is None:
        services.mark_session(method)
        end_all_sessions(current_user, except_token=current_user.session_token)
    db.session.commit()


@bp.route("/account/mfa/totp/remove", methods=["GET", "POST"])
def totp_remove():
    step_up = _step_up_needed()
    if step_up:
        return step_up
    if _last_required_factor():
        flash(_(LAST_FACTOR), "error")
        return redirect(url_for("mfa.overview"))
    form = ConfirmForm()
    if form.validate_on_submit():
        services.remove_totp(current_user)
        db.session.commit()
        flash(_("The authenticator app is removed."), "success")
        return redirect(url_for("mfa.overview"))
    return render_template("mfa/confirm.html", form=form, title=_("Remove the authenticator app?"),
                           body=_("Codes from the app will no longer sign you in."), button=_("Remove the app"))


@bp.route("/account/mfa/recovery-codes", methods=["GET", "POST"])
def recovery_codes():
    """New recovery codes, after a confirmation; the old ones stop working."""
    step_up = _step_up_needed()
    if step_up:
        return step_up
    if not services.has_factor(current_user):
        return redirect(url_for("mfa.overview"))
    form = ConfirmForm()
    if form.validate_on_submit():
        codes = services.regenerate_recovery_codes(current_user)
        db.session.commit()
        return _no_store(make_response(render_template("mfa/recovery_codes.html", codes=codes, new_factor=False)))
    return render_template("mfa/confirm.html", form=form, title=_("Make new recovery codes?"),
                           body=_("Your current recovery codes will stop working."), button=_("Make new codes"))


@bp.route("/account/mfa/passkeys/options", methods=["POST"])
def passkey_register_options():
    if _step_up_needed():
        return {"error": _("Confirm it is you first: sign in again with your second factor.")}, 403
    options = services.registration_options(current_user)
    db.session.commit()
    return Response(options, mimetype="application/json")


@bp.route("/account/mfa/passkeys", methods=["POST"])
def passkey_register():
    if _step_up_needed():
        return {"error": _("Confirm it is you first: sign in again with your second factor.")}, 403
    try:
        passkey = services.register_passkey(current_user, services.parse_credential(request.form.get("credential")),
                                            request.form.get("name", ""))
    except services.MfaError as exc:
        db.session.commit()
        return {"error": str(exc)}, 400
    _enrolled("passkey")
    flash(_("The passkey “%(name)s” is registered.", name=passkey.name), "success")
    return jsonify(redirect=url_for("mfa.overview"))


@bp.route("/account/mfa/passkeys/<int:passkey_id>/remove", methods=["GET", "POST"])
def passkey_remove(passkey_id: int):
    passkey = db.session.get(Passkey, passkey_id)
    if passkey is None or passkey.user_id != current_user.id:
        abort(404)
    step_up = _step_up_needed()
    if step_up:
        return step_up
    if _last_required_factor():
        flash(_(LAST_FACTOR), "error")
        return redirect(url_for("mfa.overview"))
    form = ConfirmForm()
    if form.validate_on_submit():
        name = passkey.name
        services.remove_passkey(current_user, passkey)
        db.session.commit()
        flash(_("The passkey “%(name)s” is removed.", name=name), "success")
        return redirect(url_for("mfa.overview"))
    return render_template("mfa/confirm.html", form=form, title=_("Remove the passkey “%(name)s”?", name=passkey.name),
                           body=_("It will no longer sign you in."), button=_("Remove the passkey"))
