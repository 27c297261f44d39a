"""Exports in Chromium: a partner-scoped auditor starts a certificates ZIP, watches the progress
bar fill as the worker thread runs it, and downloads the ZIP."""
from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import expect

from lms.accounts.models import Role
from lms.extensions import db
from lms.jobs.runner import ThreadRunner, runner_for
from tests import factories
from tests.browser.conftest import sign_in
from tests.certification.conftest import at, content  # noqa: F401 (fixtures)
from tests.jobs.test_exports import certified  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def worker_thread(app: Flask) -> Iterator[ThreadRunner]:
    """The default runner, as in production: jobs run in a worker thread of the server."""
    app.config["JOBS_RUNNER"] = "thread"
    runner = runner_for(app)
    yield runner
    runner.shutdown()


def test_an_auditor_exports_the_certificates_of_their_partner(app, certified, worker_thread, page):
    auditor = factories.user(Role.AUDITOR, scope=certified["partner"], email="auditor@example.org")
    db.session.commit()
    sign_in(page, auditor.email, factories.PASSWORD)
    page.locator("summary", has_text="Evidence").click()  # the header's menu (#19)
    page.get_by_role("link", name="Exports").first.click()
    page.get_by_label("All certificates (ZIP with manifest)").check()
    organisations = page.get_by_label("Organisation").locator("option").all_inner_texts()
    assert organisations == ["Atlas Care"]  # the auditor's scope, nothing else
    page.get_by_role("button", name="Start export").click()

    progress = page.locator("progress#job-progress")
    progress.wait_for()
    # exports.js polls the status and reloads the page once the job is done.
    page.get_by_text("Done: 2 of 2.").wait_for(timeout=30_000)
    assert progress.get_attribute("value") == "100"
    expect(page.get_by_role("heading", name="State: Ready")).to_be_visible()

    with page.expect_download() as info:
        page.get_by_role("link", name="Download certificates-atlas-care.zip").click()
    download = info.value
    assert download.suggested_filename == "certificates-atlas-care.zip"
    archive = zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes()))
    names = archive.namelist()
    assert "manifest.csv" in names and "manifest.json" in names
    assert len([n for n in names if n.endswith(".pdf")]) == 2
