"""Sign-in, sign-out, set-password and reset links, one's own account and sessions, and the
admin pages for users and organisations (see the package's docstring)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _, ngettext, refresh
from flask_login import current_user, logout_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms.account_pages import reset_mail
from lms.accounts import services
from lms.accounts.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LocaleForm,
    LoginForm,
    OrganisationForm,
    SetPasswordForm,
    UserForm,
    UserSearchForm,
)
from lms.accounts.locale_defaults import LANGUAGE_NAMES, forget_organisation, organisation_defaults, \
    time_zone_choices
from lms.accounts.models import Organisation, OrganisationKind, Role, TokenKind, User
from lms.accounts.redirects import safe_next
from lms.accounts.sign_in import finish_sign_in
from lms.addresses import external_url
from lms.audit.services import record
from lms.certification.models import Programme, ProgrammeVersion
from lms.extensions import db, limiter
from lms.mfa import services as mfa
from lms.mfa.forms import ConfirmForm
from lms.mfa.views import begin_second_step
from lms.pagination import paginate
from lms.policy import can_manage_user, restrict_managed_users
from lms.sso import services as sso
from lms.sso.views import leave_for, logout_redirect, start_sign_in

bp = Blueprint("accounts", __name__)


def N_(message: str) -> str:
    """Marks a module-level message for extraction (pybabel's default N_ keyword); it stays the
    English text, and is translated where it is shown, with _()."""
    return message


GENERIC_LOGIN_ERROR = N_("The e-mail address or password is not right, or the account is not active.")
PASSWORDS_FORBIDDEN = N_("Your organisation signs you in with its own account, not a password here. Leave the "
                         "password empty and choose Sign in to go to your organisation's sign-in page.")


def _account_key() -> str:
    """Rate-limit key for sign-in attempts against one account, whatever the client address."""
    return "login-account:" + services.normalise_email(request.form.get("email", ""))[:254]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=_account_key,
               methods=["POST"])
def login():
    limiter.check()
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        next_url = safe_next(request.args.get("next"))
        # Home-realm discovery (lms/sso): an e-mail of a domain with single sign-on goes to its IdP.
        connection = sso.connection_for_email(form.email.data)
        if connection is not None and not form.password.data:
            return start_sign_in(connection, form.email.data.strip(), next_url)
        if not form.password.data:
            form.password.errors.append(_("Enter your password."))
            return render_template("accounts/login.html", form=form), 200
        if sso.password_refused_by(None, form.email.data) is not None:
            form.password.errors.append(_(PASSWORDS_FORBIDDEN))
            return render_template("accounts/login.html", form=form), 200
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None and sso.password_refused_by(user, form.email.data) is not None:
            record("auth.login_refused", actor=user, reason="passwords forbidden by the organisation")
            user = None
            form.password.errors.append(_(PASSWORDS_FORBIDDEN))
        if user is None:
            db.session.commit()  # keep the failure in the audit log
            if not form.password.errors:
                flash(_(GENERIC_LOGIN_ERROR), "error")
            return render_template("accounts/login.html", form=form), 200
        if mfa.has_factor(user):  # the second step (lms/mfa) starts the session once it is passed
            return begin_second_step(user, remember=form.remember.data, next_url=next_url)
        return finish_sign_in(user, remember=form.remember.data, next_url=next_url)
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    at_idp = logout_redirect()  # single logout, when the session came through an IdP that offers it
    services.end_session(current_user.session_token, current_user)
    db.session.commit()
    logout_user()
    session.clear()
    if at_idp:
        return leave_for(at_idp, _("Signing you out at your organisation"), _("You are signed out here. Your "
                         "organisation's sign-in page now ends your session there too."))
    flash(_("You are signed out."), "info")
    return redirect(url_for("accounts.login"))


# The id of the set-password or reset link this browser opened (see open_link).
_OPENED_LINK = "password_link"


@bp.route("/set-password/<token>")
def set_password(token: str):
    """An admin's one-time link: traded for server-side state, then the form at a clean address."""
    return _open_link(token, TokenKind.SET)


@bp.route("/reset-password/<token>")
def reset_password(token: str):
    """The link a password-reset e-mail carries: the same trade as set_password."""
    return _open_link(token, TokenKind.RESET)


def _open_link(token: str, kind: TokenKind):
    """The first GET trades the token for the row's id in the session and moves on to an address
    without it, so the token leaves the address bar, the history and the Referer at once."""
    row = services.open_password_token(token, kind)
    if row is None:
        return render_template("accounts/set_password_invalid.html"), 404
    db.session.commit()
    session[_OPENED_LINK] = row.id
    return redirect(url_for("accounts.set_password_form"))


@bp.route("/set-password", methods=["GET", "POST"])
def set_password_form():
    row = services.opened_password_token(session.get(_OPENED_LINK))
    if row is None:
        session.pop(_OPENED_LINK, None)
        return render_template("accounts/set_password_invalid.html"), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.redeem_password_token(row, form.password.data)
        except services.AccountError as exc:
            form.password.errors.append(str(exc))
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash(_("Your password is set, %(name)s. Sign in with it now.", name=user.name), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/set_password.html", form=form, user=row.user,
                           reset=row.kind is TokenKind.RESET)


def _reset_account_key() -> str:
    """Rate-limit key for reset requests for one address, whatever the client address."""
    return "reset-account:" + services.normalise_email(request.form.get("email", ""))[:254]


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_LIMIT_PER_ACCOUNT"], key_func=_reset_account_key,
               methods=["POST"])
def forgot_password():
    """Ask for a reset link by e-mail. The reply is the same whether or not the address has an
    account, and the e-mail leaves after the reply, so its timing tells nothing either."""
    limiter.check()
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        found = services.request_password_reset(form.email.data, current_app.config["PASSWORD_RESET_MINUTES"])
        db.session.commit()
        response = current_app.make_response(
            render_template("accounts/forgot_password_sent.html", email=form.email.data.strip()))
        if found is not None:
            user, token = found
            response.call_on_close(reset_mail.prepare(user, external_url("accounts.reset_password", token=token)))
        return response
    return render_template("accounts/forgot_password.html", form=form)


# ---- one's own account ------------------------------------------------------------

@bp.route("/account/security")
def security():
    """Change one's password, language and time zone, and see (and end) one's signed-in sessions."""
    return _security_page(ChangePasswordForm())


def _locale_form(**kwargs) -> LocaleForm:
    form = LocaleForm(**kwargs)
    org_language, _zone = organisation_defaults(current_user.organisation_id)
    default = LANGUAGE_NAMES.get(org_language or current_app.config["BABEL_DEFAULT_LOCALE"], "English")
    form.set_language_default(_("Organisation default (%(language)s)", language=default))
    return form


def _security_page(form: ChangePasswordForm, locale_form: LocaleForm | None = None):
    if locale_form is None:
        locale_form = _locale_form(formdata=None, data={"language": current_user.language or "",
                                                        "time_zone": current_user.time_zone or ""})
    org_zone = organisation_defaults(current_user.organisation_id)[1] or current_app.config["BABEL_DEFAULT_TIMEZONE"]
    return render_template("accounts/security.html", form=form, locale_form=locale_form, default_zone=org_zone,
                           time_zones=time_zone_choices(), sessions=services.active_sessions(current_user))


@bp.route("/account/locale", methods=["POST"])
def change_locale():
    """One's own language and time zone; the page after saving is already in them."""
    form = _locale_form()
    if not form.validate_on_submit():
        return _security_page(ChangePasswordForm(formdata=None), form), 400
    if services.set_own_locale(current_user, form.language.data or None, form.time_zone.data or None):
        db.session.commit()
        refresh()  # this request chose its language already; the message is in the new one
        flash(_("Your language and time zone are saved."), "success")
    return redirect(url_for("accounts.security"))


@bp.route("/language", methods=["POST"])
def choose_language():
    """The sign-in page's language switcher: a cookie, for visitors not signed in (lms.i18n)."""
    response = redirect(safe_next(request.form.get("next")))
    language = request.form.get("lang", "")
    if language in current_app.config["LANGUAGES"]:
        response.set_cookie("lang", language, max_age=365 * 24 * 3600, secure=request.is_secure,
                            httponly=True, samesite="Lax")
    return response


@bp.route("/account/password", methods=["POST"])
def change_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _security_page(form)
    try:
        services.change_own_password(current_user, form.current_password.data, form.password.data)
    except services.AccountError as exc:
        db.session.commit()  # keep a failed attempt in the audit log
        _field_error(form, exc)
        return _security_page(form)
    db.session.commit()
    flash(_("Your password is changed. Every other device you were signed in on is signed out."), "success")
    return redirect(url_for("accounts.security"))


@bp.route("/account/sessions/<int:session_id>/end", methods=["POST"])
def session_end(session_id: int):
    if services.end_own_session(current_user, session_id):
        db.session.commit()
        flash(_("That device is signed out."), "success")
    else:
        flash(_("That session has already ended."), "info")
    return redirect(url_for("accounts.security"))


@bp.route("/account/sessions/end-others", methods=["GET", "POST"])
def sessions_end_others():
    """"Sign out everywhere else": a confirmation page, then the POST that does it."""
    others = [s for s in services.active_sessions(current_user) if not s.current]
    if request.method == "POST":
        ended = services.end_other_sessions(current_user)
        db.session.commit()
        flash(ngettext("Signed out everywhere else (%(num)d session).", "Signed out everywhere else (%(num)d sessions).",
                       ended), "success")
        return redirect(url_for("accounts.security"))
    return render_template("accounts/sessions_end_others.html", others=others)


# ---- users (admin) ----------------------------------------------------------------

def _organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(Organisation.kind, Organisation.name)))


def _partner_admin() -> bool:
    return current_user.role is Role.PARTNER_ADMIN


def _user_form(**kwargs) -> UserForm:
    """The user form: every field for admins; name, e-mail, employee id and team for partner admins."""
    form = UserForm(**kwargs)
    form.set_language_default(_("Their organisation's default"))
    if _partner_admin():
        form.for_partner_admin()
    else:
        form.set_organisations(_organisations())
    return form


def _user_data(form: UserForm) -> services.UserData:
    if _partner_admin():  # role and organisation are not theirs to choose
        role, organisation_id, scope = Role.AGENT, current_user.organisation_id, None
    else:
        role, organisation_id = Role(form.role.data), form.organisation_id.data
        scope = form.scope_organisation_id.data if role is Role.AUDITOR else None
    return services.UserData(
        email=form.email.data, name=form.name.data, role=role, organisation_id=organisation_id,
        scope_organisation_id=scope, employee_id=form.employee_id.data, team=form.team.data,
        locale=(form.language.data or None, form.time_zone.data or None))


def _managed_user_or_404(user_id: int) -> User:
    """Someone the current user may change; anyone else does not exist for them (404)."""
    user = db.session.get(User, user_id)
    if user is None or not can_manage_user(current_user, user):
        abort(404)
    return user


def _team_names() -> list[str]:
    """The team names in use among the people the current user manages (the form's suggestions)."""
    query = restrict_managed_users(current_user, select(User.team).where(User.team.is_not(None)).distinct())
    return sorted(db.session.scalars(query))


@bp.route("/admin/users")
def user_list():
    form = UserSearchForm(request.args)
    if _partner_admin():
        del form.organisation
        del form.role
    else:
        form.organisation.choices = [("", _("Any organisation"))] + [(o.id, o.name) for o in _organisations()]
    form.validate()
    query = services.search_users(
        form.q.data or "",
        Role(form.role.data) if "role" in form and form.role.data else None,
        form.organisation.data if "organisation" in form else None,
        team=(form.team.data or "").strip() or None,
    )
    # The rows' organisations in one query, not one per organisation on the page.
    query = restrict_managed_users(current_user, query).options(selectinload(User.organisation),
                                                                selectinload(User.scope_organisation))
    page = paginate(query, request.args.get("page", 1, type=int), per_page=25)
    return render_template("accounts/user_list.html", form=form, page=page, teams=_team_names())


@bp.route("/admin/users/new", methods=["GET", "POST"])
def user_new():
    form = _user_form()
    if form.validate_on_submit():
        try:
            user = services.create_user(current_user, _user_data(form))
            token = services.issue_password_link(current_user, user, current_app.config["SET_PASSWORD_TOKEN_HOURS"])
        except services.AccountError as exc:
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(_("%(name)s was added.", name=user.name), "success")
            return render_template("accounts/password_link.html", user=user,
                                   link=external_url("accounts.set_password", token=token))
    return render_template("accounts/user_form.html", form=form, user=None, teams=_team_names(),
                           time_zones=time_zone_choices())


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = _managed_user_or_404(user_id)
    form = _user_form(obj=user)
    if form.validate_on_submit():
        try:
            changes = services.update_user(current_user, user, _user_data(form))
        except services.AccountError as exc:
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(_("Saved.") if changes else _("Nothing changed."), "success" if changes else "info")
            return redirect(url_for("accounts.user_edit", user_id=user.id))
    return render_template("accounts/user_form.html", form=form, user=user, teams=_team_names(),
                           time_zones=time_zone_choices())


@bp.route("/admin/users/<int:user_id>/active", methods=["POST"])
def user_set_active(user_id: int):
    user = _managed_user_or_404(user_id)
    make_active = request.form.get("active") == "1"
    try:
        services.set_active(current_user, user, make_active)
    except services.AccountError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        if make_active:
            flash(_("%(name)s is active again.", name=user.name), "success")
        else:
            flash(_("%(name)s is deactivated; their records are kept.", name=user.name), "success")
    return redirect(url_for("accounts.user_edit", user_id=user.id))


@bp.route("/admin/users/<int:user_id>/password-link", methods=["POST"])
def user_password_link(user_id: int):
    user = _managed_user_or_404(user_id)
    if not user.active:
        flash(_("Reactivate the account before issuing a set-password link."), "error")
        return redirect(url_for("accounts.user_edit", user_id=user.id))
    token = services.issue_password_link(current_user, user, current_app.config["SET_PASSWORD_TOKEN_HOURS"])
    db.session.commit()
    return render_template("accounts/password_link.html", user=user,
                           link=external_url("accounts.set_password", token=token))


def _field_error(form, exc: services.AccountError) -> None:
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, str(exc)]
    else:
        flash(str(exc), "error")


# ---- organisations (admin) ----------------------------------------------------------

def _programme_choices() -> list[tuple[int, str]]:
    """(id, title) of the programmes in use, for the organisation form's availability boxes."""
    return [(row.id, row.title) for row in db.session.execute(
        select(Programme.id, ProgrammeVersion.title).join(ProgrammeVersion, ProgrammeVersion.id == Programme.current_version_id)
        .where(Programme.archived_at.is_(None)).order_by(ProgrammeVersion.title))]


@bp.route("/admin/organisations")
def organisation_list():
    counts = dict(db.session.execute(
        select(User.organisation_id, func.count()).where(User.role == Role.AGENT).group_by(User.organisation_id)
    ).all())
    return render_template("accounts/organisation_list.html", organisations=_organisations(), agent_counts=counts)


@bp.route("/admin/organisations/new", methods=["GET", "POST"])
@bp.route("/admin/organisations/<int:org_id>", methods=["GET", "POST"], endpoint="organisation_edit")
def organisation_new(org_id: int | None = None):
    org = db.get_or_404(Organisation, org_id) if org_id is not None else None
    form = OrganisationForm(obj=org)
    form.set_language_default(_("None: each person's browser decides"))
    form.available_programmes.choices = _programme_choices()
    if org and request.method == "GET":  # obj would give the stored string, not the list of roles
        form.mfa_required_roles.data = [role for role in org.mfa_required_roles.split(",") if role]
        form.available_programmes.data = services.available_programme_ids(org)
    if form.validate_on_submit():
        data = services.OrganisationData(
            name=form.name.data, kind=OrganisationKind(form.kind.data), country=form.country.data,
            contract_reference=form.contract_reference.data or "", contact_email=form.contact_email.data or "",
            mfa_required_roles=",".join(sorted(form.mfa_required_roles.data or [])),
            xapi_identify_by_email=bool(form.xapi_identify_by_email.data),
            locale=(form.language.data or None, form.time_zone.data or None))
        try:
            org = services.save_organisation(current_user, data, org)
            services.set_available_programmes(current_user, org, form.available_programmes.data or [])
        except services.AccountError as exc:
            _field_error(form, exc)
        else:
            db.session.commit()
            mfa.forget_organisation_roles()  # this worker applies a new MFA requirement at once
            forget_organisation(org.id)  # and new default language and zone
            flash(_("%(organisation)s saved.", organisation=org.name), "success")
            return redirect(url_for("accounts.organisation_list"))
    return render_template("accounts/organisation_form.html", form=form, organisation=org,
                           time_zones=time_zone_choices())


# An admin helps someone who lost every second factor (the factors themselves are lms/mfa's).
@bp.route("/admin/users/<int:user_id>/second-factors/reset", methods=["GET", "POST"])
def second_factors_reset(user_id: int):
    """Remove all of someone's second factors, after a confirmation (audited)."""
    user = db.session.get(User, user_id)
    if user is None or not can_manage_user(current_user, user):  # a partner admin: their agents only
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            had = mfa.reset_factors(current_user, user)
        except mfa.MfaError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            if had:
                flash(_("%(name)s's second factors are removed and their sessions ended: they sign in with "
                        "their password and set up a new one.", name=user.name), "success")
            else:
                flash(_("%(name)s had no second factor.", name=user.name), "info")
        return redirect(url_for("accounts.user_edit", user_id=user.id))
    return render_template("mfa/confirm.html", form=form, title=_("Remove %(name)s's second factors?", name=user.name),
                           body=_("Their authenticator app, passkeys and recovery codes stop working and they are "
                                  "signed out everywhere. Do this only once you are sure who asked."),
                           button=_("Remove their second factors"),
                           cancel=url_for("accounts.user_edit", user_id=user.id))
