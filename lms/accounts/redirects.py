"""Where a person may be sent after a step of sign-in, or after choosing a language."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for


def safe_next(target: str | None) -> str:
    """`target` if it is a path on this site, else the home page (ASVS 3.7.2).

    A `next` with a scheme or a host, or one a browser reads as a host (`//host`, `/\\host`), would
    let a link to our sign-in page send people on to another site. Every sign-in step (password,
    SSO, second factor) and the language switcher check their `next` here.
    """
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//") \
                and "\\" not in target:
            return target
    return url_for("main.index")
