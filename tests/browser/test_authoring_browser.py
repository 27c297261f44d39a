"""Authoring in Chromium: a trainer writes a course with a lesson (typed in the Markdown editor)
and an uploaded image, publishes it, and finds it in the version history."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from lms.accounts.models import Role
from lms.extensions import db
from lms.learning.sync import load_content
from tests import factories
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

FIXTURE = Path(__file__).resolve().parents[1] / "content" / "fixtures" / "valid"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 30), (15, 92, 115)).save(out, "PNG")
    return out.getvalue()


def test_a_trainer_writes_and_publishes_a_course_with_an_image(app, page):
    load_content(FIXTURE)  # a published quiz the course can close with
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    csp_errors: list[str] = []
    page.on("console", lambda message: csp_errors.append(message.text)
            if "Content Security Policy" in message.text else None)
    sign_in(page, trainer.email, factories.PASSWORD)

    page.locator("summary", has_text="Content").click()  # the header's menu (#19)
    page.get_by_role("link", name="Authoring").click()
    page.get_by_role("button", name="New course").click()
    page.get_by_label("Title").fill("Card payments on a recorded line")
    page.locator("summary", has_text="Advanced").click()  # the address, under Advanced, for a shorter one
    page.get_by_label("Course slug").fill("card-payments")
    page.get_by_label("Summary").fill("How to take a card payment without recording the card number.")
    page.get_by_label("Audience").fill("Agents on payment lines")
    page.get_by_label("Estimated minutes").fill("10")
    page.get_by_label("During the call").check()
    page.get_by_label("Closing quiz").select_option("recording-calls")
    page.get_by_label("Key points").fill("Pause the recording before the card number.")
    page.get_by_role("button", name="Create course draft").click()

    page.get_by_label("Title").fill("Pause the recording")  # its id, pause-the-recording, comes from it
    page.get_by_label("Call phase").select_option("during")
    page.get_by_label("Minutes").fill("5")
    page.get_by_label("References").fill("Art. 32(1)\nArt. 5(1)(c)")
    page.get_by_label("Key points").fill("Never let the card number reach the recording.")
    buttons = page.get_by_role("toolbar").get_by_role("button")
    expect(buttons.first).to_be_visible()  # the editor's script builds the toolbar after the page loads
    assert buttons.count() >= 8
    for index in range(buttons.count()):  # every toolbar button is reachable with Tab
        assert buttons.nth(index).get_attribute("tabindex") == "0"
    editor = page.locator(".CodeMirror")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("## Before the card number (Art. 32(1))\n\nPress **pause** before the caller reads it out.\n")

    # The live preview comes from the server's sanitiser, not from a script in the page.
    preview = page.locator("#live-preview")
    expect_text = preview.get_by_role("heading", name="Before the card number (Art. 32(1))")
    expect_text.wait_for()
    assert preview.locator("strong", has_text="pause").count() == 1

    page.get_by_label("Image (PNG or JPEG, at most 2 MB)").set_input_files(
        files=[{"name": "pause-button.png", "mimeType": "image/png", "buffer": _png()}])
    page.get_by_label("Alternative text").fill("The pause button on the agent's phone")
    page.get_by_role("button", name="Upload image").click()
    page.locator("#image-status", has_text="Image added").wait_for()
    preview.get_by_role("img", name="The pause button on the agent's phone").wait_for()
    assert re.search(r"!\[The pause button on the agent's phone\]\(img/[0-9a-f]{16}\.png\)",
                     page.locator("textarea#body").input_value())

    page.get_by_role("button", name="Add lesson").click()
    page.get_by_text("Lesson added.").wait_for()

    page.get_by_role("link", name="Check and publish").click()
    page.get_by_text("Content check finds no problems").wait_for()
    page.get_by_role("button", name="Publish new version").click()
    # Publishing lands on the course as agents now see it (#19).
    page.get_by_role("heading", name="Card payments on a recorded line", level=1).wait_for()
    assert page.url.endswith("/courses/card-payments")
    page.goto("/authoring/course/card-payments/versions")
    row = page.locator("tbody tr", has_text="Version 1")
    assert "current" in row.inner_text() and trainer.name in row.inner_text()  # who published it

    # What agents now read: the published lesson with its image served from the version.
    page.goto("/courses/card-payments/lessons/pause-the-recording")
    image = page.get_by_role("img", name="The pause button on the agent's phone")
    assert image.evaluate("img => img.complete && img.naturalWidth") == 60
    assert csp_errors == []
