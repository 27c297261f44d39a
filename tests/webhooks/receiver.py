"""A real webhook receiver for the tests: an HTTP server on an ephemeral port that verifies every
delivery with the `standardwebhooks` package (not the app's signing code) and records them in order."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Received:
    message_id: str
    payload: dict | None  # None when the signature did not verify
    signature: str


@dataclass
class Receiver:
    secret: str = ""
    fail_next: int = 0  # answer 500 to this many requests (forever when negative)
    received: list[Received] = field(default_factory=list)  # verified or not, in arrival order
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    @property
    def verified(self) -> list[dict]:
        return [r.payload for r in self.received if r.payload is not None]

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    payload = Webhook(receiver.secret).verify(body, dict(self.headers.items()))
                except WebhookVerificationError:
                    payload = None
                receiver.received.append(Received(self.headers.get("webhook-id", ""), payload,
                                                  self.headers.get("webhook-signature", "")))
                failing = receiver.fail_next != 0
                if receiver.fail_next > 0:
                    receiver.fail_next -= 1
                self.send_response(500 if failing else (200 if payload is not None else 401))
                self.end_headers()
                self.wfile.write(b"boom" if failing else b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
