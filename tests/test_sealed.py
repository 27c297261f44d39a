"""Secrets sealed at rest (lms/sealed.py): each purpose keeps the key its values were stored
under, and no purpose's key opens another's."""
from __future__ import annotations

import base64

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from lms.mfa import crypto as mfa_crypto
from lms.sso import crypto as sso_crypto
from lms.webhooks import signing as webhook_signing

# (module, its root setting, salt, label) exactly as values were stored before lms/sealed.py.
PURPOSES = [(mfa_crypto, "MFA_ENCRYPTION_KEY", b"callsafe-mfa", b"totp-secret-encryption"),
            (sso_crypto, "SSO_ENCRYPTION_KEY", b"callsafe-sso", b"oidc-client-secret-encryption"),
            (webhook_signing, "WEBHOOKS_ENCRYPTION_KEY", b"callsafe-webhooks", b"webhook-signing-secret-encryption")]


@pytest.mark.parametrize("module, setting, salt, label", PURPOSES)
def test_values_stored_under_the_earlier_key_still_open(app, module, setting, salt, label):
    with app.app_context():
        for root in (None, "a-dedicated-root-key"):
            app.config[setting] = root
            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=label).derive(
                (root or app.config["SECRET_KEY"]).encode())
            stored = Fernet(base64.urlsafe_b64encode(key)).encrypt(b"s3cret").decode()
            assert module.decrypt(stored) == "s3cret"
            assert module.decrypt(module.encrypt("another")) == "another"


def test_one_purposes_value_does_not_open_with_another(app):
    with app.app_context():
        with pytest.raises(ValueError, match="client secret cannot be decrypted"):
            sso_crypto.decrypt(mfa_crypto.encrypt("totp-seed"))
