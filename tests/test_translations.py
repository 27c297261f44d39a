"""The interface's catalogues (#19): every string a person reads is marked for translation,
every template belongs to one catalogue, and every shipped language translates every message.

The messages are extracted afresh from the sources here, so a string marked in a template but
never extracted into the .po files fails as surely as a missing translation.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from jinja2 import Environment

from lms.config import PROJECT_ROOT
from lms.i18n import CATALOGUE_AREAS, LANGUAGE_NAMES

TEMPLATES = PROJECT_ROOT / "templates"
SHIPPED = [code for code in LANGUAGE_NAMES if code != "en"]

# Templates whose text is not marked yet, listed per catalogue in babel/<area>.unmarked: those
# lists only shrink. A template leaves its list when its text is wrapped in _() / {% trans %}
# and translated in every shipped language.
NOT_YET_MARKED: set[str] = {
    line.strip() for area in CATALOGUE_AREAS
    for line in (PROJECT_ROOT / "babel" / f"{area}.unmarked").read_text().splitlines()
    if line.strip() and not line.startswith("#")}

# Words that are the same in every language: names of the product, laws and standards.
UNTRANSLATED = re.compile(
    r"CallSafe Academy|GDPR|RGPD|DSGVO|xAPI|SCIM|OpenID Connect|OIDC|API|JSON|CSV|PDF|PNG|YAML|"
    r"NDJSON|LRS|MFA|TOTP|URL|ID|UTC|Art\.|Arts|e-mail")
_LETTERS = re.compile(r"[^\W\d_]{2,}")
_PLACEHOLDER = "\x00"
_TRANSLATABLE_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description"}
_SKIPPED_ELEMENTS = {"script", "style", "code", "pre", "kbd", "samp"}


def _mapping(area: str):
    with open(PROJECT_ROOT / "babel" / f"{area}.cfg") as cfg:
        return parse_mapping_cfg(cfg)


def _area_of(template: Path) -> list[str]:
    from babel.util import pathmatch

    relative = str(template.relative_to(PROJECT_ROOT))
    return [area for area in CATALOGUE_AREAS
            if any(pathmatch(pattern, relative) for pattern, _ in _mapping(area)[0])]


def test_every_template_belongs_to_exactly_one_catalogue():
    templates = [p for p in TEMPLATES.rglob("*") if p.suffix in {".html", ".txt"}]
    misplaced = {str(p.relative_to(TEMPLATES)): _area_of(p) for p in templates if len(_area_of(p)) != 1}
    assert misplaced == {}, "each template must be listed in exactly one of babel/agent.cfg, babel/staff.cfg"


class _TextFinder(HTMLParser):
    """Collects text nodes and translatable attribute values that hold words."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED_ELEMENTS:
            self._skipping += 1
        for name, value in attrs:
            if name in _TRANSLATABLE_ATTRIBUTES and value:
                self._check(value)
        if tag == "input" and dict(attrs).get("type") in {"submit", "button"}:
            self._check(dict(attrs).get("value") or "")

    def handle_endtag(self, tag):
        if tag in _SKIPPED_ELEMENTS and self._skipping:
            self._skipping -= 1

    def handle_data(self, data):
        if not self._skipping:
            self._check(data)

    def _check(self, text: str) -> None:
        words = UNTRANSLATED.sub(" ", text.replace(_PLACEHOLDER, " "))
        if _LETTERS.search(words):
            self.found.append(" ".join(text.replace(_PLACEHOLDER, "…").split()))


def unmarked_strings(source: str, *, html: bool = True) -> list[str]:
    """Words in a template's own text that are outside _(), gettext and {% trans %}."""
    env = Environment(extensions=["jinja2.ext.i18n"])
    pieces: list[str] = []
    in_trans = in_raw = False
    previous = None
    for _, kind, value in env.lex(source):
        if kind == "name" and previous == "block_begin":
            in_trans = value == "trans" or (in_trans and value != "endtrans")
            in_raw = value == "raw" or (in_raw and value != "endraw")
        if kind == "data" and not in_trans:
            pieces.append(value)
        elif kind in {"variable_begin", "block_begin"}:
            pieces.append(_PLACEHOLDER)
        if kind != "whitespace":
            previous = kind
    text = "".join(pieces)
    if not html:
        finder = _TextFinder()
        finder._check(text)
        return finder.found
    finder = _TextFinder()
    finder.feed(text)
    return finder.found


@pytest.mark.parametrize("path", sorted(
    str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*") if p.suffix in {".html", ".txt"}))
def test_template_strings_are_marked_for_translation(path):
    if path in NOT_YET_MARKED:
        return
    source = (TEMPLATES / path).read_text()
    assert unmarked_strings(source, html=path.endswith(".html")) == []


def test_the_scanner_finds_unmarked_text_and_accepts_marked_text():
    page = ('<h1>{{ _("Your courses") }}</h1><p>Welcome back</p>'
            '<a href="{{ url }}" aria-label="Open the lesson">{{ title }}</a>'
            '{% trans n=3 %}{{ n }} lessons{% endtrans %}<code>flask lms demo</code> · CallSafe Academy')
    assert unmarked_strings(page) == ["Welcome back", "Open the lesson"]


def _walked(path: str) -> bool:
    name = Path(path).name
    return not name.startswith(".") and name != "__pycache__"


def _extracted(area: str) -> set[str | tuple[str, ...]]:
    method_map, options_map = _mapping(area)
    ids = set()
    for _, _, message, _, _ in extract_from_dir(
            str(PROJECT_ROOT), method_map, options_map,
            keywords={"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
                      "pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3)},
            # As the Makefile's --ignore-dirs: Babel's default would skip templates/_macros.
            directory_filter=_walked):
        ids.add(message if isinstance(message, str) else tuple(message))
    return ids


@pytest.mark.parametrize("area", CATALOGUE_AREAS)
@pytest.mark.parametrize("language", SHIPPED)
def test_every_message_is_translated(area, language):
    with open(PROJECT_ROOT / "translations" / area / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalogue = read_po(po)
    missing = []
    for message_id in _extracted(area):
        key = message_id if isinstance(message_id, str) else message_id[0]
        entry = catalogue.get(key)
        strings = [] if entry is None else (entry.string if isinstance(entry.string, tuple) else [entry.string])
        if entry is None or entry.fuzzy or not all(strings):
            missing.append(key)
    assert sorted(missing) == [], f"untranslated in translations/{area}/{language}: run make i18n-update and translate"
