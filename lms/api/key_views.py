"""Admin pages for API keys: list (with last use), create, rotate and revoke. A token is shown
once, on the page that follows its creation or rotation, and never again."""
from __future__ import annotations

import click
from flask import Blueprint, abort, render_template
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.accounts.models import Organisation
from lms.api import keys
from lms.api.key_forms import ConfirmForm, KeyForm
from lms.api.models import SCOPES, ApiKey
from lms.extensions import db

bp = Blueprint("api_keys", __name__, url_prefix="/admin/api-keys", cli_group="api")

EVERY_ORGANISATION = 0


@bp.route("/")
def key_list():
    rows = db.session.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.name, ApiKey.id)).all()
    return render_template("api/key_list.html", keys=rows, scopes=SCOPES)


@bp.route("/new", methods=["GET", "POST"])
def key_new():
    form = KeyForm()
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    form.organisation_id.choices = [(EVERY_ORGANISATION, _("Every organisation"))] + [(o.id, o.name) for o in organisations]
    if form.validate_on_submit():
        organisation = db.session.get(Organisation, form.organisation_id.data) if form.organisation_id.data else None
        key, token = keys.create_key(current_user, form.name.data, form.scopes.data, organisation)
        db.session.commit()
        return render_template("api/key_created.html", key=key, token=token, rotated=False)
    return render_template("api/key_form.html", form=form)


def _key(key_id: int) -> ApiKey:
    key = db.session.get(ApiKey, key_id)
    if key is None:
        abort(404)
    return key


@bp.route("/<int:key_id>/rotate", methods=["GET", "POST"])
def key_rotate(key_id: int):
    key, form = _key(key_id), ConfirmForm()
    if key.revoked_at is not None:
        abort(404)
    if form.validate_on_submit():
        token = keys.rotate_key(current_user, key)
        db.session.commit()
        return render_template("api/key_created.html", key=key, token=token, rotated=True)
    return render_template("api/key_confirm.html", key=key, form=form, action="rotate")


@bp.route("/<int:key_id>/revoke", methods=["GET", "POST"])
def key_revoke(key_id: int):
    key, form = _key(key_id), ConfirmForm()
    if form.validate_on_submit():
        keys.revoke_key(current_user, key)
        db.session.commit()
        return render_template("api/key_confirm.html", key=key, form=None, action="revoked")
    return render_template("api/key_confirm.html", key=key, form=form, action="revoke")


@bp.cli.command("create-key")
@click.option("--name", required=True, help="Who uses it, e.g. 'Workforce management'.")
@click.option("--organisation", default=None, help="The organisation's exact name (default: every organisation).")
@click.option("--scope", "scopes", multiple=True, default=["clearance:read"], show_default=True,
              type=click.Choice(sorted(SCOPES)))
def create_key_command(name: str, organisation: str | None, scopes: tuple[str, ...]) -> None:
    """Create an API key and print it (once): for scripts, and for trying the API after `make run`."""
    org = None
    if organisation is not None:
        org = db.session.scalar(select(Organisation).where(Organisation.name == organisation))
        if org is None:
            raise click.BadParameter(f"no organisation named {organisation!r}", param_hint="--organisation")
    _, token = keys.create_key(None, name, list(scopes), org)
    db.session.commit()
    click.echo(token)
