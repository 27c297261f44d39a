"""Second-factor rules: who must use one, TOTP, recovery codes and passkeys.

Services take the person acting as an argument, flush, and never commit: the view
commits once per request. Audit events never carry a secret, a code or a challenge.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pyotp
import webauthn
from flask import current_app, session
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from lms.accounts.models import LoginSession, Organisation, Role, User
from lms.accounts.services import cookie_token_digest, end_all_sessions
from lms.addresses import base_url
from lms.audit.services import record
from lms.clock import now
from lms.extensions import db
from lms.mfa import crypto
from lms.mfa.models import Passkey, RecoveryCode, TotpFactor, WebAuthnChallenge

TOTP_STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10
CHALLENGE_SECONDS = 300
ISSUER = "CallSafe Academy"


class MfaError(ValueError):
    """A second-factor request that cannot be honoured; the message is shown to the user."""


# ---- who must use a second factor ---------------------------------------------------

def parse_roles(value: str) -> frozenset[str]:
    """ "admin, auditor" -> {"admin", "auditor"}; unknown names are refused, not ignored."""
    roles = frozenset(part.strip().lower() for part in (value or "").split(",") if part.strip())
    unknown = roles - {role.value for role in Role}
    if unknown:
        raise ValueError(f"not a role: {', '.join(sorted(unknown))}")
    return roles


def _config_roles() -> frozenset[str]:
    roles = current_app.extensions.get("lms.mfa_config_roles")
    if roles is None:
        roles = current_app.extensions["lms.mfa_config_roles"] = parse_roles(
            current_app.config.get("MFA_REQUIRED_ROLES", ""))
    return roles


def _organisation_roles() -> dict[int, frozenset[str]]:
    """Roles each organisation requires MFA for, read at most every MFA_SETTINGS_CACHE_SECONDS.

    The requirement is checked on every request; reading it from a per-worker copy keeps that
    free for the people who need no second factor. Saving an organisation clears this worker's
    copy at once (forget_organisation_roles); other workers see the change within the period.
    """
    cached = current_app.extensions.get("lms.mfa_org_roles")
    if cached is not None and time.monotonic() - cached[0] < current_app.config["MFA_SETTINGS_CACHE_SECONDS"]:
        return cached[1]
    rows = db.session.execute(select(Organisation.id, Organisation.mfa_required_roles)
                              .where(Organisation.mfa_required_roles != "")).all()
    by_org = {org_id: parse_roles(roles) for org_id, roles in rows}
    current_app.extensions["lms.mfa_org_roles"] = (time.monotonic(), by_org)
    return by_org


def forget_organisation_roles() -> None:
    """Drop this worker's copy of the organisations' settings (after saving one)."""
    current_app.extensions.pop("lms.mfa_org_roles", None)


def mfa_required(role: Role | str, organisation_id: int) -> bool:
    """Whether a person with this role in this organisation must pass a second factor.

    MFA_REQUIRED_ROLES applies everywhere; an organisation's setting adds roles for its people.
    """
    role = Role(role).value
    return role in _config_roles() or role in _organisation_roles().get(organisation_id, ())


def session_second_factor() -> str | None:
    """How this request's session passed its second step ("totp", "recovery", "passkey"), or None."""
    return db.session.scalar(select(LoginSession.second_factor)
                             .where(LoginSession.token_hash == cookie_token_digest()))


def mark_session(second_factor: str) -> None:
    """Record on this request's session that a second factor was passed (enrolment, step-up)."""
    db.session.execute(update(LoginSession).where(LoginSession.token_hash == cookie_token_digest())
                       .values(second_factor=second_factor))


def has_factor(user: User) -> bool:
    """A confirmed authenticator app or at least one passkey."""
    return bool(db.session.scalar(select(func.count()).select_from(TotpFactor).where(
        TotpFactor.user_id == user.id, TotpFactor.confirmed_at.is_not(None)))
        or db.session.scalar(select(func.count()).select_from(Passkey).where(Passkey.user_id == user.id)))


@dataclass
class FactorSummary:
    totp: bool
    passkeys: list[Passkey]
    recovery_codes_left: int


def summary(user: User) -> FactorSummary:
    """What the person has enrolled, for their account page."""
    totp = db.session.scalar(select(TotpFactor).where(TotpFactor.user_id == user.id))
    passkeys = list(db.session.scalars(select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.id)))
    left = db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))
    return FactorSummary(totp=bool(totp and totp.confirmed_at), passkeys=passkeys, recovery_codes_left=left)


# ---- TOTP -------------------------------------------------------------------------

def _step() -> int:
    return int(now().timestamp()) // TOTP_STEP_SECONDS


def start_totp(user: User) -> str:
    """Begin (or begin again) enrolling an authenticator app; returns the new secret.

    Until it is confirmed with a code it counts for nothing, so starting over is harmless.
    """
    factor = db.session.scalar(select(TotpFactor).where(TotpFactor.user_id == user.id))
    if factor is not None and factor.confirmed_at is not None:
        raise MfaError(_("An authenticator app is already set up. Remove it first to set up another."))
    secret = pyotp.random_base32()
    if factor is None:
        factor = TotpFactor(user_id=user.id, secret_encrypted=crypto.encrypt(secret))
        db.session.add(factor)
    else:
        factor.secret_encrypted = crypto.encrypt(secret)
        factor.created_at = now()
    db.session.flush()
    return secret


def pending_totp_secret(user: User) -> str | None:
    """The secret of an enrolment not yet confirmed, to show again after a wrong code."""
    factor = db.session.scalar(select(TotpFactor).where(TotpFactor.user_id == user.id,
                                                        TotpFactor.confirmed_at.is_(None)))
    return crypto.decrypt(factor.secret_encrypted) if factor else None


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _matching_step(secret: str, code: str, after: int | None) -> int | None:
    """The time step (now, or one either side for clock drift) whose code this is, if newer than `after`."""
    totp = pyotp.TOTP(secret)
    current = _step()
    for step in (current - 1, current, current + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_step(factor: TotpFactor, step: int) -> bool:
    """Claim the step in one conditional update, so two requests cannot both use one code."""
    claimed = db.session.execute(
        update(TotpFactor).where(TotpFactor.id == factor.id,
                                 or_(TotpFactor.last_used_step.is_(None), TotpFactor.last_used_step < step))
        .values(last_used_step=step).execution_options(synchronize_session=False))
    db.session.refresh(factor)
    return claimed.rowcount == 1


def confirm_totp(user: User, code: str) -> list[str]:
    """Confirm enrolment with a code from the app; returns fresh recovery codes (shown once)."""
    factor = db.session.scalar(select(TotpFactor).where(TotpFactor.user_id == user.id,
                                                        TotpFactor.confirmed_at.is_(None)))
    if factor is None:
        raise MfaError(_("Start again: this set-up has expired or is already done."))
    step = _matching_step(crypto.decrypt(factor.secret_encrypted), _digits(code), None)
    if step is None or not _use_step(factor, step):
        record("mfa.verify_failed", actor=user, method="totp", stage="enrolment")
        raise MfaError(_("That code is not right. Check the time on your phone and enter the code now shown."))
    factor.confirmed_at = now()
    record("mfa.totp_enrolled", actor=user)
    return regenerate_recovery_codes(user, audit=False)


def remove_totp(user: User) -> None:
    """Remove the authenticator app; recovery codes go too when no factor is left."""
    factor = db.session.scalar(select(TotpFactor).where(TotpFactor.user_id == user.id))
    if factor is None:
        return
    db.session.delete(factor)
    db.session.flush()
    record("mfa.totp_removed", actor=user)
    _drop_codes_if_no_factor(user)


def _digits(code: str) -> str:
    return re.sub(r"\s", "", code or "")


# ---- recovery codes ---------------------------------------------------------------

def _normalise_code(code: str) -> str:
    return re.sub(r"[^a-z2-7]", "", (code or "").lower())


def _code_hash(code: str) -> str:
    return hashlib.sha256(_normalise_code(code).encode()).hexdigest()


def regenerate_recovery_codes(user: User, *, audit: bool = True) -> list[str]:
    """Replace every recovery code with ten new ones (80 random bits each); returns them, once."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()
        codes.append("-".join(raw[i:i + 4] for i in range(0, 16, 4)))
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_code_hash(code)) for code in codes)
    db.session.flush()
    if audit:
        record("mfa.recovery_codes_regenerated", actor=user)
    return codes


def _drop_codes_if_no_factor(user: User) -> None:
    if not has_factor(user):
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def verify_code(user: User, code: str) -> str | None:
    """Check a six-digit app code or a recovery code; returns "totp" or "recovery", or None.

    A recovery code is used up by one conditional update, so it works once even when sent twice.
    """
    digits = _digits(code)
    if re.fullmatch(r"\d{6}", digits):
        factor = db.session.scalar(select(TotpFactor).where(TotpFactor.user_id == user.id,
                                                            TotpFactor.confirmed_at.is_not(None)))
        if factor is not None:
            step = _matching_step(crypto.decrypt(factor.secret_encrypted), digits, factor.last_used_step)
            if step is not None and _use_step(factor, step):
                record("mfa.verified", actor=user, method="totp")
                return "totp"
        record("mfa.verify_failed", actor=user, method="totp")
        return None
    used = db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _code_hash(code),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=now()).execution_options(synchronize_session=False))
    if used.rowcount != 1:
        record("mfa.verify_failed", actor=user, method="recovery")
        return None
    left = db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))
    record("mfa.recovery_code_used", actor=user, remaining=left)
    return "recovery"


# ---- passkeys (WebAuthn) ----------------------------------------------------------

def relying_party() -> tuple[str, str]:
    """(RP ID, origin) from BASE_URL: the browser's origin must be exactly the configured one."""
    base = urlsplit(base_url())
    return base.hostname or "", f"{base.scheme}://{base.netloc}"


def _new_challenge(purpose: str, user: User | None) -> bytes:
    db.session.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.expires_at < now()))
    challenge = secrets.token_bytes(32)
    row = WebAuthnChallenge(purpose=purpose, user_id=user.id if user else None, challenge=challenge,
                            expires_at=now() + timedelta(seconds=CHALLENGE_SECONDS))
    db.session.add(row)
    db.session.flush()
    session["webauthn_challenge"] = row.id
    return challenge


def _take_challenge(purpose: str, user: User | None) -> bytes:
    """The challenge this browser was given, deleted as it is read: a second use finds nothing."""
    row = db.session.get(WebAuthnChallenge, session.pop("webauthn_challenge", 0) or 0)
    if row is None or row.purpose != purpose or row.user_id != (user.id if user else None) \
            or row.expires_at < now():
        raise MfaError(_("This passkey request has expired. Try again."))
    challenge = row.challenge
    taken = db.session.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.id == row.id)
                               .execution_options(synchronize_session=False))
    db.session.expunge(row)
    if taken.rowcount != 1:
        raise MfaError(_("This passkey request has expired. Try again."))
    return challenge


def registration_options(user: User) -> str:
    """Options (JSON) for navigator.credentials.create: a discoverable credential with user verification."""
    rp_id = relying_party()[0]
    existing = db.session.scalars(select(Passkey.credential_id).where(Passkey.user_id == user.id))
    options = webauthn.generate_registration_options(
        rp_id=rp_id, rp_name=ISSUER, user_name=user.email, user_display_name=user.name,
        user_id=crypto.webauthn_user_handle(user.id), challenge=_new_challenge("register", user),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=webauthn.base64url_to_bytes(c)) for c in existing],
    )
    return webauthn.options_to_json(options)


def register_passkey(user: User, credential: dict[str, Any], name: str) -> Passkey:
    """Check the browser's answer to registration_options and keep the credential."""
    name = (name or "").strip()[:100] or "Passkey"
    rp_id, origin = relying_party()
    challenge = _take_challenge("register", user)
    try:
        verified = webauthn.verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id, expected_origin=origin,
            require_user_verification=True)
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as exc:
        record("mfa.verify_failed", actor=user, method="passkey", stage="registration", reason=str(exc)[:200])
        raise MfaError(_("The passkey could not be registered. Try again.")) from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.session.scalar(select(Passkey.id).where(Passkey.credential_id == credential_id)) is not None:
        raise MfaError(_("This passkey is already registered."))
    transports = credential.get("response", {}).get("transports") or []
    passkey = Passkey(user_id=user.id, name=name, credential_id=credential_id,
                      public_key=verified.credential_public_key, sign_count=verified.sign_count,
                      transports=",".join(str(t) for t in transports)[:200])
    db.session.add(passkey)
    db.session.flush()
    record("mfa.passkey_registered", actor=user, target=passkey, name=name)
    return passkey


def authentication_options(user: User | None) -> str:
    """Options (JSON) for navigator.credentials.get: the user's passkeys, or any (sign-in with a passkey)."""
    rp_id = relying_party()[0]
    allow = []
    if user is not None:
        allow = [PublicKeyCredentialDescriptor(id=webauthn.base64url_to_bytes(c))
                 for c in db.session.scalars(select(Passkey.credential_id).where(Passkey.user_id == user.id))]
    options = webauthn.generate_authentication_options(
        rp_id=rp_id, challenge=_new_challenge("second_factor" if user else "sign_in", user),
        allow_credentials=allow, user_verification=UserVerificationRequirement.REQUIRED)
    return webauthn.options_to_json(options)


def authenticate_passkey(credential: dict[str, Any], user: User | None) -> User:
    """Check an assertion: for `user` as a second factor, or (user None) as a sign-in on its own.

    User verification is required either way, so a passkey alone is two factors (the device
    and its PIN or biometric). The sign count must go up unless the authenticator keeps none.
    """
    rp_id, origin = relying_party()
    challenge = _take_challenge("second_factor" if user else "sign_in", user)
    passkey = db.session.scalar(select(Passkey).where(Passkey.credential_id == str(credential.get("id", ""))))
    if passkey is None or (user is not None and passkey.user_id != user.id):
        record("mfa.verify_failed", actor=user, method="passkey", reason="unknown credential")
        raise MfaError(_("This passkey is not registered here."))
    handle = (credential.get("response") or {}).get("userHandle")
    try:
        if user is None and (not handle or not hmac.compare_digest(
                webauthn.base64url_to_bytes(handle), crypto.webauthn_user_handle(passkey.user_id))):
            raise InvalidAuthenticationResponse("user handle does not match the credential")
        verified = webauthn.verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id, expected_origin=origin,
            credential_public_key=passkey.public_key, credential_current_sign_count=passkey.sign_count,
            require_user_verification=True)
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError) as exc:
        record("mfa.verify_failed", actor=passkey.user, method="passkey", reason=str(exc)[:200])
        raise MfaError(_("The passkey could not be checked. Try again.")) from None
    if not passkey.user.active:
        record("mfa.verify_failed", actor=passkey.user, method="passkey", reason="inactive")
        raise MfaError(_("This passkey is not registered here."))
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = now()
    record("auth.login" if user is None else "mfa.verified", actor=passkey.user, method="passkey",
           passkey_id=passkey.id)
    return passkey.user


def remove_passkey(user: User, passkey: Passkey) -> None:
    """Remove one of the user's own passkeys; recovery codes go too when no factor is left."""
    if passkey.user_id != user.id:
        raise MfaError(_("This passkey is not yours."))
    name = passkey.name
    db.session.delete(passkey)
    db.session.flush()
    record("mfa.passkey_removed", actor=user, target_type="passkey", target_id=passkey.id, name=name)
    _drop_codes_if_no_factor(user)


def reset_factors(actor: User, user: User) -> bool:
    """An admin removes every factor of someone who lost them all (app, passkeys and codes), and
    ends their sessions; they sign in with the password and enrol again. False if none was set."""
    if actor.id == user.id:
        raise MfaError(_("Manage your own second factors from your account page."))
    had = has_factor(user)
    for model in (TotpFactor, Passkey, RecoveryCode, WebAuthnChallenge):
        db.session.execute(delete(model).where(model.user_id == user.id))
    end_all_sessions(user)
    if had:
        record("mfa.reset_by_admin", actor=actor, target=user)
    return had


def parse_credential(body: str | bytes | None) -> dict[str, Any]:
    """The credential JSON the browser posted; MfaError for anything that is not an object."""
    try:
        value = json.loads(body or "")
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise MfaError(_("The passkey answer was not understood. Try again."))
    return value
