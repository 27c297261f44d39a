"""Dashboard filters, assignments and revocation."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from lms.certification.status import Status


def _optional_int(value) -> int | None:
    return int(value) if value not in (None, "", "None") else None


class DashboardFilterForm(FlaskForm):
    """GET filters (no CSRF: they change nothing)."""

    class Meta:
        csrf = False

    q = StringField("Name or e-mail", validators=[Optional(), Length(max=100)])
    organisation = SelectField("Organisation", coerce=_optional_int, validators=[Optional()])
    programme = SelectField("Programme", coerce=_optional_int, validators=[Optional()])
    team = SelectField("Team", validators=[Optional()])
    group = SelectField("Count by", choices=[("organisation", "Organisation"), ("team", "Team")],
                        validators=[Optional()])
    status = SelectField("Status", choices=[("", "Any status")] + [(s.value, s.label) for s in Status],
                         validators=[Optional()])
    due_after = DateField("Due from", validators=[Optional()])
    due_before = DateField("Due until", validators=[Optional()])
    sort = SelectField("Sort by", choices=[("due", "Due date"), ("name", "Name"), ("organisation", "Organisation"),
                                           ("team", "Team"),
                                           ("programme", "Programme"), ("status", "Status"),
                                           ("valid_until", "Valid until")], validators=[Optional()])
    order = SelectField("Order", choices=[("asc", "Ascending"), ("desc", "Descending")], validators=[Optional()])


class AssignmentForm(FlaskForm):
    programme_id = SelectField("Programme", coerce=int)
    target = RadioField("Assign to", choices=[("organisation", "Every agent of an organisation, now and later"),
                                              ("agent", "One agent")], default="organisation")
    organisation_id = SelectField("Organisation", coerce=_optional_int, validators=[Optional()])
    agent_email = EmailField("Agent's e-mail", validators=[Optional(), Length(max=254)])
    due_rule = RadioField("Due", choices=[("days", "A number of days after assignment (or after joining)"),
                                          ("date", "On a date")], default="days")
    due_days = IntegerField("Days", validators=[Optional(), NumberRange(1, 730)], default=30)
    due_date = DateField("Date", validators=[Optional()])


class RevokeForm(FlaskForm):
    reason = TextAreaField("Reason for revoking", validators=[InputRequired(), Length(max=1000)],
                           description="Recorded in the audit log and shown on the public verification page as 'revoked'.")


class ReissueForm(FlaskForm):
    """No fields: the CSRF token, behind a confirmation (a re-issue revokes the old code)."""
