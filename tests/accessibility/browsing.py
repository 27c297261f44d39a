"""Driving the crawl's tabs: signing in, loading pages in several tabs at once, and running axe-core
in them at once.

Playwright's sync API waits for one thing at a time, but the browser works on every tab meanwhile:
starting the work in each tab before waiting for any keeps the machine's two cores busy.
"""
from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass

from tests.accessibility.world import PASSWORD

# WCAG 2.0, 2.1 and 2.2 at levels A and AA; only the violations come back (the other result types
# cost time to collect and to send).
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
               "resultTypes": ["violations"]}
# axe is injected by the context's init script (a script tag would be refused by the app's
# Content-Security-Policy); this starts a run without waiting for it, and the next collects it.
_START_AXE = "options => { window.__crawlAxe = axe.run(document, options); }"
_AXE_VIOLATIONS = """() => window.__crawlAxe.then(result => result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(node => node.target.map(t => Array.isArray(t) ? t.join(' >>> ') : t).join(' '))})))"""


@dataclass(frozen=True)
class Violation:
    rule: str
    help: str
    targets: tuple[str, ...]


def sign_in(tab, email: str) -> None:
    """Submit the sign-in form in whatever language it is in (by field names, not labels)."""
    tab.goto("/login")
    tab.locator("input[name=email]").fill(email)
    tab.locator("input[name=password]").fill(PASSWORD)
    with tab.expect_navigation():
        tab.locator("input[name=password]").press("Enter")


def visit(tabs: list, urls: list[str]) -> list:
    """Load each tab's address (absolute) at once; the main responses, in the tabs' order."""
    with ExitStack() as waits:
        navigations = [waits.enter_context(tab.expect_navigation()) for tab in tabs]
        for tab, url in zip(tabs, urls):
            tab.evaluate("url => { window.location.href = url; }", url)
    return [navigation.value for navigation in navigations]


def run_axe(tabs: list) -> list[list[Violation]]:
    """axe-core's WCAG A/AA violations on the page each tab shows, run in all tabs at once."""
    for tab in tabs:
        tab.evaluate(_START_AXE, AXE_OPTIONS)
    return [[Violation(v["id"], v["help"], tuple(v["targets"])) for v in tab.evaluate(_AXE_VIOLATIONS)]
            for tab in tabs]
