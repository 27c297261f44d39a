"""The documents we render: templates/pdf/ filled from plain data, as HTML for `render_pdf`.

`certificate_html` fills templates/pdf/certificate.html (A4 landscape), autoescaped: names
are typed by users. `qr_svg_data_uri` draws the verification QR code as SVG, so it is
embedded in the document rather than fetched. `render_document` and `document_brand` serve
every other document (transcripts, evidence packs, the processing record).

No database and no Flask here: callers pass plain data and receive HTML.
"""
from __future__ import annotations

import logging
import os
import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Mapping
from urllib.parse import urlsplit

import jinja2
import segno

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


def certificate_html(data: Mapping[str, Any], *, branding: Mapping[str, Any]) -> str:
    """The certificate of completion as HTML for `render_pdf` (A4 landscape).

    `data`: agent_name, organisation, programme, courses [{title, version}], quizzes
    [{title, percent, version}], issued_at and valid_until (dates or ISO strings; valid_until
    may be None), verification_code, verify_url. `branding`: company_name, primary_colour
    (hex; anything else falls back to the default), signatory_name, signatory_title, and
    optionally logo, a file name in static/pdf/. Every value is escaped by the template.
    """
    verify_url = str(data["verify_url"])
    context = {
        "asset_base": STATIC_PDF_DIR.as_uri() + "/",
        "agent_name": str(data["agent_name"]),
        "organisation": str(data.get("organisation") or ""),
        "programme": str(data["programme"]),
        "courses": [{"title": str(c["title"]), "version": _short_version(c["version"])}
                    for c in data.get("courses") or ()],
        "quizzes": [{"title": str(q["title"]), "version": _short_version(q["version"]),
                     "percent": _percent(q["percent"])} for q in data.get("quizzes") or ()],
        "issued_at": _long_date(data["issued_at"]),
        "valid_until": _long_date(data["valid_until"]) if data.get("valid_until") else None,
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
    return render_document("pdf/certificate.html", context)


def document_brand(company_name: Any, colour: Any, logo: Any) -> dict[str, str]:
    """The brand as every document prints it: the company, a valid colour (else the default),
    its tint for table stripes, and a logo that is a file in static/pdf/ (else the default)."""
    colour = str(colour or "")
    if not _HEX_COLOUR.match(colour):
        colour = DEFAULT_BRAND_COLOUR
    return {"company_name": str(company_name or ""), "colour": colour, "tint": _tint(colour), "logo": _logo(logo)}


def render_document(template: str, context: Mapping[str, Any]) -> str:
    """A template of templates/pdf/ rendered to HTML for `render_pdf`, every value escaped."""
    return _jinja_env().get_template(template).render(context)


@lru_cache(maxsize=1)
def _jinja_env() -> jinja2.Environment:
    # Our own environment, not Flask's: no request globals, usable from jobs and the CLI.
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                              undefined=jinja2.StrictUndefined)


def _short_version(version: Any) -> str:
    """Content versions are hashes; 12 hex digits identify one and fit the table."""
    text = str(version)
    return text[:12] if re.fullmatch(r"[0-9a-fA-F]{13,}", text) else text


def _percent(value: Any) -> str:
    number = float(value)
    return f"{number:.0f} %" if number == int(number) else f"{number:.1f} %"


def _long_date(value: date | datetime | str) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])  # the ISO form the JSON record carries
    if isinstance(value, datetime):
        value = value.date()
    return f"{value.day} {value:%B %Y}"


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
