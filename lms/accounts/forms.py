"""Forms for sign-in, set-password, users and organisations."""
from __future__ import annotations

from flask_babel import LazyString, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Email, EqualTo, InputRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput

from lms.accounts.models import OrganisationKind, Role
from lms.accounts.passwords import MAX_LENGTH
from lms.accounts.locale_defaults import LANGUAGE_NAMES, is_time_zone
from lms.form_fields import optional_int


def _valid_time_zone(form, field) -> None:
    """An IANA zone name such as Europe/Lisbon; empty means the default (the form's Optional)."""
    if field.data and not is_time_zone(field.data.strip()):
        raise ValidationError(_l("%(zone)s is not a time zone we know. Choose one from the list, "
                                 "for example Europe/Lisbon.", zone=field.data))


def _language_choices(default_label: str) -> list[tuple[str, str]]:
    """Each shipped language in its own name, after the entry that means 'no choice of one's own'."""
    return [("", default_label)] + list(LANGUAGE_NAMES.items())


class LocaleFields:
    """Language and time zone, for the account page and the admin's user and organisation forms.

    The time zone is a text box with the zones as suggestions (a <datalist>), so people can type
    "Lisbon" and pick, and a wrong entry is shown back to them as they typed it.
    """
    language = SelectField(_l("Language"), choices=[], validators=[Optional()])
    time_zone = StringField(_l("Time zone"), validators=[Optional(), Length(max=64), _valid_time_zone],
                            filters=[lambda value: value.strip() if isinstance(value, str) else value],
                            render_kw={"list": "time-zones", "autocomplete": "off", "spellcheck": "false"})

    def set_language_default(self, default_label: str) -> None:
        self.language.choices = _language_choices(default_label)


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Length(max=254)],
                       description=_l("If your organisation signs you in with its own account (single sign-on), "
                                      "enter your work e-mail and choose Sign in: no password is needed here."),
                       render_kw={"autocomplete": "username"})
    # Optional: an e-mail whose domain has single sign-on goes to its IdP without one (the view
    # asks for it from everyone else).
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Keep me signed in on this device"))


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[InputRequired(), Length(max=MAX_LENGTH)],
        description=_l("At least 8 characters. A phrase of a few words is easy to remember and hard to guess."),
        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[InputRequired(), EqualTo("password", _l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password"})


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Email(check_deliverability=False), Length(max=254)],
                       description=_l("The address you sign in with. We send a link to choose a new password."),
                       render_kw={"autocomplete": "username"})


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[InputRequired(), Length(max=MAX_LENGTH)],
                                     render_kw={"autocomplete": "current-password"})
    password = PasswordField(
        _l("New password"), validators=[InputRequired(), Length(max=MAX_LENGTH)],
        description=_l("At least 8 characters. A phrase of a few words is easy to remember and hard to guess."),
        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[InputRequired(), EqualTo("password", _l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password"})


def _lazy_display(choice: Role | OrganisationKind) -> LazyString:
    """A role's or organisation kind's name, translated when the form is shown (not at import)."""
    return LazyString(lambda: choice.display)


class LocaleForm(LocaleFields, FlaskForm):
    """One's own language and time zone (the account page)."""


class UserForm(LocaleFields, FlaskForm):
    name = StringField(_l("Full name"), validators=[InputRequired(), Length(max=200)],
                       render_kw={"autocomplete": "off"})
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Email(check_deliverability=False), Length(max=254)],
                       render_kw={"autocomplete": "off"})
    role = SelectField(_l("Role"), choices=[(r.value, _lazy_display(r)) for r in Role])
    organisation_id = SelectField(_l("Organisation"), coerce=int)
    scope_organisation_id = SelectField(
        _l("Auditor scope"), coerce=optional_int,
        description=_l("Auditors only: company-wide, or one organisation whose records they may see."))
    employee_id = StringField(_l("Employee id"), validators=[Optional(), Length(max=50)],
                              description=_l("Optional. The organisation's own number for the person; "
                                             "no two people in one organisation share one."),
                              render_kw={"autocomplete": "off"})
    team = StringField(_l("Team"), validators=[Optional(), Length(max=100)],
                       description=_l("Optional, for example “Billing B”. The dashboard filters by team."),
                       render_kw={"autocomplete": "off", "list": "team-names"})

    def set_organisations(self, organisations) -> None:
        self.organisation_id.choices = [(o.id, o.name) for o in organisations]
        self.scope_organisation_id.choices = [("", _l("Company-wide"))] + [(o.id, o.name) for o in organisations]

    def for_partner_admin(self) -> None:
        """A partner admin sets neither role nor organisation: the view fixes both (agent, theirs)."""
        del self.role
        del self.organisation_id
        del self.scope_organisation_id


class OrganisationForm(LocaleFields, FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    kind = SelectField(_l("Type"), choices=[(k.value, _lazy_display(k)) for k in OrganisationKind])
    country = StringField(_l("Country code"), validators=[
        InputRequired(), Regexp(r"^[A-Za-z]{2}$", message=_l("Use the two-letter ISO code, for example PT or MA."))],
        description=_l("Two letters (ISO 3166), for example IE, PT, MA."))
    contract_reference = StringField(_l("Contract reference"), validators=[Optional(), Length(max=100)],
                                     description=_l("The Article 28 processing agreement, for partners."))
    contact_email = EmailField(_l("Contact e-mail"), validators=[Optional(), Email(check_deliverability=False), Length(max=254)])
    mfa_required_roles = SelectMultipleField(
        _l("Second factor required for"), choices=[(r.value, _lazy_display(r)) for r in Role],
        validators=[Optional()], option_widget=CheckboxInput(),
        description=_l("People here with these roles must use an authenticator app or a passkey to sign in, "
                       "in addition to the roles the whole site requires."))
    available_programmes = SelectMultipleField(
        _l("Programmes its partner admins may assign"), coerce=int, validators=[Optional()],
        option_widget=CheckboxInput(),
        description=_l("Outsourcing partners only: what this organisation's partner admins may assign to its "
                       "agents."))
    xapi_identify_by_email = BooleanField(
        _l("Identify people by e-mail in xAPI statements"),
        description=_l("Off: statements sent to the learning record store name each person by a pseudonymous "
                       "id. On: by their e-mail address (mbox), for an LRS that must match people by address."))


class UserSearchForm(FlaskForm):
    """GET filters on the user list (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search by name or e-mail"), validators=[Optional(), Length(max=100)])
    role = SelectField(_l("Role"), choices=[("", _l("Any role"))] + [(r.value, _lazy_display(r)) for r in Role],
                       validators=[Optional()])
    organisation = SelectField(_l("Organisation"), coerce=optional_int, validators=[Optional()])
    team = StringField(_l("Team"), validators=[Optional(), Length(max=100)])
