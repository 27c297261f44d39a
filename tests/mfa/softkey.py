"""A software authenticator: answers WebAuthn options as a platform authenticator would
(ES256, "none" attestation, user presence and verification), so the server's checks can be
tested without a browser. tests/browser/test_mfa_browser.py uses Chromium's own."""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.credentials: dict[bytes, dict] = {}  # credential id -> key, rp id, user handle, counter

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin,
                           "crossOrigin": False}).encode()

    def create(self, options: dict, origin: str | None = None) -> dict:
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        cred_id = secrets.token_bytes(16)
        rp_id = options["rp"]["id"]
        self.credentials[cred_id] = {"key": key, "rp_id": rp_id, "user": unb64url(options["user"]["id"]), "count": 0}
        auth_data = (hashlib.sha256(rp_id.encode()).digest() + bytes([0x01 | 0x04 | 0x40]) + struct.pack(">I", 0)
                     + bytes(16) + struct.pack(">H", len(cred_id)) + cred_id + cose)
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return {"id": b64url(cred_id), "rawId": b64url(cred_id), "type": "public-key",
                "clientExtensionResults": {}, "authenticatorAttachment": "platform",
                "response": {"clientDataJSON": b64url(client_data), "transports": ["internal"],
                             "attestationObject": b64url(cbor2.dumps({"fmt": "none", "attStmt": {},
                                                                      "authData": auth_data}))}}

    def get(self, options: dict, origin: str | None = None, count_step: int = 1) -> dict:
        allowed = [unb64url(c["id"]) for c in options.get("allowCredentials") or []]
        cred_id = next(c for c in self.credentials if not allowed or c in allowed)
        cred = self.credentials[cred_id]
        cred["count"] += count_step
        auth_data = hashlib.sha256(cred["rp_id"].encode()).digest() + bytes([0x01 | 0x04]) + struct.pack(">I", cred["count"])
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = cred["key"].sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {"id": b64url(cred_id), "rawId": b64url(cred_id), "type": "public-key", "clientExtensionResults": {},
                "response": {"clientDataJSON": b64url(client_data), "authenticatorData": b64url(auth_data),
                             "signature": b64url(signature), "userHandle": b64url(cred["user"])}}
