"""Dashboard filters, assignments and revocation."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lms.certification.status import LABELS, Status
from lms.form_fields import optional_int, stripped


class DashboardFilterForm(FlaskForm):
    """GET filters (no CSRF: they change nothing)."""

    class Meta:
        csrf = False

    q = StringField(_l("Name or e-mail"), validators=[Optional(), Length(max=100)])
    organisation = SelectField(_l("Organisation"), coerce=optional_int, validators=[Optional()])
    programme = SelectField(_l("Programme"), coerce=optional_int, validators=[Optional()])
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


def _due_rule_fields() -> tuple:
    """The due rule's fields, for a new assignment and for changing one (created where they are
    called, so each form keeps its fields in order)."""
    return (RadioField(_l("Due"), choices=[("days", _l("A number of days after assignment (or after joining)")),
                                           ("date", _l("On a date"))], default="days"),
            IntegerField(_l("Days"), validators=[Optional(), NumberRange(1, 730)], default=30),
            DateField(_l("Date"), validators=[Optional()]))


class AssignmentForm(FlaskForm):
    programme_id = SelectField(_l("Programme"), coerce=int)
    target = RadioField(_l("Assign to"), choices=[("organisation", _l("Every agent of an organisation, now and later")),
                                                  ("agent", _l("One agent"))], default="organisation")
    organisation_id = SelectField(_l("Organisation"), coerce=optional_int, validators=[Optional()])
    # A text field: the picker (a <datalist>) fills in "Name <e-mail>"; a typed address works too.
    agent_email = StringField(_l("Agent's name or e-mail"), validators=[Optional(), Length(max=400)],
                              description=_l("Type part of their name or e-mail and choose them from the list, "
                                             "or type their e-mail address."),
                              render_kw={"list": "agent-choices", "autocomplete": "off", "spellcheck": "false"})
    due_rule, due_days, due_date = _due_rule_fields()


class AssignmentDueForm(FlaskForm):
    """Changing an assignment's due rule (its programme and target stay)."""

    due_rule, due_days, due_date = _due_rule_fields()


class ConfirmRemovalForm(FlaskForm):
    """No fields: the CSRF token, behind the page that says what removing an assignment does."""


class RevokeForm(FlaskForm):
    """The reason, asked on the confirmation page that states what revoking does."""

    reason = TextAreaField(_l("Reason for revoking"), filters=[stripped],
                           validators=[DataRequired(_l("Give the reason for revoking this award.")), Length(max=1000)],
                           description=_l("Recorded in the audit log and shown on the public verification page as "
                                          "“revoked”."))


class ReissueForm(FlaskForm):
    """No fields: the CSRF token, behind a confirmation (a re-issue revokes the old code)."""
