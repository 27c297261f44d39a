"""A webhook receiver to watch the app's deliveries in development (`flask lms demo-receiver`).

It registers (or, on later runs, rotates the secret of) a company-wide endpoint for every event
type at http://127.0.0.1:<port>/hooks, then serves that address and prints each delivery as it
arrives, with whether its signature verified. Verification is the README's recipe (Standard
Webhooks: HMAC-SHA256 over "{id}.{timestamp}.{body}", timestamps within five minutes), written
here with the standard library, not with the app's signing code.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import select

from lms.extensions import db
from lms.webhooks.endpoints import create_endpoint, rotate_secret
from lms.webhooks.models import EVENT_TYPES, WebhookEndpoint

DESCRIPTION = "Demo receiver (flask lms demo-receiver)"
TOLERANCE_SECONDS = 300


def demo_endpoint(port: int) -> tuple[WebhookEndpoint, str]:
    """The demo receiver's endpoint and a signing secret for it: a new endpoint, or a new secret for
    the one a previous run registered (its old secret stays valid during the rotation overlap)."""
    url = f"http://127.0.0.1:{port}/hooks"
    endpoint = db.session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.url == url,
                                                               WebhookEndpoint.description == DESCRIPTION))
    if endpoint is None:
        return create_endpoint(None, url, DESCRIPTION, list(EVENT_TYPES), None)
    return endpoint, rotate_secret(None, endpoint)


def verified(secret: str, headers: dict[str, str], body: bytes, at: float | None = None) -> bool:
    """Whether a delivery carries a valid signature by `secret` and a timestamp within tolerance."""
    try:
        timestamp = int(headers.get("webhook-timestamp", ""))
    except ValueError:
        return False
    if abs((time.time() if at is None else at) - timestamp) > TOLERANCE_SECONDS:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers.get('webhook-id', '')}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(signature.partition(",")[2], expected)
               for signature in headers.get("webhook-signature", "").split())


def describe(body: bytes) -> str:
    """One line for a delivery: its type and what it is about."""
    try:
        event = json.loads(body)
        data = event.get("data", {})
    except (ValueError, AttributeError):
        return f"(not JSON: {body[:80]!r})"
    about = ", ".join(f"{key} {data[key]}" for key in ("agent_id", "employee_id", "programme", "status",
                                                         "certificate_code") if data.get(key) is not None)
    return f"{event.get('type', '?')}: {about}" if about else str(event.get("type", "?"))


class Receiver(ThreadingHTTPServer):
    """Answers POST /hooks on 127.0.0.1: 200 for a delivery signed with `secret`, 401 otherwise (so the
    app retries, and its endpoint page says why), and echoes a line for each."""

    def __init__(self, port: int, echo: Callable[[str], None], secret: str = "") -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.echo, self.secret = echo, secret

    @property
    def port(self) -> int:
        return self.server_address[1]


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        ok = self.path == "/hooks" and verified(self.server.secret, headers, body)
        self.server.echo(f"{time.strftime('%H:%M:%S')} {'verified' if ok else 'REJECTED'} "
                         f"{headers.get('webhook-id', '-')} {describe(body)}")
        self.send_response(200 if ok else 401)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass  # each delivery is echoed by do_POST
