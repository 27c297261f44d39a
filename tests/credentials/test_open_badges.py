"""Open Badges 3.0: each award issues a signed OpenBadgeCredential that validates against 1EdTech's
schema, verifies with an independent JOSE library against the published keys, is revoked through
the status list without being edited, and bakes into a PNG that any reader can open."""
from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json

import jsonschema
import jwt as pyjwt
from PIL import Image
from sqlalchemy import select

from lms.audit.models import AuditEvent
from lms.certification import services
from lms.credentials.models import OpenBadge
from lms.extensions import db
from tests import factories
from lms.accounts.models import Role
from tests.conftest import login
from tests.credentials.conftest import SCHEMA
from tests.factories import PASSWORD

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


def _badge() -> OpenBadge:
    return db.session.scalars(select(OpenBadge)).one()


def _public_keys(client) -> dict[str, object]:
    """The JWKS the app publishes, as PyJWT keys by kid: what an outside verifier would fetch."""
    jwks = client.get("/.well-known/jwks.json").get_json()
    return {jwk["kid"]: pyjwt.PyJWK(jwk).key for jwk in jwks["keys"]}


def _verify_independently(client, token: str) -> tuple[dict, dict]:
    """Verify a VC-JWT with PyJWT (the app signs with joserfc), resolving kid through did:web."""
    header = pyjwt.get_unverified_header(token)
    did = client.get("/.well-known/did.json").get_json()
    method = next(m for m in did["verificationMethod"] if m["id"] == header["kid"])
    assert header["kid"] in did["assertionMethod"]
    key = pyjwt.PyJWK(method["publicKeyJwk"]).key
    claims = pyjwt.decode(token, key, algorithms=["ES256"], options={"verify_exp": False, "verify_nbf": False})
    return header, claims


def test_the_award_issues_a_badge_that_validates_against_the_1edtech_schema(app, certified):
    badge = _badge()
    assert badge.award_id == certified["award"].id
    header, claims = pyjwt.get_unverified_header(badge.jwt), pyjwt.decode(badge.jwt, options={"verify_signature": False})
    credential = {k: v for k, v in claims.items() if k not in ("iss", "jti", "nbf", "exp")}
    validator = jsonschema.Draft201909Validator(SCHEMA, format_checker=jsonschema.Draft201909Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(credential), key=str)
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    # The 2.0 schema requires validFrom: a credential without it fails, so the check above has teeth.
    assert list(validator.iter_errors({k: v for k, v in credential.items() if k != "validFrom"}))

    assert credential["@context"] == [VC_V2, OB_CONTEXT]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert header["alg"] == "ES256" and header["typ"] == "vc+jwt"
    assert credential["validFrom"] == "2026-01-05T09:00:00Z"
    assert credential["validUntil"].startswith("2027-01-05")
    assert claims["iss"] == credential["issuer"]["id"] == "did:web:academy.example"
    assert claims["jti"] == credential["id"] == f"urn:uuid:{badge.credential_uuid}"


def test_the_credential_states_the_programme_issuer_holder_and_evidence(app, certified):
    credential = pyjwt.decode(_badge().jwt, options={"verify_signature": False})
    issuer = credential["issuer"]
    assert issuer["type"] == ["Profile"] and issuer["url"] == "https://academy.example/"
    assert issuer["image"]["id"].startswith("https://academy.example/static/")
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["name"] == "Recorded lines certification"
    criteria = achievement["criteria"]["narrative"]
    evidence = certified["award"].evidence
    # The criteria name each course and assessment with the content version that earned the award.
    assert f"`{evidence['courses'][0]['version']}`" in criteria and evidence["courses"][0]["title"] in criteria
    assert f"`{evidence['quizzes'][0]['version']}`" in criteria and "at least 80%" in criteria
    # The holder: a salted SHA-256 of the e-mail, never the address.
    identity = credential["credentialSubject"]["identifier"][0]
    assert identity["identityType"] == "emailAddress" and identity["hashed"] is True
    expected = hashlib.sha256(("yasmine@atlascare.example" + identity["salt"]).encode()).hexdigest()
    assert identity["identityHash"] == f"sha256${expected}"
    assert "yasmine" not in _badge().jwt and "yasmine" not in json.dumps(credential).lower()
    assert "Yasmine" not in json.dumps(credential)
    # Evidence: the score by phase of the best passing attempt.
    assessment = next(e for e in credential["evidence"] if e["genre"] == "Assessment")
    assert assessment["name"].endswith(f"{evidence['quizzes'][0]['percent']:g}%")
    labels = {"before": "Before the call", "during": "During the call", "after": "After the call"}
    phases = evidence["quizzes"][0]["phases"]
    assert phases  # the fixture quiz scores its questions by phase
    for phase, score in phases.items():
        assert f"{labels[phase]}: {score['percent']:g}%" in assessment["narrative"]
    status = credential["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry" and status["statusPurpose"] == "revocation"
    assert status["statusListCredential"] == "https://academy.example/credentials/status/1"
    assert status["statusListIndex"] == str(certified["award"].id)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "open_badge.issued")) is not None


def test_the_signature_verifies_with_pyjwt_against_the_published_did_and_jwks(app, certified, client):
    badge = _badge()
    header, claims = _verify_independently(client, badge.jwt)
    assert header["kid"] == f"did:web:academy.example#{badge.key_id}"
    assert badge.key_id in _public_keys(client)
    # One changed character in the payload and PyJWT refuses it.
    head, body, signature = badge.jwt.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=="))
    payload["validUntil"] = "2099-01-01T00:00:00Z"
    forged = ".".join([head, base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode(), signature])
    try:
        _verify_independently(client, forged)
    except pyjwt.InvalidSignatureError:
        pass
    else:
        raise AssertionError("a forged credential verified")


def _status_bit(client, index: int) -> int:
    response = client.get("/credentials/status/1")
    assert response.status_code == 200 and response.mimetype == "application/vc+jwt"
    _, credential = _verify_independently(client, response.get_data(as_text=True))
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    subject = credential["credentialSubject"]
    assert subject["statusPurpose"] == "revocation" and subject["encodedList"].startswith("u")
    raw = subject["encodedList"][1:]
    bits = gzip.decompress(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    assert len(bits) * 8 == 131_072  # the specification's minimum size, for herd privacy
    return (bits[index // 8] >> (7 - index % 8)) & 1


def test_revocation_flips_the_status_bit_and_never_edits_the_credential(app, certified, client):
    badge = _badge()
    signed = badge.jwt
    index = int(pyjwt.decode(signed, options={"verify_signature": False})["credentialStatus"]["statusListIndex"])
    assert _status_bit(client, index) == 0
    trainer = factories.user(Role.TRAINER, certified["partner"])
    services.revoke(trainer, certified["award"], "Shared a customer's card number on a live call")
    db.session.commit()
    assert _status_bit(client, index) == 1
    db.session.expire_all()
    assert _badge().jwt == signed  # the credential itself is unchanged


def test_a_reissue_gets_a_new_badge_and_the_old_one_reads_as_revoked(app, certified, client):
    admin = factories.user(Role.ADMIN, certified["partner"])
    old = _badge()
    new_award = services.reissue(admin, certified["award"])
    db.session.commit()
    badges = db.session.scalars(select(OpenBadge).order_by(OpenBadge.id)).all()
    assert [b.award_id for b in badges] == [certified["award"].id, new_award.id]
    assert _status_bit(client, old.status_index) == 1 and _status_bit(client, badges[1].status_index) == 0


def test_the_baked_png_carries_the_signed_credential(app, certified, client, login_as):
    login_as(certified["agent"])
    response = client.get(f"/awards/{certified['award'].id}/badge.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="badge-')
    image = Image.open(io.BytesIO(response.data))  # an independent PNG reader
    image.load()
    assert image.size == (400, 400)
    assert image.text["openbadgecredential"] == _badge().jwt
    _verify_independently(client, image.text["openbadgecredential"])


def test_the_holder_downloads_json_and_jwt_and_a_wallet_link(app, certified, client, login_as):
    login_as(certified["agent"])
    award_id = certified["award"].id
    as_json = client.get(f"/awards/{award_id}/badge.json")
    assert as_json.status_code == 200 and as_json.mimetype == "application/ld+json"
    credential = json.loads(as_json.data)
    assert credential["@context"] == [VC_V2, OB_CONTEXT] and "iss" not in credential
    as_jwt = client.get(f"/awards/{award_id}/badge.jwt")
    assert as_jwt.mimetype == "application/vc+jwt" and as_jwt.get_data(as_text=True) == _badge().jwt
    page = client.get(f"/awards/{award_id}/badge").get_data(as_text=True)
    link = f"https://academy.example/credentials/{_badge().credential_uuid}"
    assert f'value="{link}"' in page and "data:image/svg+xml" in page
    assert "Badge image (PNG)" in page and "Credential as JSON" in page
    # The wallet link needs no sign-in: it answers the VC 2.0 enveloped credential, or the JWT itself.
    client = app.test_client()
    envelope = client.get(f"/credentials/{_badge().credential_uuid}").get_json()
    assert envelope["type"] == "EnvelopedVerifiableCredential"
    assert envelope["id"] == f"data:application/vc+jwt,{_badge().jwt}"
    raw = client.get(f"/credentials/{_badge().credential_uuid}", headers={"Accept": "application/vc+jwt"})
    assert raw.get_data(as_text=True) == _badge().jwt
    assert client.get("/credentials/00000000-0000-4000-8000-000000000000").status_code == 404
    downloads = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "open_badge.downloaded")).all()
    assert len(downloads) == 2


def test_the_agent_home_links_to_the_badge(app, certified, client, login_as):
    login_as(certified["agent"])
    home = client.get("/").get_data(as_text=True)
    award_id = certified["award"].id
    assert f'href="/awards/{award_id}/badge.png">Open Badge (PNG)' in home
    assert f'href="/awards/{award_id}/badge">' in home


def test_downloads_follow_the_award_rule(app, certified, client, login_as):
    other = factories.user(Role.AGENT, certified["partner"])
    db.session.commit()
    login_as(other)
    award_id = certified["award"].id
    for path in ("badge", "badge.json", "badge.jwt", "badge.png"):
        assert client.get(f"/awards/{award_id}/{path}").status_code == 404
    scoped = factories.user(Role.AUDITOR, certified["partner"], scope=factories.organisation("Lisboa CS"))
    db.session.commit()
    auditor = app.test_client()
    assert login(auditor, scoped.email, PASSWORD).status_code == 302
    assert auditor.get(f"/awards/{award_id}/badge.json").status_code == 404


def test_an_award_from_before_open_badges_gets_its_badge_on_first_download(app, certified, client, login_as):
    db.session.delete(_badge())
    db.session.commit()
    login_as(certified["agent"])
    assert client.get(f"/awards/{certified['award'].id}/badge.jwt").status_code == 200
    first = _badge().jwt
    client.get(f"/awards/{certified['award'].id}/badge.jwt")
    assert db.session.scalars(select(OpenBadge)).one().jwt == first


def test_unknown_status_lists_are_not_found(app, certified, client):
    assert client.get("/credentials/status/2").status_code == 404


def test_the_key_command_creates_the_issuer_key_once_and_prints_its_id(app, badge_keys):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["credentials", "key"])
    assert first.exit_code == 0 and "created" in first.output
    again = runner.invoke(args=["credentials", "key"])
    assert "created" not in again.output
    kid = again.output.split("key id ")[1].split()[0]
    assert kid in first.output and (badge_keys / "badge.pem").stat().st_mode & 0o777 == 0o600


def test_production_without_a_key_issues_the_award_and_the_badge_waits(app, content, at, badge_keys, client,
                                                                        login_as, caplog):
    from lms.certification.models import Award
    from tests.assessment.conftest import best_form
    from tests.certification.conftest import make_programme
    from tests.certification.test_cycle import _read_course, _take_quiz

    app.config.update(ENV_NAME="production")
    partner = factories.organisation("Atlas Care")
    agent = factories.user(Role.AGENT, partner)
    services.assign(None, make_programme(), organisation_id=partner.id, due_days=14)
    _read_course(agent)
    db.session.commit()
    _take_quiz(agent, content, best_form)
    award = db.session.scalars(select(Award)).one()  # the award is issued all the same
    assert db.session.scalars(select(OpenBadge)).all() == []
    assert "issued without its Open Badge" in caplog.text
    app.config.update(ENV_NAME="test")  # the page's session rules are production's otherwise
    login_as(agent)
    app.config.update(ENV_NAME="production")
    response = client.get(f"/awards/{award.id}/badge.png")
    assert response.status_code == 503 and "signing key is not configured" in response.get_data(as_text=True)
    app.config.update(ENV_NAME="test")
    assert client.get(f"/awards/{award.id}/badge.png").status_code == 200  # signed once the key exists


def test_a_trainer_opens_the_award_page_from_the_person_page(app, certified, client, login_as):
    trainer = factories.user(Role.TRAINER, certified["partner"])
    db.session.commit()
    login_as(trainer)
    person = client.get(f"/people/{certified['agent'].id}").get_data(as_text=True)
    assert f'href="/awards/{certified["award"].id}/badge">Open Badge</a>' in person
    page = client.get(f"/awards/{certified['award'].id}/badge").get_data(as_text=True)
    assert "The Open Badge" in page and "Your Open Badge" not in page and "Yasmine El Idrissi" in page
