"""Live server + Debian's Chromium driven by Playwright.

The server runs the `app` fixture of tests/conftest.py (a file database, so the
server's threads and the test share it) in a thread. The session's Chromium itself
(`browser`) is defined in tests/conftest.py, once for every directory that drives it.

Without Chromium the browser tests skip with a reason, unless LMS_REQUIRE_BROWSER=1
(as in CI), where they fail instead.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live_server import serving


@pytest.fixture
def live_server(app) -> Iterator[str]:
    with serving(app) as (host, port):
        yield f"http://{host}:{port}"


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in", exact=True).click()  # not "Sign in with a passkey"
