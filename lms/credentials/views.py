"""Open Badges: the award page, the downloads, the wallet link, and the issuer's published documents."""
from __future__ import annotations

import json
from pathlib import Path

import segno
from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select

from lms.addresses import external_url
from lms.audit.services import record
from lms.certification.models import Award
# verification registers the badge reader with evidence's verify page when it loads.
from lms.credentials import baking, keys, open_badges, status_list, verification  # noqa: F401
from lms.credentials.models import OpenBadge
from lms.evidence.certificates import award_status
from lms.extensions import db, limiter
from lms.policy import can_view_award

bp = Blueprint("credentials", __name__)

JSON_LD = "application/ld+json"


def _award(award_id: int) -> Award:
    award = db.session.get(Award, award_id)
    if award is None or not can_view_award(current_user, award):
        abort(404)
    return award


def _badge(award: Award) -> OpenBadge:
    """The award's badge; an award from before Open Badges gets its badge now, once."""
    return open_badges.issue(award, actor=current_user)


def _download(award: Award, badge: OpenBadge, kind: str, body: bytes | str, mimetype: str, extension: str):
    record("open_badge.downloaded", actor=current_user, target=badge, award_id=award.id, form=kind)
    db.session.commit()
    name = f"badge-{award.verification_code[:8]}.{extension}"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.errorhandler(open_badges.BadgeErased)
def _erased(_: open_badges.BadgeErased):
    db.session.rollback()
    return render_template(
        "errors/error.html", code=410, title="This Open Badge was deleted",
        text="Its holder's personal data was erased at their request. The award still verifies by its code, "
             "and a copy of the badge they kept still checks as genuine."), 410


@bp.errorhandler(keys.IssuerKeyMissing)
def _no_key(exc: keys.IssuerKeyMissing):
    db.session.rollback()
    current_app.logger.error("Open Badge not produced: %s", exc)
    return render_template("errors/error.html", code=503, title="The badge could not be produced",
                           text="The academy's badge signing key is not configured yet. Your award is safe; "
                                "please try again later, and tell your administrator if it lasts."), 503


def wallet_link(badge: OpenBadge) -> str:
    return external_url("credentials.wallet", credential_uuid=badge.credential_uuid)


@bp.route("/awards/<int:award_id>/badge")
def award(award_id: int):
    """The award page: what was earned, its status, and the badge in every form."""
    award = _award(award_id)
    badge = _badge(award)
    db.session.commit()
    link = wallet_link(badge)
    qr = segno.make(link, error="m").svg_data_uri(scale=4, border=2)
    return render_template("credentials/award.html", award=award, badge=badge, status=award_status(award),
                           credential=open_badges.credential_of(badge), wallet_link=link, wallet_qr=qr)


@bp.route("/awards/<int:award_id>/badge.json")
def badge_json(award_id: int):
    award = _award(award_id)
    badge = _badge(award)
    body = json.dumps(open_badges.credential_of(badge), indent=2, ensure_ascii=False)
    return _download(award, badge, "json", body, JSON_LD, "json")


@bp.route("/awards/<int:award_id>/badge.jwt")
def badge_jwt(award_id: int):
    award = _award(award_id)
    badge = _badge(award)
    return _download(award, badge, "jwt", badge.jwt, open_badges.MEDIA_TYPE, "jwt")


@bp.route("/awards/<int:award_id>/badge.png")
def badge_png(award_id: int):
    award = _award(award_id)
    badge = _badge(award)
    image = (Path(current_app.static_folder) / "credentials" / "badge.png").read_bytes()
    return _download(award, badge, "png", baking.bake(image, badge.jwt), "image/png", "png")


@bp.route("/credentials/<credential_uuid>")
@limiter.limit("30 per minute")
def wallet(credential_uuid: str):
    """The link a wallet imports: the signed credential, as VC-JWT or as a VC 2.0 enveloped credential.

    Public, like a verification code: the id is 122 random bits that only the holder has been
    given, and the credential names nobody (the holder is a salted hash).
    """
    limiter.check()
    badge = db.session.scalar(select(OpenBadge).where(OpenBadge.credential_uuid == credential_uuid[:36]))
    if badge is None:
        abort(404)
    if badge.jwt is None:
        raise open_badges.BadgeErased(credential_uuid)
    if request.accept_mimetypes.best_match([open_badges.MEDIA_TYPE, "application/json", JSON_LD]) == open_badges.MEDIA_TYPE:
        return Response(badge.jwt, mimetype=open_badges.MEDIA_TYPE)
    envelope = {"@context": "https://www.w3.org/ns/credentials/v2", "id": f"data:{open_badges.MEDIA_TYPE},{badge.jwt}",
                "type": "EnvelopedVerifiableCredential"}
    return Response(json.dumps(envelope), mimetype=JSON_LD)


@bp.route("/credentials/status/<int:number>")
def status_list_credential(number: int):
    """The Bitstring Status List credential, signed as VC-JWT (media type application/vc+jwt)."""
    if not status_list.list_exists(number):
        abort(404)
    key = keys.issuer_key()
    token = open_badges.sign(status_list.status_list_credential(number), key)
    response = Response(token, mimetype=open_badges.MEDIA_TYPE)
    response.headers["Cache-Control"] = f"public, max-age={int(status_list.TTL.total_seconds())}"
    return response


@bp.route("/.well-known/jwks.json")
def jwks():
    return Response(json.dumps(keys.jwks()), mimetype="application/jwk-set+json")


@bp.route("/.well-known/did.json")
def did_document():
    return Response(json.dumps(keys.did_document()), mimetype="application/did+json")


@bp.cli.command("key")
def create_key() -> None:
    """Create the Open Badges issuer key at BADGE_KEY_PATH if there is none, and print its key id."""
    import click

    path = keys.key_path()
    if not path.exists():
        keys.create_key_file(path)
        click.echo(f"created {path}")
    click.echo(f"key id {keys.load_key(path).kid}  ({keys.issuer_did()}#{keys.load_key(path).kid})")
