"""The documents we render: templates/pdf/ filled from plain data, as HTML for `render_pdf`.

`certificate_html` fills templates/pdf/certificate.html (A4 landscape), autoescaped: names
are typed by users. `qr_svg_data_uri` draws the verification QR code as SVG, so it is
embedded in the document rather than fetched. `render_document` and `document_brand` serve
every other document (transcripts, evidence packs, the processing record).

No database here: callers pass plain data and receive HTML. Documents are translatable
(the documents catalogue, translations/documents): each is rendered in the language it is
given (`language`, the agent's for a certificate or transcript) under Flask-Babel's
force_locale, with `dir="rtl"` for Arabic, and dates in that language.
"""
from __future__ import annotations

import logging
import os
import re
import unicodedata
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import babel.dates
import jinja2
import segno
from flask_babel import force_locale, get_translations

from lms.evidence.renderer import PROJECT_ROOT, STATIC_PDF_DIR

log = logging.getLogger(__name__)

TEMPLATES_DIR = PROJECT_ROOT / "templates"
DEFAULT_BRAND_COLOUR = "#0f5c73"
DEFAULT_LOGO = "logo.svg"


def qr_svg_data_uri(url: str) -> str:
    """A QR code for `url` as an SVG data: URI, for an <img> in HTML that becomes a PDF.

    Black on white with the standard quiet zone, medium error correction: it must scan from
    a printed page and from a phone photographing a screen.
    """
    qr = segno.make(url, error="m", micro=False)
    return qr.svg_data_uri(scale=1, border=4, dark="#000", light="#fff")


_HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}\Z")
_ASSET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z")
_LOGO_SUFFIXES = (".svg", ".png", ".jpg", ".jpeg")


RIGHT_TO_LEFT = frozenset({"ar"})
# Each language's own name, as the certificate states the language of study and assessment.
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "es": "Español", "pt": "Português", "ar": "العربية"}


def certificate_html(data: Mapping[str, Any], *, branding: Mapping[str, Any], language: str = "en") -> str:
    """The certificate of completion as HTML for `render_pdf` (A4 landscape).

    `data`: agent_name, organisation, programme, courses [{title, version}], quizzes
    [{title, percent, version}], issued_at and valid_until (dates or ISO strings; valid_until
    may be None), verification_code, verify_url. `branding`: company_name, primary_colour
    (hex; anything else falls back to the default), signatory_name, signatory_title, and
    optionally logo, a file name in static/pdf/. Every value is escaped by the template.
    `language`: the agent's, the certificate's language. `data["language"]`, when given, is the
    language the agent studied and was assessed in, which the certificate names (by default
    `language`).
    """
    language = _language(language)
    verify_url = str(data["verify_url"])
    issued_at = _long_date(data["issued_at"], language)
    valid_until = _long_date(data["valid_until"], language) if data.get("valid_until") else None
    context = {
        "asset_base": STATIC_PDF_DIR.as_uri() + "/",
        "agent_name": str(data["agent_name"]),
        "organisation": str(data.get("organisation") or ""),
        "programme": str(data["programme"]),
        "courses": [{"title": str(c["title"]), "version": _short_version(c["version"])}
                    for c in data.get("courses") or ()],
        "quizzes": [{"title": str(q["title"]), "version": _short_version(q["version"]),
                     "percent": _percent(q["percent"])} for q in data.get("quizzes") or ()],
        "issued_at": issued_at,
        "valid_until": valid_until,
        "language_name": LANGUAGE_NAMES.get(str(data.get("language") or language), LANGUAGE_NAMES[language]),
        "verification_code": str(data["verification_code"]),
        "verify_url": verify_url,
        # Only a web address becomes a link; anything else is printed as text.
        "verify_link": verify_url if urlsplit(verify_url).scheme in ("http", "https") else None,
        "qr": qr_svg_data_uri(verify_url),
        "brand": {
            **document_brand(branding.get("company_name"), branding.get("primary_colour"), branding.get("logo")),
            "signatory_name": str(branding.get("signatory_name") or ""),
            "signatory_title": str(branding.get("signatory_title") or ""),
        },
    }
    return render_document("pdf/certificate.html", context, language=language)


def document_brand(company_name: Any, colour: Any, logo: Any) -> dict[str, str]:
    """The brand as every document prints it: the company, a valid colour (else the default),
    its tint for table stripes, and a logo that is a file in static/pdf/ (else the default)."""
    colour = str(colour or "")
    if not _HEX_COLOUR.match(colour):
        colour = DEFAULT_BRAND_COLOUR
    return {"company_name": str(company_name or ""), "colour": colour, "tint": _tint(colour), "logo": _logo(logo)}


def render_document(template: str, context: Mapping[str, Any], *, language: str = "en",
                    time_zone: str | None = None) -> str:
    """A template of templates/pdf/ rendered to HTML for `render_pdf`, every value escaped.

    Rendered in `language` (its messages, and `lang`/`dir` for <html>); `local_date` and
    `local_datetime` format ISO timestamps of the data in that language, times in `time_zone`
    (default UTC) with the zone named.
    """
    language = _language(language)
    zone = time_zone or "UTC"
    with force_locale(language):
        return _jinja_env().get_template(template).render({
            "lang": language, "dir": "rtl" if language in RIGHT_TO_LEFT else "ltr",
            "local_date": lambda value: _local_date(value, language, zone),
            "local_datetime": lambda value: _local_datetime(value, language, zone),
            # In a table's cells, where the column's heading names the zone (`zone`).
            "local_time": lambda value: _local_datetime(value, language, zone, "short", named=False),
            "zone": zone,
            **context})


@lru_cache(maxsize=1)
def _jinja_env() -> jinja2.Environment:
    # Our own environment, not Flask's: no request globals, usable from jobs and the CLI.
    # Its messages come from Flask-Babel (the documents catalogue) in the locale forced around
    # each render; outside an app they stay English.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                             undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.i18n"])
    # Flask-Babel's gettext and ngettext, not formatting: Jinja's newstyle gettext fills the
    # placeholders itself, escaping each value (as Flask-Babel installs them in Flask's own).
    env.install_gettext_callables(lambda string: get_translations().ugettext(string),
                                  lambda singular, plural, n: get_translations().ungettext(singular, plural, n),
                                  newstyle=True)
    env.filters["text_dir"] = text_direction
    return env


def text_direction(value: Any) -> str:
    """"rtl" or "ltr" for text people typed or wrote (answers, e-mails, the settings' English), by its
    first strong character, as dir="auto" would decide: WeasyPrint does not honour dir="auto", and
    direction marks around text do not hold once it wraps onto a second line, but an element's dir does."""
    for character in str(value or ""):
        direction = unicodedata.bidirectional(character)
        if direction in ("R", "AL"):
            return "rtl"
        if direction == "L":
            return "ltr"
    return "ltr"


def _language(language: Any) -> str:
    language = str(language or "en")
    return language if language in LANGUAGE_NAMES else "en"


def _babel_locale(language: str) -> str:
    # English documents keep the day-month-year order they always had ("12 March 2026").
    return "en_GB" if language == "en" else language


def _format_date(value: date, language: str, style: str = "long") -> str:
    """A date in `language` (Babel's, as Flask-Babel's format_date formats it in a forced locale;
    explicit here so that a document formats the same in a job, a request or the CLI)."""
    return babel.dates.format_date(value, style, locale=_babel_locale(language))


def _local_date(value: str | None, language: str, zone: str) -> str:
    """An ISO timestamp (UTC) of the data as a date in `language`, as it was in `zone`."""
    if not value:
        return ""
    return _format_date(_utc(value).astimezone(ZoneInfo(zone)).date(), language, "medium")


def _local_datetime(value: str | None, language: str, zone: str, style: str = "medium", *,
                    named: bool = True) -> str:
    """An ISO timestamp (UTC) of the data as a date and time in `language` and `zone`, the zone
    named unless the caller names it once for many (a table's heading)."""
    if not value:
        return ""
    text = babel.dates.format_datetime(_utc(value), style, tzinfo=ZoneInfo(zone), locale=_babel_locale(language))
    if named and language in RIGHT_TO_LEFT:
        # Isolated (FSI … PDI): in a right-to-left sentence a Latin zone name would otherwise take the
        # number after it ("… Africa/Casablanca · 80 %") into its own left-to-right run.
        return f"{text} \u2068{zone}\u2069"
    return f"{text} {zone}" if named else text


def _utc(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _short_version(version: Any) -> str:
    """Content versions are hashes; 12 hex digits identify one and fit the table."""
    text = str(version)
    return text[:12] if re.fullmatch(r"[0-9a-fA-F]{13,}", text) else text


def _percent(value: Any) -> str:
    number = float(value)
    return f"{number:.0f} %" if number == int(number) else f"{number:.1f} %"


def _long_date(value: date | datetime | str, language: str) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])  # the ISO form the JSON record carries
    if isinstance(value, datetime):
        value = value.date()
    return _format_date(value, language)


def _tint(colour: str) -> str:
    """The brand colour at 8 % on white, for table stripes (WeasyPrint has no color-mix)."""
    digits = colour[1:]
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = (int(digits[i:i + 2], 16) for i in (0, 2, 4))
    return "#" + "".join(f"{round(255 - (255 - c) * 0.08):02x}" for c in channels)


def _logo(name: Any) -> str:
    if not name:
        return DEFAULT_LOGO
    name = str(name)
    path = STATIC_PDF_DIR / name
    if (_ASSET_NAME.match(name) and name.lower().endswith(_LOGO_SUFFIXES) and path.is_file()
            and os.path.realpath(path).startswith(os.path.realpath(STATIC_PDF_DIR) + os.sep)):
        return name
    log.warning("Certificate logo %r is not a file in static/pdf/; using the default", name)
    return DEFAULT_LOGO
