"""url_for for templates, keeping the addresses that come out the same on every request.

The page layout (templates/base.html) builds about fifteen addresses on every page: the
stylesheets, the logo and the navigation. Werkzeug builds each one anew, about a tenth of a
signed-in 404's time in all (bench/README.md, "#17 pages"). An address with no parameters,
or a static file's, depends only on the endpoint, the file name and where the app is mounted,
so it is kept after its first build. Everything else (parameters, `_external`, an anchor, a
relative endpoint, a template rendered outside a request) is built as before.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, has_request_context, request


def install(app: Flask) -> None:
    """Replace the templates' url_for with one that remembers the fixed addresses."""
    build = app.url_for
    cache: dict[tuple[str, str | None, str], str] = {}

    def url_for(endpoint: str, **values: Any) -> str:
        fixed = not values or (endpoint == "static" and values.keys() == {"filename"})
        if not fixed or endpoint.startswith(".") or not has_request_context():
            return build(endpoint, **values)
        key = (endpoint, values.get("filename"), request.script_root)
        url = cache.get(key)
        if url is None:
            url = cache[key] = build(endpoint, **values)
        return url

    app.jinja_env.globals["url_for"] = url_for
