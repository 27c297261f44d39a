"""The live server of the browser tests closes what it serves even when the browser drops the connection."""
from __future__ import annotations

import gc
import warnings

from werkzeug.test import EnvironBuilder

from tests.live_server import _closing


def _ignore_start_response(status: str, headers: list, exc_info: object = None) -> None:
    return None


def _warnings_after_a_dropped_response(application) -> list[str]:
    """Start a response the way Werkzeug's server does, then drop it without close() (what
    the server does when writing to a reset connection fails), and collect the warnings."""
    environ = EnvironBuilder(path="/static/js/quiz.js").get_environ()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        body = application(environ, _ignore_start_response)
        next(iter(body))
        del body
        gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


def test_a_dropped_response_leaves_its_file_open_without_the_wrapper(app):
    # The failure the wrapper is for (a ResourceWarning, an error in this suite, in whichever
    # test the garbage collector happens to run).
    assert any("quiz.js" in message for message in _warnings_after_a_dropped_response(app))


def test_the_live_server_closes_a_dropped_response(app):
    assert _warnings_after_a_dropped_response(_closing(app)) == []
