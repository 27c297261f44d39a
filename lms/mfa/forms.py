"""Forms for the second step of sign-in and for managing one's own factors."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length


class CodeForm(FlaskForm):
    """A six-digit code from the authenticator app, or a recovery code."""

    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=40)],
                       description=_l("The 6-digit code your authenticator app shows now, or one of your recovery "
                                      "codes."),
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "off",
                                  "spellcheck": "false"})


class ConfirmTotpForm(FlaskForm):
    code = StringField(_l("Code from the app"), validators=[InputRequired(), Length(max=20)],
                       description=_l("Enter the 6-digit code the app shows, to check that it is set up."),
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class ConfirmForm(FlaskForm):
    """A button that confirms a destructive action (CSRF only)."""
