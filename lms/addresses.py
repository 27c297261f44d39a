"""Addresses that leave the app: always built from BASE_URL, never from the request.

A certificate, an e-mail, a badge or an API reply outlives the request that made it,
and a request's Host (or X-Forwarded-Host) header is whatever the client sent. So every
absolute address the app writes into something it hands out comes from here.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def base_url() -> str:
    """The configured public address of the app, without a trailing slash."""
    return current_app.config["BASE_URL"].rstrip("/")


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute address of an endpoint under BASE_URL, in a request or outside one (CLI, jobs)."""
    base = urlsplit(base_url())
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)
