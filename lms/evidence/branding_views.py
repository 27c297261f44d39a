"""Admin page for certificate branding: company name, colour, signatory and logo."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import ColorField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Regexp

from lms.evidence.branding import BrandingValues, configured_branding, current_branding, save_branding
from lms.evidence.renderer import STATIC_PDF_DIR
from lms.extensions import db

bp = Blueprint("branding", __name__)

LOGO_SUFFIXES = (".svg", ".png")


def logo_choices() -> list[tuple[str, str]]:
    """The logos a certificate may load: image files deployed in static/pdf/ (no uploads, so no
    user file is ever parsed by the renderer; adding a logo is a deployment step)."""
    files = sorted(p.name for p in STATIC_PDF_DIR.iterdir() if p.is_file() and p.suffix.lower() in LOGO_SUFFIXES)
    return [("", _("Default logo"))] + [(name, name) for name in files]


class BrandingForm(FlaskForm):
    company_name = StringField(_l("Company name"), validators=[InputRequired(), Length(max=200)])
    primary_colour = ColorField(_l("Primary colour"), validators=[
        InputRequired(), Regexp(r"^#[0-9a-fA-F]{6}$", message=_l("Give the colour as #rrggbb, for example #0f5c73."))],
        description=_l("Headings, rules and table stripes of the certificate."))
    signatory_name = StringField(_l("Signatory's name"), validators=[InputRequired(), Length(max=200)])
    signatory_title = StringField(_l("Signatory's title"), validators=[InputRequired(), Length(max=200)])
    logo = SelectField(_l("Logo"), validate_choice=True,
                       description=_l("An SVG or PNG file in static/pdf/ on the server."))


@bp.route("/admin/branding", methods=["GET", "POST"])
def edit():
    saved = current_branding()
    form = BrandingForm(data={"company_name": saved.company_name, "primary_colour": saved.primary_colour,
                              "signatory_name": saved.signatory_name, "signatory_title": saved.signatory_title,
                              "logo": saved.logo})
    form.logo.choices = logo_choices()
    if form.validate_on_submit():
        save_branding(current_user, BrandingValues(
            company_name=form.company_name.data.strip(), primary_colour=form.primary_colour.data.lower(),
            signatory_name=form.signatory_name.data.strip(), signatory_title=form.signatory_title.data.strip(),
            logo=form.logo.data or ""))
        db.session.commit()
        flash(_("Branding saved. Certificates rendered from now on use it; issued certificates keep theirs."), "success")
        return redirect(url_for("branding.edit"))
    return render_template("evidence/branding.html", form=form, defaults=configured_branding())
