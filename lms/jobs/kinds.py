"""The registry of job kinds: a name, a label for people, and the function that does the work.

Each package registers its own kinds when its modules load (evidence its exports and the
certificate render, privacy its erasure, roster its import, xAPI its NDJSON export): jobs runs
them without knowing what they do. The package's views import the module that registers, so
create_app has every kind registered before a job can run, in a web process or a worker alike.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lms.jobs.context import JobContext, OutputFile


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str
    run: Callable[[JobContext], Sequence[OutputFile]]
    export: bool = False  # offered on the exports page's form, in the order registered
    date_range: bool = False  # takes the form's date_from/date_to as parameters
    listed: bool = True  # False: work nobody asked for (a certificate rendered on award), kept out of job lists


_REGISTRY: dict[str, JobKind] = {}
_SERVER_FAILURES: dict[type[Exception], str] = {}


def register(kind: JobKind) -> JobKind:
    """Add a kind (a later name replaces an earlier one, so tests can register their own)."""
    _REGISTRY[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def get(name: str) -> JobKind | None:
    return _REGISTRY.get(name)


def all_kinds() -> list[JobKind]:
    return list(_REGISTRY.values())


def export_kinds() -> list[JobKind]:
    """The kinds people start from the exports page, in the order the form lists them."""
    return [kind for kind in _REGISTRY.values() if kind.export]


def unlisted_names() -> list[str]:
    return [kind.name for kind in _REGISTRY.values() if not kind.listed]


def register_server_failure(error: type[Exception], message: str) -> None:
    """Show `message` instead of `error`'s own text, which names server paths and settings."""
    _SERVER_FAILURES[error] = message


def server_failure_message(exc: Exception) -> str | None:
    return next((message for error, message in _SERVER_FAILURES.items() if isinstance(exc, error)), None)

