"""The admin forms for API keys."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, widgets
from wtforms.validators import InputRequired, Length

from lms.api.models import SCOPES


class KeyForm(FlaskForm):
    name = StringField(_l("Name of the integration"), validators=[InputRequired(), Length(max=120)],
                       description=_l("Who uses it, e.g. “Workforce management (Atlas)”: shown in lists and the audit log."),
                       render_kw={"autocomplete": "off"})
    organisation_id = SelectField(_l("Organisations it may see"), coerce=int,
                                  description=_l("A key sees the agents, awards and evidence packs of this organisation "
                                                 "only, or of every organisation."))
    scopes = SelectMultipleField(_l("Scopes (all read-only)"), choices=list(SCOPES.items()),
                                 default=["clearance:read"], validators=[InputRequired(_l("Choose at least one scope."))],
                                 option_widget=widgets.CheckboxInput(), widget=widgets.ListWidget(prefix_label=False))


class ConfirmForm(FlaskForm):
    """Rotate and revoke: a POST with its CSRF token after a confirmation page."""
