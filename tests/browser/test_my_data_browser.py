"""My data in Chromium: an agent goes from her account page to My data, downloads the ZIP and
finds her own record in it."""
from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from lms.clock import now
from tests import factories
from tests.browser.conftest import sign_in
from tests.certification.conftest import at, content  # noqa: F401 (fixtures)
from tests.evidence.test_transcript import certified, signing_key  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_an_agent_downloads_her_data(certified, page):
    agent = certified["agent"]
    sign_in(page, agent.email, factories.PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Your account").click()
    page.get_by_role("link", name="My data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My data")
    expect(page.get_by_role("heading", name="What the ZIP holds")).to_be_visible()

    with page.expect_download() as info:
        page.get_by_role("button", name="Download my data (ZIP)").click()
    download = info.value
    assert download.suggested_filename == f"my-data-{now():%Y-%m-%d}.zip"
    archive = zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes()))
    assert {"my-data.json", "summary.pdf"} <= set(archive.namelist())
    data = json.loads(archive.read("my-data.json"))
    assert data["account"]["name"] == "Yasmine El Idrissi" and data["account"]["email"] == agent.email
    assert len(data["attempts"]) == 1 and data["attempts"][0]["passed"] is True
    assert len(data["awards"]) == 1
    assert archive.read("summary.pdf").startswith(b"%PDF-")
    # Still on the page that explains the download, with the account link marked current.
    assert re.search(r"/account/my-data$", page.url)
    current = page.get_by_role("navigation", name="Main").locator('[aria-current="page"]')
    assert current.inner_text() == "Your account"
