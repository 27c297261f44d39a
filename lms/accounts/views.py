"""Sign-in, sign-out, set-password links, and the admin pages for users and organisations."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select

from lms.accounts import services
from lms.accounts.forms import LoginForm, OrganisationForm, SetPasswordForm, UserForm, UserSearchForm
from lms.accounts.models import Organisation, OrganisationKind, Role, User
from lms.certification.services import sync_enrolments
from lms.extensions import db, limiter
from lms.pagination import paginate

bp = Blueprint("accounts", __name__)

GENERIC_LOGIN_ERROR = "The e-mail address or password is not right, or the account is not active."


def _account_key() -> str:
    """Rate-limit key for sign-in attempts against one account, whatever the client address."""
    return "login-account:" + services.normalise_email(request.form.get("email", ""))[:254]
from lms.mfa.services import forget_organisation_roles, has_factor


def _safe_next(target: str | None) -> str:
    """Only a path on this site; anything with a scheme or host goes home (ASVS 3.7.2)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//") \
                and "\\" not in target:
            return target
    return url_for("main.index")


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
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            db.session.commit()  # keep the failure in the audit log
            flash(GENERIC_LOGIN_ERROR, "error")
            return render_template("accounts/login.html", form=form), 200
        next_url = _safe_next(request.args.get("next"))
        if has_factor(user):  # the second step (lms/mfa) starts the session once it is passed
            from lms.mfa.views import begin_second_step
            return begin_second_step(user, remember=form.remember.data, next_url=next_url)
        return finish_sign_in(user, remember=form.remember.data, next_url=next_url)
    return render_template("accounts/login.html", form=form)


def finish_sign_in(user: User, *, remember: bool, next_url: str, second_factor: str | None = None):
    """Start the server-side session once every factor has been checked, and go on.

    The one way into a session: the password form, and a second-factor or passkey step,
    all end here.
    """
    session.clear()  # a fresh session at sign-in (ASVS 7.2.4)
    user.session_token = services.start_session(user, remember=remember, second_factor=second_factor)
    login_user(user, remember=remember)
    db.session.commit()
    return redirect(next_url)


@bp.route("/logout", methods=["POST"])
def logout():
    services.end_session(current_user.session_token, current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    row = services.find_password_token(token)
    if row is None:
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
            flash(f"Your password is set, {user.name}. Sign in with it now.", "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/set_password.html", form=form, user=row.user)


# ---- users (admin) ----------------------------------------------------------------

def _organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(Organisation.kind, Organisation.name)))


def _user_data(form: UserForm) -> services.UserData:
    return services.UserData(
        email=form.email.data, name=form.name.data, role=Role(form.role.data),
        organisation_id=form.organisation_id.data,
        scope_organisation_id=form.scope_organisation_id.data if form.role.data == Role.AUDITOR.value else None,
    )


@bp.route("/admin/users")
def user_list():
    orgs = _organisations()
    form = UserSearchForm(request.args)
    form.organisation.choices = [("", "Any organisation")] + [(o.id, o.name) for o in orgs]
    form.validate()
    query = services.search_users(
        form.q.data or "",
        Role(form.role.data) if form.role.data else None,
        form.organisation.data,
    )
    page = paginate(query, request.args.get("page", 1, type=int), per_page=25)
    return render_template("accounts/user_list.html", form=form, page=page)


@bp.route("/admin/users/new", methods=["GET", "POST"])
def user_new():
    form = UserForm()
    form.set_organisations(_organisations())
    if form.validate_on_submit():
        try:
            user = services.create_user(current_user, _user_data(form))
            token = services.issue_password_link(current_user, user, current_app.config["SET_PASSWORD_TOKEN_HOURS"])
            sync_enrolments()  # a new agent joins the programmes assigned to their organisation
        except services.AccountError as exc:
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(f"{user.name} was added.", "success")
            return render_template("accounts/password_link.html", user=user,
                                   link=url_for("accounts.set_password", token=token, _external=True))
    return render_template("accounts/user_form.html", form=form, user=None)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user, data={"role": user.role.value} if request.method == "GET" else None)
    form.set_organisations(_organisations())
    if form.validate_on_submit():
        try:
            changes = services.update_user(current_user, user, _user_data(form))
            sync_enrolments()
        except services.AccountError as exc:
            _field_error(form, exc)
        else:
            db.session.commit()
            flash("Saved." if changes else "Nothing changed.", "success" if changes else "info")
            return redirect(url_for("accounts.user_edit", user_id=user.id))
    return render_template("accounts/user_form.html", form=form, user=user)


@bp.route("/admin/users/<int:user_id>/active", methods=["POST"])
def user_set_active(user_id: int):
    user = db.get_or_404(User, user_id)
    make_active = request.form.get("active") == "1"
    try:
        services.set_active(current_user, user, make_active)
    except services.AccountError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(f"{user.name} is {'active again' if make_active else 'deactivated; their records are kept'}.",
              "success")
    return redirect(url_for("accounts.user_edit", user_id=user.id))


@bp.route("/admin/users/<int:user_id>/password-link", methods=["POST"])
def user_password_link(user_id: int):
    user = db.get_or_404(User, user_id)
    if not user.active:
        flash("Reactivate the account before issuing a set-password link.", "error")
        return redirect(url_for("accounts.user_edit", user_id=user.id))
    token = services.issue_password_link(current_user, user, current_app.config["SET_PASSWORD_TOKEN_HOURS"])
    db.session.commit()
    return render_template("accounts/password_link.html", user=user,
                           link=url_for("accounts.set_password", token=token, _external=True))


def _field_error(form, exc: services.AccountError) -> None:
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, str(exc)]
    else:
        flash(str(exc), "error")


# ---- organisations (admin) ----------------------------------------------------------

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
    form = OrganisationForm(obj=org, data={"kind": org.kind.value, "mfa_required_roles": [
        role for role in org.mfa_required_roles.split(",") if role]} if org and request.method == "GET" else None)
    if form.validate_on_submit():
        data = services.OrganisationData(
            name=form.name.data, kind=OrganisationKind(form.kind.data), country=form.country.data,
            contract_reference=form.contract_reference.data or "", contact_email=form.contact_email.data or "",
            mfa_required_roles=",".join(sorted(form.mfa_required_roles.data or [])))
        try:
            org = services.save_organisation(current_user, data, org)
        except services.AccountError as exc:
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(f"{org.name} saved.", "success")
            return redirect(url_for("accounts.organisation_list"))
    return render_template("accounts/organisation_form.html", form=form, organisation=org)
            forget_organisation_roles()  # this worker applies a new MFA requirement at once
