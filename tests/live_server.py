"""The app served over real HTTP in a thread, for the tests that drive Chromium or an OpenID provider.

Chromium drops connections it no longer needs (a navigation while the logo is still
loading). Werkzeug's development server then stops before it closes the response, so a
static file's handle is left to the garbage collector, a ResourceWarning, which this
suite turns into an error in whichever test happens to be running. `_closing` wraps each
response in a generator whose `finally` closes it, whether the server finishes the
response or merely drops it.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from werkzeug.serving import make_server


def _closing(app: Flask) -> Any:
    def application(environ: dict, start_response: Any) -> Iterator[bytes]:
        body: Iterable[bytes] = app(environ, start_response)
        try:
            yield from body
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
    return application


@contextmanager
def serving(app: Flask) -> Iterator[tuple[str, int]]:
    """Serve `app` on a free port of 127.0.0.1 until the block ends; yields (host, port)."""
    server = make_server("127.0.0.1", 0, _closing(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
