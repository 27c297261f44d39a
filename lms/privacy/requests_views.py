"""The register of data-subject requests, and restricting a person's data (admins)."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField, DateField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from lms.accounts.models import User
from lms.certification import alerts
from lms.clock import now
from lms.extensions import db
from lms.i18n import date_local
from lms.pagination import paginate
from lms.policy import Permission, can, can_view_user
from lms.privacy import requests as dsr
from lms.privacy.requests import DataRequest, RequestError, RequestState, Right

bp = Blueprint("data_requests", __name__)


def _dashboard_alert(reader: User, at: datetime) -> Markup | None:
    """Open data-subject requests due within WARN_DAYS or overdue, for those who keep the register."""
    if not can(reader, Permission.MANAGE_DATA_REQUESTS):
        return None
    soon, late = dsr.due_soon_count(at)
    if not (soon or late):
        return None
    return Markup(render_template("privacy/requests/dashboard_alert.html", requests_soon=soon,
                                  requests_late=late, request_warn_days=dsr.WARN_DAYS))


alerts.register(_dashboard_alert)


class RequestForm(FlaskForm):
    right = RadioField(_l("Right asked for"), choices=[(r.value, r.label) for r in Right], validators=[InputRequired()])
    received = DateField(_l("Received on"),
                         validators=[InputRequired(message=_l("Give the date the request arrived."))],
                         description=_l("The one-month deadline (Art. 12(3)) counts from this day."))
    identity_check = TextAreaField(
        _l("How the requester's identity was checked"), validators=[DataRequired(), Length(max=2000)],
        description=_l("For example: sent from their work address on file; confirmed by their team leader."))


class ExtendForm(FlaskForm):
    months = SelectField(_l("Extend by"), choices=[("1", _l("one month")), ("2", _l("two months"))],
                         validators=[InputRequired()])
    reason = TextAreaField(_l("Reason (told to the person within the first month)"),
                           validators=[DataRequired(), Length(max=2000)])


class CloseForm(FlaskForm):
    state = RadioField(_l("Outcome"), choices=[(RequestState.DONE.value, _l("Done")),
                                               (RequestState.REFUSED.value, _l("Refused, with reasons (Art. 12(4))"))],
                       validators=[InputRequired()])
    outcome = TextAreaField(_l("What was done or why not"), validators=[DataRequired(), Length(max=2000)])


class RestrictionForm(FlaskForm):
    restricted = BooleanField(_l("Restricted"))


def _person_or_404(user_id: int) -> User:
    person = db.session.get(User, user_id)
    if person is None or not can_view_user(current_user, person):
        abort(404)
    return person


def _request_or_404(request_id: int) -> DataRequest:
    data_request = db.session.get(DataRequest, request_id)
    if data_request is None or not can_view_user(current_user, data_request.user):
        abort(404)
    return data_request


@bp.route("/admin/requests")
def request_list():
    page = paginate(dsr.register_query(), request.args.get("page", 1, type=int), per_page=25)
    return render_template("privacy/requests/list.html", page=page, at=now())


@bp.route("/people/<int:user_id>/requests/new", methods=["GET", "POST"])
def request_new(user_id: int):
    person = _person_or_404(user_id)
    form = RequestForm()
    if request.method == "GET":
        form.received.data = now().date()
    if form.validate_on_submit():
        try:
            created = dsr.record_request(current_user, person, Right(form.right.data), form.received.data,
                                         form.identity_check.data)
        except RequestError as exc:
            form.received.errors = [str(exc)]
        else:
            db.session.commit()
            # Deadlines are whole UTC days (lms.privacy.requests): the day is shown as it is, not moved to a zone.
            flash(_("Request recorded: due on %(date)s.", date=date_local(created.due_at.date())), "success")
            return redirect(url_for("data_requests.request_detail", request_id=created.id))
    return render_template("privacy/requests/new.html", person=person, form=form), 422 if form.errors else 200


@bp.route("/admin/requests/<int:request_id>", methods=["GET", "POST"])
def request_detail(request_id: int):
    data_request = _request_or_404(request_id)
    extend_form, close_form = ExtendForm(prefix="extend"), CloseForm(prefix="close")
    action = request.form.get("action")
    form = {"extend": extend_form, "close": close_form}.get(action)
    if request.method == "POST" and form is None:
        abort(400)
    refused = False
    if form is not None and form.validate_on_submit():
        try:
            if action == "extend":
                dsr.extend(current_user, data_request, int(extend_form.months.data), extend_form.reason.data)
            else:
                dsr.close(current_user, data_request, RequestState(close_form.state.data), close_form.outcome.data)
        except RequestError as exc:  # the page again, with what was typed and why not
            db.session.rollback()
            flash(str(exc), "error")
            refused = True
        else:
            db.session.commit()
            flash(_("Request updated."), "success")
            return redirect(url_for("data_requests.request_detail", request_id=request_id))
    status = 422 if refused or (form is not None and form.errors) else 200
    return render_template("privacy/requests/detail.html", item=data_request, extend_form=extend_form,
                           close_form=close_form, at=now()), status


@bp.route("/people/<int:user_id>/restriction", methods=["POST"])
def restriction(user_id: int):
    """Restrict the use of a person's data (Arts 18, 21), or lift it; audited."""
    person = _person_or_404(user_id)
    form = RestrictionForm()
    if not form.validate_on_submit():
        abort(400)
    dsr.set_restricted(current_user, person, form.restricted.data)
    db.session.commit()
    flash(_("Their data is now restricted: no reminders, left out of quiz analysis.") if form.restricted.data
          else _("The restriction is lifted."), "success")
    return redirect(url_for("certification.person", user_id=person.id))


@bp.route("/account/reissue-request", methods=["POST"])
def reissue_request():
    """An agent asks for their certificates to be re-issued under their current name."""
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    item, new = dsr.ask_for_reissue(current_user)
    db.session.commit()
    flash(_("Your request was sent to the administrators, who will re-issue your certificates under your current "
            "name; they answer by %(date)s at the latest.", date=date_local(item.due_at.date())) if new else
          _("You have already asked; the administrators will answer it."), "success")
    return redirect(url_for("main.index"))
