"""Admin forms for an organisation's SCIM tokens and groups."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from lms.scim.tokens import MAX_DAYS


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)],
                       description=_l("Which identity provider or integration uses it, e.g. “Entra ID”."))
    days = IntegerField(_l("Valid for (days)"), default=90, validators=[InputRequired(), NumberRange(1, MAX_DAYS)],
                        description=_l("Between 1 and %(max)s. Create a new token before this one expires.",
                                       max=MAX_DAYS))


class ConfirmForm(FlaskForm):
    """Only the CSRF token: a confirmation page's button."""


class GroupMappingForm(FlaskForm):
    meaning = SelectField(_l("Members of this group"), choices=[])
