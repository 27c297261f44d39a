"""Small pieces the WTForms forms of several domains share."""
from __future__ import annotations


def optional_int(value: str | int | None) -> int | None:
    """Coerce a select's value to an id, where "" (a "Choose…" or "Any" option) means none."""
    return int(value) if value not in (None, "", "None") else None


def stripped(value: str | None) -> str | None:
    """A text field's filter: the text without surrounding white space (a reason of spaces is none)."""
    return value.strip() if isinstance(value, str) else value
