"""/verify takes an Open Badge (pasted, or uploaded as the signed file or the baked image) and
answers as it does for a PDF: valid, revoked, expired, or not ours; bad input is a 400, never a 500."""
from __future__ import annotations

import base64
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.certification import services
from lms.credentials import baking
from lms.credentials.models import OpenBadge
from lms.credentials.open_badges import credential_of
from lms.extensions import db
from tests import factories
from tests.conftest import csrf_token


def _paste(client, text: str):
    return client.post("/verify", data={"credential": text, "csrf_token": csrf_token(client, "/verify")})


def _upload(client, data: bytes, name: str):
    return client.post("/verify", data={"file": (io.BytesIO(data), name), "csrf_token": csrf_token(client, "/verify")},
                       content_type="multipart/form-data")


def _plain_png(app) -> bytes:
    return (Path(app.static_folder) / "credentials" / "badge.png").read_bytes()


def _badge() -> OpenBadge:
    return db.session.scalars(select(OpenBadge)).one()


def test_a_pasted_badge_verifies_as_valid(app, certified, client):
    response = _paste(client, _badge().jwt)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Valid certificate" in page and "This Open Badge is genuine and unaltered" in page
    assert "Recorded lines certification" in page and "Y. E. I." in page
    assert "Yasmine" not in page  # initials only, as for a PDF


def test_every_form_of_the_badge_gives_the_same_answer(app, certified, client):
    badge = _badge()
    envelope = json.dumps({"@context": "https://www.w3.org/ns/credentials/v2", "type": "EnvelopedVerifiableCredential",
                           "id": f"data:application/vc+jwt,{badge.jwt}"})
    png = baking.bake(_plain_png(app), badge.jwt)
    for response in (_upload(client, badge.jwt.encode(), "badge.jwt"), _paste(client, envelope),
                     _upload(client, png, "badge.png")):
        assert response.status_code == 200
        assert "Valid certificate" in response.get_data(as_text=True)
    # The credential's JSON as downloaded matches what we issued, but carries no signature itself.
    plain = _paste(client, json.dumps(credential_of(badge)))
    assert plain.status_code == 200 and "exactly the one we issued" in plain.get_data(as_text=True)


def test_a_revoked_award_verifies_as_revoked(app, certified, client):
    trainer = factories.user(Role.TRAINER, certified["partner"])
    services.revoke(trainer, certified["award"], "Failed a call audit")
    db.session.commit()
    page = _paste(client, _badge().jwt).get_data(as_text=True)
    assert "Revoked certificate" in page


def test_an_expired_award_verifies_as_expired(app, certified, client, at):
    at(certified["award"].grace_until + timedelta(days=1))
    page = _paste(client, _badge().jwt).get_data(as_text=True)
    assert "Expired certificate" in page


def _forge(token: str, **changes) -> str:
    head, body, signature = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload.update(changes)
    return ".".join([head, base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode(), signature])


def test_altered_or_foreign_badges_are_not_ours(app, certified, client):
    badge = _badge()
    altered = _paste(client, _forge(badge.jwt, validUntil="2099-01-01T00:00:00Z"))
    assert altered.status_code == 400 and "not an Open Badge we issued" in altered.get_data(as_text=True)
    edited = credential_of(badge) | {"name": "Something grander"}
    assert "not one we issued" in _paste(client, json.dumps(edited)).get_data(as_text=True)
    from joserfc import jwt
    from joserfc.jwk import ECKey

    stranger = jwt.encode({"alg": "ES256", "kid": "did:web:elsewhere.example#k1"}, {"id": "urn:uuid:x"},
                          ECKey.generate_key("P-256"))
    assert _paste(client, stranger).status_code == 400


@pytest.mark.parametrize("junk", [
    "not a credential at all", "a.b.c", "{", "[1, 2]", '{"id": 5}', "eyJhbGciOiJub25lIn0.e30.",
    "x" * 600_000, '{"a":' * 5000 + "1" + "}" * 5000,
])
def test_malformed_input_is_a_clear_400(app, certified, client, junk):
    response = _paste(client, junk)
    assert response.status_code == 400
    assert 'class="flash flash-error"' in response.get_data(as_text=True)


def test_a_png_without_a_badge_and_a_broken_png_are_400(app, certified, client):
    plain = _plain_png(app)
    assert "holds no Open Badges credential" in _upload(client, plain, "x.png").get_data(as_text=True)
    cut = _upload(client, plain[:100], "x.png")
    assert cut.status_code == 400 and "cut short" in cut.get_data(as_text=True)


def test_erasure_deletes_the_badge_and_a_kept_copy_still_verifies(app, certified, client, login_as):
    from lms.privacy.erasure import erase

    kept = _badge().jwt
    kept_json = json.dumps(credential_of(_badge()))
    admin = factories.user(Role.ADMIN, certified["partner"])
    report = erase(certified["agent"], requested_by=admin, reference="DSR-7")
    db.session.commit()
    assert {e.what: e.count for e in report.goes}["Stored Open Badges (a salted hash of their e-mail)"] == 1
    db.session.expire_all()
    assert _badge().jwt is None and len(_badge().sha256) == 64
    page = _paste(client, kept).get_data(as_text=True)
    assert "Valid certificate" in page and "whose data was erased" in page
    assert "data erased" in _paste(client, kept_json).get_data(as_text=True)
    gone = client.get(f"/credentials/{_badge().credential_uuid}")
    assert gone.status_code == 410
    login_as(admin)
    assert client.get(f"/awards/{certified['award'].id}/badge.jwt").status_code == 410
    assert db.session.scalars(select(OpenBadge)).one().jwt is None  # nothing signed again
