"""An organisation's default language and time zone, as every signed-in request asks for them.

They change rarely and are read on every signed-in request (lms.i18n), so each app keeps them
for a short while instead of costing each request a query. An admin's change is seen at once
in the process that made it (forget_organisation) and within CACHE_SECONDS elsewhere.
"""
from __future__ import annotations

import threading
import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app

from lms.accounts.models import Organisation
from lms.extensions import db

# The languages the interface ships in, with their own names (what a picker shows).
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "pt": "Português",
    "ar": "العربية",
}

CACHE_SECONDS = 30.0
_lock = threading.Lock()


def organisation_defaults(organisation_id: int) -> tuple[str | None, str | None]:
    """The organisation's (language, time zone); either may be None (not set)."""
    cache = _cache()
    cached = cache.get(organisation_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    row = db.session.execute(
        db.select(Organisation.language, Organisation.time_zone).where(Organisation.id == organisation_id)
    ).first()
    value = (row.language, row.time_zone) if row else (None, None)
    with _lock:
        cache[organisation_id] = (time.monotonic() + CACHE_SECONDS, value)
    return value


def forget_organisation(organisation_id: int) -> None:
    """Drop one organisation's cached defaults after a change."""
    with _lock:
        _cache().pop(organisation_id, None)


def _cache() -> dict[int, tuple[float, tuple[str | None, str | None]]]:
    # Per app, so apps on different databases (as in the tests) never share ids.
    return current_app.extensions.setdefault("organisation_locale_defaults", {})


def is_time_zone(name: str) -> bool:
    """Whether `name` is an IANA zone this machine knows (Europe/Lisbon, Asia/Manila)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def time_zone_choices() -> list[str]:
    """Every IANA zone name, sorted, for a picker."""
    return sorted(available_timezones())
