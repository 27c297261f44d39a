"""Credentials besides our PDFs that the public verify page checks: the package that issues them
registers a reader here when it loads (credentials registers its Open Badge reader), so evidence,
below that package, imports nothing from it. As with job kinds (lms/jobs/kinds.py), create_app
loads every package, so every reader is registered before a request arrives.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Unreadable(ValueError):
    """Data that is not a credential the reader accepts; the message says why, for people."""


# Reads data that is not a PDF and returns what the verify page shows (found, award, status, ...);
# raises Unreadable for data it does not recognise.
Reader = Callable[[bytes], Any]

_READERS: list[Reader] = []


def register(reader: Reader) -> None:
    if reader not in _READERS:
        _READERS.append(reader)


def verify(data: bytes) -> Any:
    """The verification of `data` by the first reader that recognises it; Unreadable, with the
    last reader's reason, when none does."""
    reason = "That is not a certificate's PDF."
    for reader in _READERS:
        try:
            return reader(data)
        except Unreadable as exc:
            reason = str(exc)
    raise Unreadable(reason)
