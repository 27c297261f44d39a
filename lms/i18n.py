"""Languages and time zones: which one a request speaks and shows times in.

Flask-Babel does the translating and formatting; this module decides for whom:

- **Language**: the user's own choice, else their organisation's, else the browser's
  `Accept-Language` among LANGUAGES, else DEFAULT_LANGUAGE.
- **Time zone**: the user's, else their organisation's, else DEFAULT_TIME_ZONE. Stored times
  stay UTC; only what a reader sees is converted, and it always names the zone.

Messages live in catalogues under `translations/<area>/` (one per audience: `agent`,
`accounts`, `documents` and `staff`, so that each can be translated and checked on its own;
babel/<area>.cfg lists the files each takes its messages from); `make i18n-extract`,
`make i18n-update` and `make i18n-compile` maintain them (see the README).
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError, dates, numbers
from flask import Flask, current_app, has_request_context, request
from flask_babel import get_timezone
from flask_login import current_user

# The language names and zone checks live with the accounts that store the choices (their forms
# use them); imported here so the rest of the app asks lms.i18n.
from lms.accounts.locale_defaults import LANGUAGE_NAMES, is_time_zone, organisation_defaults, time_zone_choices
from lms.catalogue_lookup import LocaleBabel, install_template_callables, request_locale
from lms.config import PROJECT_ROOT

LANGUAGE_COOKIE = "lang"
RIGHT_TO_LEFT = frozenset({"ar"})
CATALOGUE_AREAS = ("agent", "accounts", "documents", "staff", "authoring")

babel = LocaleBabel()


def init_app(app: Flask) -> None:
    """Install Flask-Babel with this module's selectors, and the template helpers."""
    app.config.setdefault("LANGUAGES", tuple(LANGUAGE_NAMES))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", app.config.get("DEFAULT_LANGUAGE", "en"))
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config.get("DEFAULT_TIME_ZONE", "UTC"))
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", ";".join(
        str(PROJECT_ROOT / "translations" / area) for area in CATALOGUE_AREAS))
    babel.init_app(app, locale_selector=select_language, timezone_selector=select_time_zone)
    install_template_callables(app, babel)
    app.add_template_global(text_direction)
    app.add_template_global(current_language)
    app.add_template_global(LANGUAGE_NAMES, "language_names")
    app.add_template_filter(datetime_local, "datetime")
    app.add_template_filter(date_local, "date")
    app.add_template_filter(language_name, "language_name")
    app.add_template_filter(score, "score")


def select_language() -> str:
    """The language of this request (see the module docstring for the order)."""
    offered = current_app.config["LANGUAGES"]
    user = _signed_in_user()
    if user is not None:
        for choice in (user.language, organisation_defaults(user.organisation_id)[0]):
            if choice in offered:
                return choice
    if has_request_context():
        # A signed-out visitor's pick from the sign-in page's switcher (accounts.choose_language).
        if request.cookies.get(LANGUAGE_COOKIE) in offered:
            return request.cookies[LANGUAGE_COOKIE]
        best = request.accept_languages.best_match(offered)
        if best:
            return best
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def user_language(user: Any) -> str:
    """A user's language where no request says it (documents, e-mails, background work): their
    own choice, else their organisation's, else DEFAULT_LANGUAGE."""
    offered = current_app.config["LANGUAGES"]
    for choice in (user.language, organisation_defaults(user.organisation_id)[0]):
        if choice in offered:
            return choice
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_time_zone() -> str:
    """The time zone this request shows times in (see the module docstring for the order)."""
    user = _signed_in_user()
    if user is not None:
        for choice in (user.time_zone, organisation_defaults(user.organisation_id)[1]):
            if choice and is_time_zone(choice):
                return choice
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def _signed_in_user() -> Any:
    if not has_request_context():
        return None
    user = current_user._get_current_object()
    return user if getattr(user, "is_authenticated", False) else None


def current_language() -> str:
    """The request's language code ("fr"), as Flask-Babel chose it (or `force_locale` set it)."""
    global _last_language
    locale = request_locale()
    last = _last_language
    if last and last[0] is locale:  # a request's Locale is one object: no hashing or comparing it
        return last[1]
    code = _language_code(locale)
    _last_language = (locale, code)  # one tuple, read and replaced whole, so threads cannot mix pairs
    return code


_last_language: tuple[Locale | None, str] | tuple[()] = ()


@lru_cache(maxsize=64)
def _language_code(locale: Locale | None) -> str:
    # Pages ask once per item shown (is this course in the reader's language?): read from where
    # Flask-Babel keeps the locale, and named once per locale.
    return str(locale or "en")


def score(value: float | None) -> str:
    """A score or percentage for reading: at most one decimal, in the reader's number format
    ("6.9", "6,9"; 7.0 shows as "7"). Stored scores keep their full precision."""
    if value is None:
        return "—"
    return numbers.format_decimal(round(value, 1), format="#,##0.#", locale=_formatting_locale())


def language_name(code: str) -> str:
    """A language's name in the reader's language ("anglais" for `en` on a French page)."""
    try:
        return Locale.parse(code).get_display_name(current_language()) or code
    except (ValueError, UnknownLocaleError):
        return code


def text_direction() -> str:
    """`rtl` for right-to-left languages, for `<html dir>`."""
    return "rtl" if current_language() in RIGHT_TO_LEFT else "ltr"


def datetime_local(moment: datetime | None, style: str = "medium") -> str:
    """A stored UTC time in the reader's language and zone, with the zone named.

    Naive values are UTC (how some drivers hand them back). None shows as a dash.
    """
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    zone = get_timezone()
    return f"{dates.format_datetime(moment, style, tzinfo=zone, locale=_formatting_locale())} {zone.zone}"


def date_local(value: date | datetime | None, style: str = "medium") -> str:
    """A date in the reader's language; a datetime is first converted to the reader's zone."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(get_timezone()).date()
    return _format_date(value, style, _formatting_locale())


@lru_cache(maxsize=4096)
def _format_date(value: date, style: str, locale: str) -> str:
    # Babel reads the locale's patterns anew for each date (about 40 µs); a page shows a few
    # dates, often the same ones, and the answer depends only on these three.
    return dates.format_date(value, style, locale=locale)


def _formatting_locale() -> str:
    # The academy's English is the EU's (day before month, a 24-hour clock), not Babel's US "en".
    language = current_language()
    return "en_IE" if language == "en" else language
