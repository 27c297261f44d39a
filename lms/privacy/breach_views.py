"""The breach register's pages, for admins: the list with each breach's 72-hour clock, a form to
record a breach, and the same form to update it as facts and decisions arrive."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from lms.accounts.models import User
from lms.certification import alerts
from lms.clock import now
from lms.extensions import db
from lms.policy import Permission, can
from lms.privacy.breach_forms import BreachForm
from lms.privacy.breaches import (
    Breach, BreachInvalid, duration_words, notification_clock, record_breach, register, unnotified_soon, update_breach,
    utc_time_words,
)

bp = Blueprint("breaches", __name__, url_prefix="/admin/breaches")
bp.add_app_template_filter(duration_words, "breach_duration")
bp.add_app_template_filter(utc_time_words, "breach_time")


def _dashboard_alert(reader: User, at: datetime) -> Markup | None:
    """Open breaches whose notice is due within 24 hours or overdue: for the register's admins
    only, since others neither see breaches nor could act."""
    if not can(reader, Permission.MANAGE_BREACHES):
        return None
    count, deadline = unnotified_soon(at)
    if not count:
        return None
    return Markup(render_template("privacy/breaches/dashboard_alert.html", breach_count=count,
                                  breach_deadline=deadline, at=at))


alerts.register(_dashboard_alert)


@bp.route("")
def breach_list():
    at = now()
    breaches = register()
    return render_template("privacy/breaches/list.html", at=at,
                           rows=[(breach, notification_clock(breach, at)) for breach in breaches])


@bp.route("/new", methods=["GET", "POST"])
def breach_new():
    form = BreachForm()
    if form.validate_on_submit():
        try:
            breach = record_breach(current_user, form.data_for_register())
        except BreachInvalid as exc:
            _field_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Breach %(number)s recorded. The authority must be notified by %(when)s unless it is unlikely "
                    "to result in a risk.", number=breach.id, when=utc_time_words(breach.deadline)), "success")
            return redirect(url_for("breaches.breach_list"))
    return render_template("privacy/breaches/form.html", form=form, breach=None, clock=None)


@bp.route("/<int:breach_id>", methods=["GET", "POST"])
def breach_edit(breach_id: int):
    breach = db.get_or_404(Breach, breach_id)
    form = BreachForm(obj=breach)
    if form.validate_on_submit():
        try:
            changed = update_breach(current_user, breach, form.data_for_register())
        except BreachInvalid as exc:
            _field_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Breach %(number)s updated.", number=breach.id) if changed else _("Nothing changed."), "success")
            return redirect(url_for("breaches.breach_list"))
    return render_template("privacy/breaches/form.html", form=form, breach=breach,
                           clock=notification_clock(breach, now()))


def _field_errors(form: BreachForm, exc: BreachInvalid) -> None:
    for name, message in exc.errors.items():
        field = form[name]
        field.errors = [*field.errors, message]
