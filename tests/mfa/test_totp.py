"""TOTP enrolment and sign-in, recovery codes, and what is stored."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.accounts.models import LoginSession, Role
from lms.audit.models import AuditEvent
from lms.extensions import db
from lms.mfa import crypto
from lms.mfa.models import RecoveryCode, TotpFactor
from tests import factories
from tests.conftest import csrf_token, login
from tests.mfa.conftest import code_at, enrol_totp, sign_out, submit_code


def _actions(user) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == user.id)
                                   .order_by(AuditEvent.seq)))


def _second_factors(user) -> list[str | None]:
    db.session.expire_all()
    return list(db.session.scalars(select(LoginSession.second_factor).where(LoginSession.user_id == user.id)
                                   .order_by(LoginSession.id)))


@pytest.fixture
def trainer(app):
    person = factories.user(Role.TRAINER)
    db.session.commit()
    return person


def test_enrolment_shows_a_qr_code_and_the_key_and_counts_only_once_confirmed(app, client, login_as, trainer, clock):
    login_as(trainer)
    page = client.get("/account/mfa/totp").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page and 'class="totp-secret"' in page
    assert client.get("/account/mfa/totp").get_data(as_text=True).count("totp-secret") == 1
    factor = db.session.scalar(select(TotpFactor).where(TotpFactor.user_id == trainer.id))
    secret = crypto.decrypt(factor.secret_encrypted)
    assert secret not in factor.secret_encrypted  # encrypted at rest
    assert " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in page
    # A wrong code: nothing is on, the same key is shown again.
    wrong = client.post("/account/mfa/totp", data={"code": "000000" if code_at(secret) != "000000" else "111111",
                                                   "csrf_token": csrf_token(client, "/account/mfa/totp")})
    assert "That code is not right" in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(TotpFactor, factor.id).confirmed_at is None
    assert "Off." in client.get("/account/mfa").get_data(as_text=True)

    done = client.post("/account/mfa/totp", data={"code": code_at(secret),
                                                  "csrf_token": csrf_token(client, "/account/mfa/totp")})
    text = done.get_data(as_text=True)
    assert "shown only once" in text and done.headers["Cache-Control"] == "no-store"
    assert text.count("<li><code>") == 10
    rows = list(db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == trainer.id)))
    assert len(rows) == 10 and all(len(row.code_hash) == 64 and row.code_hash not in text for row in rows)
    overview = client.get("/account/mfa").get_data(as_text=True)
    assert "On." in overview and "10 unused recovery codes left" in overview
    assert _second_factors(trainer)[-1] == "totp"  # this session passed the factor it just set up
    assert "mfa.totp_enrolled" in _actions(trainer)


def test_sign_in_asks_for_a_code_after_the_password(app, client, login_as, trainer, clock):
    login_as(trainer)
    secret, _ = enrol_totp(client)
    sign_out(client)
    clock(30)
    response = login(client, trainer.email, factories.PASSWORD)
    assert response.headers["Location"] == "/login/verify"
    assert client.get("/").headers["Location"].startswith("/login")  # no session before the code
    wrong = submit_code(client, "000000" if code_at(secret) != "000000" else "111111")
    assert wrong.status_code == 200 and "That code is not right" in wrong.get_data(as_text=True)
    assert "mfa.verify_failed" in _actions(trainer)
    right = submit_code(client, code_at(secret))
    assert right.status_code == 302 and right.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert _second_factors(trainer)[-1] == "totp"


def test_a_code_works_once_and_one_step_either_side(app, client, login_as, trainer, clock):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "50 per minute"
    login_as(trainer)
    secret, _ = enrol_totp(client)  # uses the current step
    sign_out(client)

    def try_code(code: str) -> bool:
        login(client, trainer.email, factories.PASSWORD)
        ok = submit_code(client, code).status_code == 302
        if ok:
            sign_out(client)
        return ok

    assert not try_code(code_at(secret))  # the code used for enrolment, in the same step
    clock(60)
    assert try_code(code_at(secret, -1))  # a phone slightly behind
    assert not try_code(code_at(secret, -1))  # the same code again
    assert not try_code(code_at(secret, -2))  # older than the last one used
    assert try_code(code_at(secret, +1))  # a phone slightly ahead
    assert not try_code(code_at(secret, +3))  # too far ahead


def test_a_recovery_code_signs_in_once(app, client, login_as, trainer, clock):
    login_as(trainer)
    _, codes = enrol_totp(client)
    sign_out(client)
    login(client, trainer.email, factories.PASSWORD)
    used = submit_code(client, codes[3].upper().replace("-", " "))  # typed loosely
    assert used.status_code == 302
    assert "9 left" in client.get("/").get_data(as_text=True)
    assert _second_factors(trainer)[-1] == "recovery"
    assert "mfa.recovery_code_used" in _actions(trainer)
    sign_out(client)
    login(client, trainer.email, factories.PASSWORD)
    assert submit_code(client, codes[3]).status_code == 200  # used up


def test_new_recovery_codes_after_confirmation_replace_the_old(app, client, login_as, trainer, clock):
    login_as(trainer)
    _, old = enrol_totp(client)
    confirm = client.get("/account/mfa/recovery-codes").get_data(as_text=True)
    assert "Make new recovery codes?" in confirm and "<li><code>" not in confirm
    new = client.post("/account/mfa/recovery-codes", data={"csrf_token": csrf_token(client, "/account/mfa/recovery-codes")})
    assert new.get_data(as_text=True).count("<li><code>") == 10
    assert "mfa.recovery_codes_regenerated" in _actions(trainer)
    sign_out(client)
    login(client, trainer.email, factories.PASSWORD)
    assert submit_code(client, old[0]).status_code == 200


def test_removing_the_app_needs_a_confirmation_and_is_audited(app, client, login_as, trainer, clock):
    login_as(trainer)
    enrol_totp(client)
    assert "Remove the authenticator app?" in client.get("/account/mfa/totp/remove").get_data(as_text=True)
    assert db.session.scalar(select(TotpFactor).where(TotpFactor.user_id == trainer.id)) is not None
    client.post("/account/mfa/totp/remove", data={"csrf_token": csrf_token(client, "/account/mfa/totp/remove")})
    db.session.expire_all()
    assert db.session.scalar(select(TotpFactor).where(TotpFactor.user_id == trainer.id)) is None
    assert db.session.scalar(select(RecoveryCode).where(RecoveryCode.user_id == trainer.id)) is None
    assert "mfa.totp_removed" in _actions(trainer)
    sign_out(client)
    assert login(client, trainer.email, factories.PASSWORD).headers["Location"] == "/"


def test_the_second_step_must_follow_the_password_soon(app, client, login_as, trainer, clock):
    login_as(trainer)
    secret, _ = enrol_totp(client)
    sign_out(client)
    login(client, trainer.email, factories.PASSWORD)
    clock(app.config["MFA_PENDING_SECONDS"] + 30)
    late = client.get("/login/verify")
    assert late.status_code == 302 and late.headers["Location"] == "/login"


def test_codes_are_throttled_per_person(app, client, login_as, trainer, clock):
    app.config["MFA_VERIFY_LIMIT"] = "3 per minute"
    login_as(trainer)
    enrol_totp(client)
    sign_out(client)
    login(client, trainer.email, factories.PASSWORD)
    statuses = [submit_code(client, "bad-code").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_the_secret_needs_the_configured_key(app):
    token = crypto.encrypt("JBSWY3DPEHPK3PXP")
    assert crypto.decrypt(token) == "JBSWY3DPEHPK3PXP"
    app.config["MFA_ENCRYPTION_KEY"] = "another key entirely"
    with pytest.raises(ValueError):
        crypto.decrypt(token)


def test_the_account_page_summarises_the_factors(app, client, login_as, trainer, clock):
    login_as(trainer)
    page = client.get("/account/security").get_data(as_text=True)
    assert "Authenticator app: <strong>off</strong>" in page and 'href="/account/mfa"' in page
    enrol_totp(client)
    page = client.get("/account/security").get_data(as_text=True)
    assert "Authenticator app: <strong>on</strong>" in page and "Recovery codes left: <strong>10</strong>" in page
