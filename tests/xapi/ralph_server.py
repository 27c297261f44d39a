"""Serve Ralph's LRS API (ralph.api:app) with its file-system backend, for the tests and `make run`.

Run with .venv-ralph's Python: `python ralph_server.py HOST PORT` (Ralph reads the rest of its
settings from RALPH_* variables). `ralph runserver -b fs` would do, but Ralph 5.1's file-system
LRS backend writes each POST with the "create" operation, which refuses to write to an existing
file: every POST after the first answers 500. Here the backend appends instead, and uvicorn runs
in this process, without runserver's reloader.
"""
import sys

import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND

from ralph.api import app  # noqa: E402  (after the backend is set to append)

if __name__ == "__main__":
    uvicorn.run(app, host=sys.argv[1], port=int(sys.argv[2]), log_level="info")
