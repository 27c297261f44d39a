"""The crawl: every page of pages.PAGES, as each audience that may see it, in every language, on a
desktop and a phone viewport; axe-core on each, a check that the phone's page does not scroll
sideways, and the Nu HTML Checker on their HTML.

One browser context per audience lives for the whole crawl, signed in once; the language is the
person's `language` column, or the visitor's `lang` cookie, changed between rounds. Each page is
loaded once per audience and language and checked at both widths; its HTML (the viewport does not
change the markup) is saved, and all of it is validated in one run of vnu.jar at the end.
"""
from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.exceptions import HTTPException

from tests.accessibility import checkers
from tests.accessibility.browsing import run_axe, sign_in, visit
from tests.accessibility.pages import PAGES, VISITOR, Page
from tests.accessibility.world import World, add_admin_factors, set_language

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# Tabs per audience that load and check pages side by side (one browser context, so one session).
LANES = 3
# How many pixels a page is wider than the window (0 when it fits).
SIDEWAYS = "() => Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth)"
# What sticks out, as "parent > element" selectors, so that a problem line says what to fix: the
# outermost elements past either edge of the window (a right-to-left page overflows to the left)
# that no scrolling or clipping box holds; failing those, the innermost whose content spills out of
# them (a list's markers, say). An absolutely positioned element is held only by its containing
# block and what holds that: a box in between does not clip it.
STICKING_OUT = """() => {
    const width = document.documentElement.clientWidth;
    const held = element => {
        let box = getComputedStyle(element).position === 'absolute' ? element.offsetParent : element.parentElement;
        for (; box && box !== document.body; box = box.parentElement) {
            if (getComputedStyle(box).overflowX !== 'visible') return true;
        }
        return false;
    };
    const free = [...document.body.querySelectorAll('*')].filter(element => !held(element));
    const outside = element => {
        const box = element.getBoundingClientRect();
        return box.right > width + 0.5 || box.left < -0.5;
    };
    const spilling = element => element.clientWidth > 0 && element.scrollWidth > element.clientWidth
        && getComputedStyle(element).overflowX === 'visible';
    const boxes = new Set(free.filter(outside));
    let found = [...boxes].filter(element => !boxes.has(element.parentElement));
    if (!found.length) {
        const spills = free.filter(spilling);
        found = spills.filter(element => !spills.some(other => other !== element && element.contains(other)));
    }
    const name = element => element.tagName.toLowerCase() + (element.id ? '#' + element.id : '')
        + [...element.classList].map(c => '.' + c).join('');
    return found.slice(0, 3).map(element => name(element.parentElement) + ' > ' + name(element));
}"""


@dataclass
class Report:
    """What the crawl found: one line per problem, and what it visited."""

    problems: list[str] = field(default_factory=list)
    crawled: set[str] = field(default_factory=set)  # endpoints reached with the expected page
    loads: int = 0  # pages loaded; each is checked at both viewports
    html_files: dict[Path, str] = field(default_factory=dict)  # saved page -> "page | audience | language"
    seconds: Counter = field(default_factory=Counter)  # where the time went: loading, axe per viewport, vnu


@dataclass
class Lane:
    tab: object
    viewport: str = "desktop"


def crawl(app: Flask, browser, base_url: str, world: World, audiences: tuple[str, ...], languages: tuple[str, ...],
          html_dir: Path) -> Report:
    """Visit and check every page; the HTML checker runs at the end, over every saved page."""
    report = Report()
    contexts, lanes = [], {}
    try:
        for audience in audiences:
            lanes[audience] = _open_lanes(browser, base_url, world, audience, contexts)
        add_admin_factors(world)  # after the admin's tabs signed in: see world.add_admin_factors
        for language in languages:
            set_language(world, language)
            for audience in audiences:
                if audience == VISITOR:
                    context = lanes[audience][0].tab.context
                    context.clear_cookies()  # the last round's half sign-in (mfa.verify)
                    context.add_cookies([{"name": "lang", "value": language, "url": base_url}])
                for batch in _batches(list(enumerate(_pages_of(audience)))):
                    _check(app, base_url, world, audience, language, batch, lanes[audience], html_dir, report)
    finally:
        for context in contexts:
            context.close()
    started = time.perf_counter()
    errors = checkers.html_errors(sorted(report.html_files))
    report.seconds["html checker"] += time.perf_counter() - started
    for error in errors:
        report.problems.append(f"HTML | {report.html_files[error.file]} | line {error.line}: {error.message}")
    return report


def _open_lanes(browser, base_url: str, world: World, audience: str, contexts: list) -> list[Lane]:
    """The audience's tabs, in one context signed in as the audience's person."""
    context = browser.new_context(base_url=base_url, viewport=VIEWPORTS["desktop"])
    contexts.append(context)
    # An init script, not a script tag: the app's Content-Security-Policy refuses inline scripts.
    context.add_init_script(path=checkers.AXE_SCRIPT)
    lanes = [Lane(context.new_page()) for _ in range(LANES)]
    for lane in lanes:
        lane.tab.set_default_timeout(20_000)
    if audience != VISITOR:
        sign_in(lanes[0].tab, world.user(audience).email)
    return lanes


def _pages_of(audience: str) -> list[Page]:
    """The audience's pages; those that prepare their tab (a half sign-in) last, as it stays."""
    pages = [page for page in PAGES if audience in page.audiences_of()]
    return sorted(pages, key=lambda page: page.prepare is not None)


def _batches(pages: list[tuple[int, Page]]) -> list[list[tuple[int, Page]]]:
    """Up to LANES pages at a time; a page that changes the session (a one-time link, a half
    sign-in) alone, since the lanes share it."""
    batches: list[list[tuple[int, Page]]] = []
    for numbered in pages:
        if not batches or len(batches[-1]) == LANES or _alone(numbered[1]) or _alone(batches[-1][0][1]):
            batches.append([numbered])
        else:
            batches[-1].append(numbered)
    return batches


def _alone(page: Page) -> bool:
    return page.single_use or page.prepare is not None


def _check(app: Flask, base_url: str, world: World, audience: str, language: str, batch: list[tuple[int, Page]],
           lanes: list[Lane], html_dir: Path, report: Report) -> None:
    """Load the batch's pages side by side, save their HTML, and run axe at both viewports."""
    lanes = lanes[:len(batch)]
    for lane, (_, page) in zip(lanes, batch):
        if page.prepare is not None:
            page.prepare(lane.tab, world)
    urls = [base_url + page.url(world, audience) for _, page in batch]
    started = time.perf_counter()
    responses = visit([lane.tab for lane in lanes], urls)
    report.seconds["loading"] += time.perf_counter() - started
    report.loads += len(batch)
    checked = []
    for lane, (number, page), response in zip(lanes, batch, responses):
        where = f"{page.label} | {audience} | {language}"
        problem = _unexpected(app, page, response)
        if problem:
            report.problems.append(f"PAGE | {where}: {problem}")
            continue
        if page.endpoint is not None:
            report.crawled.add(page.endpoint)
        html_file = html_dir / f"{language}-{audience}-{number:03d}.html"
        html_file.write_text(response.text(), encoding="utf-8")
        report.html_files[html_file] = where
        checked.append((lane, where))
    # At the viewport each tab is at, then at the other: the same page, laid out again (its
    # scripts follow the width with media-query listeners, as a rotated phone would).
    for turn in range(len(VIEWPORTS)):
        if turn:
            for lane, _ in checked:
                lane.viewport = next(name for name in VIEWPORTS if name != lane.viewport)
                lane.tab.set_viewport_size(VIEWPORTS[lane.viewport])
        started = time.perf_counter()
        results = run_axe([lane.tab for lane, _ in checked])
        report.seconds[f"axe, turn {turn + 1}"] += time.perf_counter() - started
        for (lane, where), violations in zip(checked, results):
            for violation in violations:
                report.problems.append(f"axe | {where} | {lane.viewport} | {violation.rule} ({violation.help}): "
                                       + ", ".join(violation.targets))
            # WCAG 1.4.10 (reflow), which axe cannot see: at a phone's width nothing but a table's
            # own scrolling box may be wider than the screen, on every audience's pages.
            overflow = lane.tab.evaluate(SIDEWAYS) if lane.viewport == "phone" else 0
            if overflow > 0:
                culprits = ", ".join(lane.tab.evaluate(STICKING_OUT))
                report.problems.append(f"reflow | {where} | phone | the page scrolls sideways by {overflow} px "
                                       f"({culprits})")


def _unexpected(app: Flask, page: Page, response) -> str | None:
    """Why this response is not the page the table expects, if it is not."""
    if response is None:
        return "no response"
    if response.status != page.status:
        return f"HTTP {response.status} at {response.url} (expected {page.status})"
    if not re.match(r"text/html\b", response.headers.get("content-type", "")):
        return f"{response.headers.get('content-type')} is not a page"
    if page.endpoint is None:
        return None
    path = urlsplit(response.url).path
    try:
        endpoint, _ = app.url_map.bind("localhost").match(path, method="GET")
    except HTTPException:
        endpoint = None
    if endpoint != page.endpoint:
        return f"ended at {path} ({endpoint}), not at {page.endpoint}"
    return None
