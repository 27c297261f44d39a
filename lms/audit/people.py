"""The people the log names, as the package that owns them registers them: accounts registers its
User model when it loads. The log needs people's ids, organisations and e-mails to scope, filter
and erase events; accounts record most of those events, so the log takes the model this way
instead of importing accounts (as owners of other records register references, subjects.py).
"""
from __future__ import annotations

from typing import Any

_PEOPLE: list[Any] = []


def register(model: Any) -> None:
    """The people model: a mapped class with `id`, `organisation_id` and `email`."""
    _PEOPLE[:] = [model]


def model() -> Any:
    if not _PEOPLE:
        raise RuntimeError("no people model is registered with the audit log (lms.accounts.models does it)")
    return _PEOPLE[0]
