"""The forms of the xAPI outbox page."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField
from wtforms.validators import InputRequired, Optional, Regexp, ValidationError


class RetryForm(FlaskForm):
    """Retry one failed statement (its row id), or every failed one when empty."""

    row_id = HiddenField(validators=[Optional(), Regexp(r"^\d{1,18}$")])


class ExportForm(FlaskForm):
    date_from = DateField(_l("From"), validators=[InputRequired(message=_l("Give the first day."))])
    date_to = DateField(_l("Until"), validators=[InputRequired(message=_l("Give the last day."))],
                        description=_l("Both days included (UTC)."))

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_("The end date is before the start date."))
