"""The crawl's site: the `app` fixture of tests/conftest.py with the crawl's world in it, served by
the live server of tests/browser/conftest.py to the session's Chromium."""
from __future__ import annotations

import pytest

from lms.config import PROJECT_ROOT
from tests.accessibility import world
from tests.browser.conftest import live_server  # noqa: F401  (a fixture)


@pytest.fixture
def crawl_world(app) -> world.World:
    app.config.update(
        # The crawl signs in a dozen times from one address, and reaches the second step of signing
        # in once per language: not an attack to throttle.
        LOGIN_LIMIT_PER_IP="10000 per minute", LOGIN_LIMIT_PER_ACCOUNT="10000 per minute",
        MFA_VERIFY_LIMIT="10000 per minute",
        # Each page would otherwise revalidate the stylesheets, scripts and images it shares with the
        # last one: hundreds of requests that change nothing on the page.
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    return world.build(PROJECT_ROOT)
