"""The issuer key that signs Open Badges and status lists, and the documents that publish it.

An ECDSA P-256 key (ES256) in a PEM file at BADGE_KEY_PATH. Its key id is its RFC 7638 JWK
thumbprint, so a new key gets a new id by itself. Public keys of retired issuer keys (PEM files
listed in BADGE_RETIRED_KEYS, comma-separated) stay in the JWKS and the DID document, so
credentials they signed keep verifying after a rotation. Outside production a missing key is
created on first use, like the development PDF signing key; production must provide one.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from joserfc.jwk import ECKey

from lms.addresses import base_url
from lms.config import INSTANCE_DIR

ALGORITHM = "ES256"


class IssuerKeyMissing(RuntimeError):
    """Production has no badge key configured; nothing is signed with a key made up on the spot."""


@dataclass(frozen=True)
class IssuerKey:
    key: ECKey
    kid: str

    @property
    def public_jwk(self) -> dict[str, Any]:
        return {**self.key.as_dict(private=False), "kid": self.kid, "alg": ALGORITHM, "use": "sig"}


def key_path() -> Path:
    return Path(current_app.config.get("BADGE_KEY_PATH")
                or os.environ.get("BADGE_KEY_PATH", INSTANCE_DIR / "signing" / "badge-es256.pem"))


def _retired_paths() -> tuple[Path, ...]:
    value = current_app.config.get("BADGE_RETIRED_KEYS") or os.environ.get("BADGE_RETIRED_KEYS", "")
    return tuple(Path(part.strip()) for part in str(value).split(",") if part.strip())


def create_key_file(path: Path) -> None:
    """Write a new P-256 key, readable by its owner only; an existing file is left alone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    # O_EXCL: two workers starting at once must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def load_key(path: Path) -> IssuerKey:
    """The key in a PEM file (read once per file version: a replaced file is read again)."""
    return _load(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> IssuerKey:
    key = ECKey.import_key(Path(path).read_bytes())
    return IssuerKey(key, key.thumbprint())


def issuer_key() -> IssuerKey:
    """The current signing key (created outside production when missing)."""
    path = key_path()
    if not path.exists():
        if current_app.config.get("ENV_NAME") == "production":
            raise IssuerKeyMissing(f"No Open Badges issuer key at {path}: set BADGE_KEY_PATH "
                                   "(create one with `flask --app wsgi credentials key`).")
        create_key_file(path)
    return load_key(path)


def published_keys() -> list[IssuerKey]:
    """The current key first, then the retired ones still trusted for verification."""
    keys = [issuer_key()]
    keys.extend(load_key(path) for path in _retired_paths())
    return keys


def key_by_id(kid: str) -> IssuerKey | None:
    return next((key for key in published_keys() if key.kid == kid), None)


def issuer_did() -> str:
    """did:web for BASE_URL's host (a port is percent-encoded, as did:web says)."""
    return "did:web:" + quote(urlsplit(base_url()).netloc, safe="")


def verification_method(kid: str) -> str:
    return f"{issuer_did()}#{kid}"


def jwks() -> dict[str, Any]:
    return {"keys": [key.public_jwk for key in published_keys()]}


def did_document() -> dict[str, Any]:
    """The did:web document: every published key as a JsonWebKey assertion method."""
    did = issuer_did()
    methods = [{"id": verification_method(key.kid), "type": "JsonWebKey", "controller": did,
                "publicKeyJwk": key.public_jwk} for key in published_keys()]
    return {"@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1"],
            "id": did, "verificationMethod": methods,
            "assertionMethod": [method["id"] for method in methods]}
