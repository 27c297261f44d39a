"""Addresses that leave the app: always built from BASE_URL, never from the request.

A certificate, an e-mail, a badge or an API reply outlives the request that made it,
and a request's Host (or X-Forwarded-Host) header is whatever the client sent. So every
absolute address the app writes into something it hands out comes from here.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, url_for


def base_url() -> str:
    """The configured public address of the app, without a trailing slash."""
    return current_app.config["BASE_URL"].rstrip("/")


def external_url(endpoint: str, **values) -> str:
    """The absolute address of an endpoint under BASE_URL (the app's own path, BASE_URL's host)."""
    path = url_for(endpoint, **values)  # relative: the request's host plays no part
    # url_for adds the request's SCRIPT_NAME; BASE_URL already names any prefix the app lives under.
    prefix = urlsplit(base_url()).path.rstrip("/")
    if prefix and path.startswith(prefix + "/"):
        path = path[len(prefix):]
    return base_url() + path
