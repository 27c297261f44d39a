"""A signing key for the sealer (a development key in the test's own directory)."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from lms.evidence.signing import ensure_dev_key


@pytest.fixture
def signing_key(app: Flask, tmp_path: Path) -> bytes:
    """Configure a fresh signing key and certificate; returns the certificate (PEM)."""
    key, cert = tmp_path / "signing" / "key.pem", tmp_path / "signing" / "cert.pem"
    ensure_dev_key(key, cert)
    app.config.update(SIGNING_KEY_PATH=key, SIGNING_CERT_PATH=cert, SIGNING_KEY_PASSPHRASE=None, SIGNING_KEY_ID=None)
    return cert.read_bytes()
