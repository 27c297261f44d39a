"""The admin form for an organisation's OpenID Connect connection."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp

_CLAIM = Regexp(r"^[A-Za-z0-9_:./-]*$", message=_l("A claim name: letters, digits and _ : . / - only."))


class ConnectionForm(FlaskForm):
    organisation_id = SelectField(_l("Organisation"), coerce=int)
    issuer = StringField(_l("Issuer URL"), validators=[InputRequired(), Length(max=300)],
                         description=_l("The IdP's issuer, e.g. https://login.example.com/tenant. Its settings are "
                                        "read from <issuer>/.well-known/openid-configuration."),
                         render_kw={"inputmode": "url", "autocomplete": "off"})
    client_id = StringField(_l("Client id"), validators=[InputRequired(), Length(max=200)],
                            render_kw={"autocomplete": "off"})
    client_secret = PasswordField(_l("Client secret"), validators=[Optional(), Length(max=500)],
                                  render_kw={"autocomplete": "new-password"})
    scopes = StringField(_l("Scopes"), default="openid email profile", validators=[InputRequired(), Length(max=300)],
                         description=_l("Separated by spaces; openid is always asked for."))
    email_claim = StringField(_l("Claim holding the e-mail"), default="email",
                              validators=[InputRequired(), Length(max=100), _CLAIM])
    domains = TextAreaField(_l("E-mail domains"), validators=[Optional(), Length(max=2000)],
                            description=_l("One per line. People whose address ends in one of these are sent to this "
                                           "IdP from the sign-in page, and only these addresses can be linked or "
                                           "created."))
    role_claim = StringField(_l("Claim for the role (optional)"), validators=[Optional(), Length(max=100), _CLAIM],
                             description=_l("For example groups. Leave empty to keep roles as set here."))
    trainer_values = TextAreaField(_l("Values of that claim that make a trainer"), validators=[Optional(), Length(max=2000)],
                                   description=_l("One per line. Anyone else signing in is an agent. Admin and auditor "
                                                  "roles are never given by an IdP."))
    jit_provisioning = BooleanField(_l("Create accounts at first sign-in (just-in-time)"),
                                    description=_l("Off: only people an admin (or an import) has added can sign in."))
    link_by_email = BooleanField(_l("Link existing accounts by e-mail"),
                                 description=_l("Off: an existing account is used only once linked to this IdP. Turn on "
                                                "only if this IdP is the authority for these addresses."))
    passwords_forbidden = BooleanField(_l("Forbid passwords for this organisation's people"),
                                       description=_l("They can then sign in only through this IdP."))
    idp_mfa_accepted = BooleanField(_l("Accept the IdP's second factor"),
                                    description=_l("When the IdP's answer says a second factor was used (amr), "
                                                   "people who must use one are not asked again here."))
    mfa_acr_values = TextAreaField(_l("…or these acr values"), validators=[Optional(), Length(max=1000)],
                                   description=_l("One per line, as your IdP names its multi-factor level."))
    enabled = BooleanField(_l("Enabled"), default=True)


class DeleteForm(FlaskForm):
    """The confirmation of a connection's removal (CSRF only)."""
