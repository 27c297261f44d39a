"""The admin forms for API keys."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, widgets
from wtforms.validators import InputRequired, Length

from lms.api.models import SCOPES


class KeyForm(FlaskForm):
    name = StringField("Name of the integration", validators=[InputRequired(), Length(max=120)],
                       description="Who uses it, e.g. “Workforce management (Atlas)”: shown in lists and the audit log.",
                       render_kw={"autocomplete": "off"})
    organisation_id = SelectField("Organisations it may see", coerce=int,
                                  description="A key sees the agents, awards and evidence packs of this organisation "
                                              "only, or of every organisation.")
    scopes = SelectMultipleField("Scopes (all read-only)", choices=list(SCOPES.items()),
                                 default=["clearance:read"], validators=[InputRequired("Choose at least one scope.")],
                                 option_widget=widgets.CheckboxInput(), widget=widgets.ListWidget(prefix_label=False))


class ConfirmForm(FlaskForm):
    """Rotate and revoke: a POST with its CSRF token after a confirmation page."""
