"""The forms of the xAPI outbox page."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField
from wtforms.validators import InputRequired, Optional, Regexp, ValidationError


class RetryForm(FlaskForm):
    """Retry one failed statement (its row id), or every failed one when empty."""

    row_id = HiddenField(validators=[Optional(), Regexp(r"^\d{1,18}$")])


class ExportForm(FlaskForm):
    date_from = DateField("From", validators=[InputRequired(message="Give the first day.")])
    date_to = DateField("Until", validators=[InputRequired(message="Give the last day.")],
                        description="Both days included (UTC).")

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")
