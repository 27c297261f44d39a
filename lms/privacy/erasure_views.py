"""The administrator's erasure of a person: the dry run, then the job (two clicks from the person page)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from lms.accounts.models import User
from lms.extensions import db
from lms.jobs import runner
from lms.policy import can_view_user
from lms.privacy.erasure import LEGAL_BASIS, ErasureError, check_may_erase, plan
from lms.privacy.erasure_job import request_erasure

bp = Blueprint("erasure", __name__)


class ErasureForm(FlaskForm):
    reference = StringField(
        _l("Request reference (optional)"),
        validators=[Optional(), Length(max=60),
                    Regexp(r"^[\w\-/#. ]*$", message=_l("Use letters, digits and - / # . only."))],
        description=_l("Your ticket or case number, kept in the audit log. Not the person's name or e-mail."))
    confirm = BooleanField(_l("I have checked the requester's identity and that no legal hold applies"),
                           validators=[DataRequired(message=_l("Tick this to confirm before erasing."))])


@bp.route("/people/<int:user_id>/erase", methods=["GET", "POST"])
def erase_person(user_id: int):
    person = db.session.get(User, user_id)
    if person is None or not can_view_user(current_user, person):
        abort(404)
    form = ErasureForm()
    try:
        check_may_erase(person, current_user)
        refusal = None
    except ErasureError as exc:
        refusal = str(exc)
    if refusal is None and form.validate_on_submit():
        job = request_erasure(person, current_user, form.reference.data or "")
        db.session.commit()
        runner.submit(job.id)
        flash(_("The erasure has started. This page shows its report when it is done."), "success")
        return redirect(url_for("jobs.export_detail", job_id=job.id))
    status = 422 if form.errors else 200
    return render_template("privacy/erase.html", person=person, plan=plan(person), form=form,
                           refusal=refusal, legal_basis=LEGAL_BASIS), status
