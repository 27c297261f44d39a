"""Admin forms for an organisation's SCIM tokens and groups."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from lms.scim.tokens import MAX_DAYS


class TokenForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)],
                       description="Which identity provider or integration uses it, e.g. “Entra ID”.")
    days = IntegerField("Valid for (days)", default=90, validators=[InputRequired(), NumberRange(1, MAX_DAYS)],
                        description=f"Between 1 and {MAX_DAYS}. Create a new token before this one expires.")


class ConfirmForm(FlaskForm):
    """Only the CSRF token: a confirmation page's button."""


class GroupMappingForm(FlaskForm):
    meaning = SelectField("Members of this group", choices=[])
