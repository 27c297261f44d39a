"""The renderer's only door to resources: `SafeFetcher` (security.md, "PDFs (WeasyPrint 70)").

It serves files under static/pdf/ (CSS, fonts, logo) and data: URIs, and refuses every other
URL, so no render ever opens a connection or reads another file, whatever the HTML asks for.

Only the renderer process (lms/evidence/renderer.py) loads this file, by its path: it
subclasses WeasyPrint's fetcher, and the web app never imports WeasyPrint.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping
from urllib import request
from urllib.parse import urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

# Computed here, not imported: the renderer process loads this file without the `lms` package.
STATIC_PDF_DIR = Path(__file__).resolve().parents[2] / "static" / "pdf"


class RefusedURL(ValueError):
    """Raised by `SafeFetcher` for any URL it does not serve."""


class SafeFetcher(URLFetcher):
    """WeasyPrint's only door to resources: files under `root` and data: URIs, nothing else.

    Why: the HTML we render carries user-authored text (names, course content). If WeasyPrint
    fetched what it names, an <img>, stylesheet, @import, @font-face, <object> or
    <link rel=attachment> could make our server connect to internal services (SSRF,
    loopback included), read local files into the PDF (file:///etc/passwd, our config), or
    follow a redirect to either. So http(s), ftp and every other scheme are refused before
    anything is opened, and file: URLs only if the real path (after "..", percent-decoding
    and symlinks) is a regular file inside `root` with an extension we serve.

    A refusal raises `RefusedURL`, an ordinary exception: WeasyPrint logs the resource as
    failed and renders on without it (a FatalURLFetchingError would abort the render, which
    would let any user-authored <img> break a certificate).
    """

    CONTENT_TYPES = {
        ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg", ".ttf": "font/ttf", ".otf": "font/otf", ".woff": "font/woff",
        ".woff2": "font/woff2",
    }

    def __init__(self, root: Path | str = STATIC_PDF_DIR) -> None:
        # No protocol allowed and no redirects for the inherited urllib machinery: `fetch`
        # below never calls it, and if anything ever did it would refuse as well.
        super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)
        self.root = os.path.realpath(root)

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return self._data(url)
        if scheme == "file":
            return self._file(url)
        raise RefusedURL(f"PDF renderer refuses {scheme or 'relative'} URL {url[:200]!r}")

    def _data(self, url: str) -> URLFetcherResponse:
        # urllib's data: parser only decodes the string; it never touches a network or file.
        with request.DataHandler().data_open(request.Request(url)) as response:
            body = response.read()
            content_type = response.headers.get("Content-Type", "text/plain")
        return URLFetcherResponse(url, body, {"Content-Type": content_type})

    def _file(self, url: str) -> URLFetcherResponse:
        parts = urlsplit(url)
        # file://host/... would make urllib fall back to FTP on that host.
        if parts.netloc not in ("", "localhost"):
            raise RefusedURL(f"PDF renderer refuses remote file URL {url[:200]!r}")
        path = request.url2pathname(parts.path)
        if "\x00" in path:
            raise RefusedURL("PDF renderer refuses a path with a NUL byte")
        real = os.path.realpath(path)
        inside = real != self.root and os.path.commonpath([real, self.root]) == self.root
        content_type = self.CONTENT_TYPES.get(os.path.splitext(real)[1].lower())
        if not inside or content_type is None or not os.path.isfile(real):
            raise RefusedURL(f"PDF renderer serves only its own assets, not {url[:200]!r}")
        with open(real, "rb") as f:
            body = f.read()
        return URLFetcherResponse(url, body, {"Content-Type": content_type})
