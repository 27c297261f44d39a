"""A real OpenID Provider for the SSO tests: panva's oidc-provider (tests/sso/provider), installed
with `npm ci` when its node_modules is missing, started on a free port for one test and stopped
after it; and a live app server whose BASE_URL is its own address, since the redirect URI the
provider checks is built from BASE_URL.

Without Node.js these tests skip with a reason, unless LMS_REQUIRE_BROWSER=1 (CI), where they fail.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.live_server import serving


PROVIDER_DIR = Path(__file__).resolve().parent / "provider"
CLIENT_ID, CLIENT_SECRET = "callsafe-test", "test-client-secret-4f9a1c"
ACCOUNTS = {
    "nadia": {"email": "nadia@atlascare.example", "name": "Nadia Benali", "groups": ["atlas-agents"]},
    "omar": {"email": "omar@atlascare.example", "name": "Omar Idrissi", "groups": ["atlas-agents", "atlas-trainers"]},
    "intruder": {"email": "ceo@northwind.example", "name": "Not Atlas", "groups": []},
}


def _unavailable(reason: str) -> None:
    if os.environ.get("LMS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"the OpenID Provider is required here but cannot run: {reason}")
    pytest.skip(f"OpenID Provider tests skipped: {reason}")


def install_provider() -> None:
    """`npm ci` from the pinned package-lock.json, once per checkout."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        _unavailable("Node.js (node and npm) not found")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PROVIDER_DIR, check=True, timeout=600,
                       stdout=subprocess.DEVNULL)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Provider:
    issuer: str
    client_id: str
    client_secret: str

    def set_mode(self, **body: str) -> None:
        """The test hooks of server.js: id_token="tamper"|"expire"|"normal", disable="<login>"."""
        request = urllib.request.Request(self.issuer + "/__test/mode", data=json.dumps(body).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()


@pytest.fixture
def sso_server(app) -> Iterator[str]:
    with serving(app) as (host, port):
        app.config["BASE_URL"] = f"http://{host}:{port}"
        yield app.config["BASE_URL"]


@pytest.fixture
def provider(sso_server: str, tmp_path: Path) -> Iterator[Provider]:
    install_provider()
    port = _free_port()
    config = tmp_path / "provider.json"
    config.write_text(json.dumps({
        "clients": [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                     "redirect_uris": [f"{sso_server}/sso/callback"],
                     "post_logout_redirect_uris": [f"{sso_server}/sso/signed-out"]}],
        "accounts": ACCOUNTS,
    }))
    log = (tmp_path / "provider.log").open("w")
    process = subprocess.Popen(["node", "server.js", str(config)], cwd=PROVIDER_DIR, stdout=log,
                               stderr=subprocess.STDOUT, env={**os.environ, "PORT": str(port), "OIDC_TEST_HOOKS": "1"})
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(issuer + "/.well-known/openid-configuration", timeout=2) as r:
                    if json.load(r)["issuer"] == issuer:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the OpenID Provider did not start: "
                                       + (tmp_path / "provider.log").read_text()) from None
                time.sleep(0.2)
        yield Provider(issuer, CLIENT_ID, CLIENT_SECRET)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def sso_page(browser, sso_server):  # the session's Chromium (tests/conftest.py)
    context = browser.new_context(base_url=sso_server)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
