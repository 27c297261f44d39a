"""The form that starts an export."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField
from wtforms.validators import InputRequired, Optional, ValidationError

from lms.form_fields import optional_int


class ExportForm(FlaskForm):
    # Nothing is chosen in advance: an export of the wrong kind or organisation is personal data
    # leaving for no reason, so the person picks both.
    kind = RadioField(_l("What to export"), validators=[InputRequired(_l("Choose what to export."))])
    organisation_id = SelectField(_l("Organisation"), coerce=optional_int,
                                  validators=[InputRequired(_l("Choose the organisation to export."))])
    date_from = DateField(_l("From"), validators=[Optional()],
                          description=_l("Evidence pack only: activity on or after this date (optional)."))
    date_to = DateField(_l("Until"), validators=[Optional()],
                        description=_l("Evidence pack only: activity up to this date (optional)."))

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_("The end date is before the start date."))


class RetryForm(FlaskForm):
    """Only the CSRF token: retrying changes state, so it is a POST."""
