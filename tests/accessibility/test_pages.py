"""Every page, as every role, in every language, on desktop and phone: axe-core's WCAG 2.0, 2.1 and
2.2 A and AA rules, and the Nu HTML Checker (#19).

The crawl is marked `crawl` (1,265 page loads, eleven to eighteen minutes alone): `pytest -m crawl`
runs it alone. It is one test per language, so that the suite's two workers share it (make test
runs pytest-xdist with --dist worksteal: a worker that runs out of tests takes some of the other's).
It needs no particular database, so CI runs it on SQLite only. The test that every GET endpoint is
crawled or excluded runs with everything else, in a second.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from flask import Flask

from lms.accounts.locale_defaults import LANGUAGE_NAMES
from lms.config import PROJECT_ROOT
from tests.accessibility import checkers
from tests.accessibility.browsing import run_axe
from tests.accessibility.crawl import SIDEWAYS, STICKING_OUT, VIEWPORTS, crawl
from tests.accessibility.pages import AUDIENCES, EXCLUDED, PAGES
from tests.conftest import make_app


def _get_endpoints(app: Flask) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}


def test_every_get_endpoint_is_crawled_or_excluded():
    endpoints = _get_endpoints(make_app())
    crawled = {page.endpoint for page in PAGES if page.endpoint is not None}
    unknown = sorted(endpoints - crawled - EXCLUDED.keys())
    assert not unknown, ("GET endpoints neither crawled nor excluded: add each to PAGES in "
                         f"tests/accessibility/pages.py, or to EXCLUDED with the reason: {unknown}")
    assert not sorted(crawled & EXCLUDED.keys()), "an endpoint is both crawled and excluded"
    assert not sorted((crawled | EXCLUDED.keys()) - endpoints), "pages.py names endpoints the app no longer has"


def test_the_table_would_catch_a_new_page():
    app = make_app()
    app.add_url_rule("/reports/new-page", "reports.new_page", lambda: "a page")
    crawled = {page.endpoint for page in PAGES if page.endpoint is not None}
    assert "reports.new_page" in _get_endpoints(app) - crawled - EXCLUDED.keys()


def test_every_breadcrumb_trail_is_drawn_as_one():
    """Pico draws the separators only for aria-label="breadcrumb", which a translated label never
    is: static/css/app.css draws them for nav.breadcrumb, so every trail needs the class."""
    unstyled = [f"{path.relative_to(PROJECT_ROOT)}: {tag}" for path in sorted((PROJECT_ROOT / "templates").rglob("*.html"))
                for tag in re.findall(r"<nav\b[^>]*_\('Breadcrumb'\)[^>]*>", path.read_text(encoding="utf-8"))
                if 'class="breadcrumb"' not in tag]
    assert not unstyled, unstyled


@pytest.mark.crawl
def test_the_checkers_find_what_they_are_for(browser, tmp_path: Path):
    """axe, the reflow check and vnu.jar, wired as the crawl uses them, on pages with faults of each kind."""
    checkers.install()
    page = ('<!doctype html><html lang="en"><head><title>Faults</title></head><body><main><h1>Faults</h1>'
            '<img src="data:,"><input id="reason"><label for="reason">Reason</label><input id="reason">'
            '</main></body></html>')
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.set_content(page)
        tab.add_script_tag(path=checkers.AXE_SCRIPT)  # no Content-Security-Policy on this page
        [violations] = run_axe([tab])
    finally:
        context.close()
    assert {v.rule for v in violations} >= {"image-alt"}, violations
    assert next(v for v in violations if v.rule == "image-alt").targets == ("img",)
    context = browser.new_context(viewport=VIEWPORTS["phone"])
    try:
        tab = context.new_page()
        tab.set_content('<!doctype html><html lang="en"><body><p style="width: 600px">Too wide</p></body></html>')
        assert tab.evaluate(SIDEWAYS) == 600 + 8 - VIEWPORTS["phone"]["width"]  # with the body's 8 px margin
        assert tab.evaluate(STICKING_OUT) == ["body > p"]
        tab.set_content('<!doctype html><html lang="en"><body><div style="overflow: auto"><p style="width: 600px">'
                        'In its own scrolling box</p></div></body></html>')
        assert tab.evaluate(SIDEWAYS) == 0
        # Text hidden for the eye but kept for screen readers (position: absolute) escapes a scrolling
        # box that is not its containing block, and widens the page from where its cell lies.
        hidden = ('<span class="visually-hidden" style="position: absolute; width: 1px; height: 1px; '
                  'overflow: hidden; clip: rect(0 0 0 0)">Actions</span>')
        tab.set_content('<!doctype html><html lang="en"><body><div class="wide" style="overflow: auto">'
                        f'<table style="width: 600px"><tr><td style="width: 550px">Wide</td><td>{hidden}</td></tr>'
                        '</table></div></body></html>')
        assert tab.evaluate(SIDEWAYS) > 0
        assert tab.evaluate(STICKING_OUT) == ["td > span.visually-hidden"]
        tab.evaluate("() => { document.querySelector('.wide').style.position = 'relative'; }")
        assert tab.evaluate(SIDEWAYS) == 0
        # A left-to-right list in a right-to-left page: its markers hang past the window's edge.
        tab.set_content('<!doctype html><html lang="ar" dir="rtl"><body style="margin: 0"><section><ul style="margin: 0">'
                        '<li lang="en" dir="ltr">Encryption at rest</li></ul></section></body></html>')
        assert tab.evaluate(SIDEWAYS) > 0
        assert tab.evaluate(STICKING_OUT) == ["section > ul"]
    finally:
        context.close()
    saved = tmp_path / "faults.html"
    saved.write_text(page)
    errors = checkers.html_errors([saved])
    assert {(error.file, error.line) for error in errors} == {(saved, 1)}
    assert sorted(error.message.split(",")[0] for error in errors) == [
        "An “img” element must have an “alt” attribute", "Duplicate ID “reason”."]


@pytest.mark.crawl
@pytest.mark.parametrize("language", tuple(LANGUAGE_NAMES))
def test_every_page_passes_axe_and_the_html_checker(language, app, crawl_world, live_server, browser, tmp_path: Path):
    assert language in app.config["LANGUAGES"]
    checkers.install()
    html_dir = tmp_path / "html"
    html_dir.mkdir()
    started = time.perf_counter()
    report = crawl(app, browser, live_server, crawl_world, AUDIENCES, (language,), html_dir)
    print(f"crawl: {report.loads} page loads, each checked at {len(VIEWPORTS)} widths, "
          f"{len(report.html_files)} HTML files validated, in {time.perf_counter() - started:.0f} s ("
          + ", ".join(f"{part} {seconds:.0f} s" for part, seconds in report.seconds.items()) + ")")
    missed = sorted({page.endpoint for page in PAGES if page.endpoint} - report.crawled)
    problems = report.problems + [f"PAGE | {endpoint}: never reached as the expected page" for endpoint in missed]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(sorted(problems))
