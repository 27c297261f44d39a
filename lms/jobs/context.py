"""What job code sees: its parameters, a way to report progress, and who asked.

Job functions take a JobContext and return OutputFiles. They must not reach for
the request, the session's user or the thread they run in: the default runner is a
worker thread of the web app, but the same function must run unchanged in a
separate worker process (`flask lms jobs run-pending`, later a distributed queue).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OutputFile:
    """One file a job produces; stored only if the whole job succeeds."""

    name: str
    media_type: str
    data: bytes


class JobFailed(Exception):
    """Raised by job code for an expected failure; its message is shown to the user as is."""


@dataclass(frozen=True)
class JobContext:
    job_id: int
    params: Mapping[str, Any]
    organisation_id: int | None
    requested_by_id: int
    _progress: Callable[[int, int], None] = field(repr=False)

    def report_progress(self, done: int, total: int) -> None:
        """Record that `done` of `total` steps are finished.

        This commits the database session, so call it where the work so far may be kept
        (for example after each certificate is stored).
        """
        self._progress(done, total)
