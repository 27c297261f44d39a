"""Dashboard filters, assignments and revocation."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from lms.certification.status import LABELS, Status


def _optional_int(value) -> int | None:
    return int(value) if value not in (None, "", "None") else None


class DashboardFilterForm(FlaskForm):
    """GET filters (no CSRF: they change nothing)."""

    class Meta:
        csrf = False

    q = StringField(_l("Name or e-mail"), validators=[Optional(), Length(max=100)])
    organisation = SelectField(_l("Organisation"), coerce=_optional_int, validators=[Optional()])
    programme = SelectField(_l("Programme"), coerce=_optional_int, validators=[Optional()])
    team = SelectField(_l("Team"), validators=[Optional()])
    group = SelectField(_l("Count by"), choices=[("organisation", _l("Organisation")), ("team", _l("Team"))],
                        validators=[Optional()])
    status = SelectField(_l("Status"), choices=[("", _l("Any status"))] + [(s.value, LABELS[s.value]) for s in Status],
                         validators=[Optional()])
    due_after = DateField(_l("Due from"), validators=[Optional()])
    due_before = DateField(_l("Due until"), validators=[Optional()])
    sort = SelectField(_l("Sort by"), choices=[("due", _l("Due date")), ("name", _l("Name")),
                                               ("organisation", _l("Organisation")), ("team", _l("Team")),
                                               ("programme", _l("Programme")), ("status", _l("Status")),
                                               ("valid_until", _l("Valid until"))], validators=[Optional()])
    order = SelectField(_l("Order"), choices=[("asc", _l("Ascending")), ("desc", _l("Descending"))],
                        validators=[Optional()])


class AssignmentForm(FlaskForm):
    programme_id = SelectField(_l("Programme"), coerce=int)
    target = RadioField(_l("Assign to"), choices=[("organisation", _l("Every agent of an organisation, now and later")),
                                                  ("agent", _l("One agent"))], default="organisation")
    organisation_id = SelectField(_l("Organisation"), coerce=_optional_int, validators=[Optional()])
    agent_email = EmailField(_l("Agent's e-mail"), validators=[Optional(), Length(max=254)])
    due_rule = RadioField(_l("Due"), choices=[("days", _l("A number of days after assignment (or after joining)")),
                                              ("date", _l("On a date"))], default="days")
    due_days = IntegerField(_l("Days"), validators=[Optional(), NumberRange(1, 730)], default=30)
    due_date = DateField(_l("Date"), validators=[Optional()])


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Reason for revoking"), validators=[InputRequired(), Length(max=1000)],
                           description=_l("Recorded in the audit log and shown on the public verification page as "
                                          "“revoked”."))


class ReissueForm(FlaskForm):
    """No fields: the CSRF token, behind a confirmation (a re-issue revokes the old code)."""
