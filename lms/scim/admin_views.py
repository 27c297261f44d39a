"""An organisation's SCIM page: its provisioning tokens and what its groups mean (admins only)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from lms.accounts.models import Organisation, User
from lms.addresses import external_url
from lms.audit.services import record
from lms.certification.models import Programme
from lms.clock import now
from lms.extensions import db
from lms.scim import tokens
from lms.scim.groups import apply_membership
from lms.scim.forms import ConfirmForm, GroupMappingForm, TokenForm
from lms.scim.models import ScimGroup, ScimGroupMember, ScimToken

bp = Blueprint("scim_admin", __name__, url_prefix="/admin/organisations/<int:org_id>/scim")


def _meaning_choices() -> list[tuple[str, str]]:
    programmes = db.session.scalars(select(Programme).where(Programme.archived_at.is_(None)).order_by(Programme.slug))
    return ([("", _("Nothing (membership is only recorded)")), ("role:agent", _("Role: agent")),
             ("role:trainer", _("Role: trainer"))]
            + [(f"programme:{p.id}", _("Programme: %(title)s", title=p.title)) for p in programmes])


def _page(org: Organisation, form: TokenForm, new_secret: str | None = None, status: int = 200):
    token_rows = db.session.scalars(select(ScimToken).where(ScimToken.organisation_id == org.id)
                                    .order_by(ScimToken.created_at.desc())).all()
    group_rows = db.session.scalars(select(ScimGroup).where(ScimGroup.organisation_id == org.id)
                                    .order_by(func.lower(ScimGroup.display_name))).all()
    members = dict(db.session.execute(select(ScimGroupMember.group_id, func.count()).join(ScimGroup)
                                      .where(ScimGroup.organisation_id == org.id).group_by(ScimGroupMember.group_id)).all())
    mapping_forms = {}
    for group in group_rows:
        mapping = GroupMappingForm(prefix=f"g{group.id}")
        mapping.meaning.choices = _meaning_choices()
        mapping.meaning.data = (f"role:{group.role}" if group.role else
                                f"programme:{group.programme_id}" if group.programme_id else "")
        mapping_forms[group.id] = mapping
    return render_template("scim/organisation.html", org=org, form=form, tokens=token_rows, groups=group_rows,
                           members=members, mapping_forms=mapping_forms, new_secret=new_secret,
                           endpoint=external_url("scim.service_provider_config").rsplit("/", 1)[0], now=now()), status


@bp.route("", methods=["GET", "POST"])
def organisation_scim(org_id: int):
    org = db.get_or_404(Organisation, org_id)
    form = TokenForm()
    if form.validate_on_submit():
        _, secret = tokens.create_token(current_user, org, form.name.data, form.days.data)
        db.session.commit()
        # Rendered, not redirected: the secret exists only in this response.
        return _page(org, TokenForm(formdata=None), new_secret=secret)
    return _page(org, form, status=400 if form.errors else 200)


@bp.route("/tokens/<int:token_id>/revoke", methods=["GET", "POST"])
def token_revoke(org_id: int, token_id: int):
    token = db.session.get(ScimToken, token_id)
    if token is None or token.organisation_id != org_id:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        tokens.revoke_token(current_user, token)
        db.session.commit()
        flash(_("Token %(name)s (%(prefix)s) is revoked: the identity provider can no longer use it.",
                name=token.name, prefix=token.prefix))
        return redirect(url_for("scim_admin.organisation_scim", org_id=org_id))
    return render_template("scim/token_revoke.html", token=token, form=form)


@bp.post("/groups/<int:group_id>")
def group_mapping(org_id: int, group_id: int):
    group = db.session.get(ScimGroup, group_id)
    if group is None or group.organisation_id != org_id:
        abort(404)
    form = GroupMappingForm(prefix=f"g{group.id}")
    form.meaning.choices = _meaning_choices()
    if not form.validate_on_submit():
        abort(400)
    kind, _sep, value = form.meaning.data.partition(":")
    group.role = value if kind == "role" else None
    group.programme_id = int(value) if kind == "programme" else None
    record("scim_group.mapped", actor=current_user, target=group, meaning=form.meaning.data or "nothing")
    # The same rules as a change of membership, for the members it has now.
    apply_membership(set(db.session.scalars(select(User).join(ScimGroupMember, ScimGroupMember.user_id == User.id)
                                            .where(ScimGroupMember.group_id == group.id))))
    db.session.commit()
    flash(_("Members of %(group)s: %(meaning)s.", group=group.display_name,
            meaning=dict(form.meaning.choices)[form.meaning.data]))
    return redirect(url_for("scim_admin.organisation_scim", org_id=org_id) + "#groups")
