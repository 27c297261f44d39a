"""Fixtures: a real Ralph LRS for the session, and an app configured to send to it."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.certification.conftest import at, content  # noqa: F401  (the fixture course, quiz and clock)
from tests.xapi.ralph_lrs import KEY, SECRET, RalphLRS, ensure_installed


@pytest.fixture(scope="session")
def ralph(tmp_path_factory) -> Iterator[RalphLRS]:
    ensure_installed()
    lrs = RalphLRS(tmp_path_factory.mktemp("ralph"))
    lrs.start()
    try:
        yield lrs
    finally:
        lrs.stop()


@pytest.fixture
def lrs(app, ralph: RalphLRS) -> RalphLRS:
    """The app sends to Ralph; the LRS is running when the test starts (a test may stop it)."""
    if ralph.process is None:
        ralph.start()
    app.config.update(XAPI_LRS_URL=ralph.url, XAPI_LRS_KEY=KEY, XAPI_LRS_SECRET=SECRET)
    return ralph
