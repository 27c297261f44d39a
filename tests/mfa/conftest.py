"""Helpers for second-factor tests: enrol through the real pages, and codes as an app would show them."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pyotp
import pytest

from lms.clock import now, set_now
from tests.conftest import csrf_token


@pytest.fixture
def clock():
    """A clock the test moves (lms.clock), put back afterwards."""
    moment = [now().replace(microsecond=0)]
    set_now(moment[0])

    def move(seconds: int = 0):
        moment[0] += timedelta(seconds=seconds)
        set_now(moment[0])
        return moment[0]

    yield move
    set_now(None)


def code_at(secret: str, offset_steps: int = 0) -> str:
    """The code an authenticator app shows now (by lms.clock), or `offset_steps` steps away."""
    return pyotp.TOTP(secret).at(now() + timedelta(seconds=30 * offset_steps))


def enrol_totp(client) -> tuple[str, list[str]]:
    """Set up an authenticator app for the signed-in user; returns the secret and the recovery codes."""
    page = client.get("/account/mfa/totp").get_data(as_text=True)
    secret = re.search(r'class="totp-secret"[^>]*>([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    token = csrf_token(client, "/account/mfa/totp")
    done = client.post("/account/mfa/totp", data={"code": code_at(secret), "csrf_token": token})
    assert done.status_code == 200, done.get_data(as_text=True)[:300]
    codes = re.findall(r"<li><code>([a-z2-7-]+)</code></li>", html.unescape(done.get_data(as_text=True)))
    assert len(codes) == 10
    return secret, codes


def submit_code(client, code: str, next_path: str = ""):
    token = csrf_token(client, "/login/verify")
    return client.post("/login/verify" + (f"?next={next_path}" if next_path else ""),
                       data={"code": code, "csrf_token": token})


def sign_out(client) -> None:
    token = csrf_token(client, "/account/mfa")
    client.post("/logout", data={"csrf_token": token})
