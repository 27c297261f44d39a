"""The admin forms for webhook endpoints."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, widgets
from wtforms.validators import AnyOf, InputRequired, Length

from lms.webhooks.models import EVENT_TYPES


class EndpointForm(FlaskForm):
    url = StringField(_l("Address (URL)"), validators=[InputRequired(), Length(max=2000)],
                      description=_l("Where events are POSTed: https, on a public address."),
                      render_kw={"autocomplete": "off", "inputmode": "url", "spellcheck": "false"})
    description = StringField(_l("Description"), validators=[InputRequired(), Length(max=200)],
                              description=_l("Which system receives them, e.g. “Workforce management (Atlas)”."))
    organisation_id = SelectField(_l("Events about"), coerce=int)
    event_types = SelectMultipleField(_l("Events"), choices=list(EVENT_TYPES.items()),
                                      default=list(EVENT_TYPES), validators=[InputRequired(_l("Choose at least one event."))],
                                      option_widget=widgets.CheckboxInput(), widget=widgets.ListWidget(prefix_label=False))


class ConfirmForm(FlaskForm):
    """Rotate, delete, send a test event, retry: a POST with its CSRF token."""


class StateForm(FlaskForm):
    action = HiddenField(validators=[AnyOf(["disable", "enable", "resume"])])
