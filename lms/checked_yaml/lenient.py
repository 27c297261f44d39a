"""Reading values leniently: a missing or mistyped value becomes an empty one.

The parsers build their models this way so that one bad field does not hide the others; the
field checks (fields.py) report every such field.
"""
from __future__ import annotations

from typing import Any

from .yaml_lines import LineDict


def text(data: Any, key: str) -> str:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, str) else ""


def integer(data: Any, key: str, default: int = 0) -> int:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def optional_integer(data: Any, key: str) -> int | None:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def texts(data: Any, key: str) -> tuple[str, ...]:
    value = data.get(key) if isinstance(data, dict) else None
    if isinstance(value, str):
        return (value,)
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def mappings(data: Any, key: str) -> list[LineDict]:
    value = data.get(key) if isinstance(data, dict) else None
    return [v for v in value if isinstance(v, LineDict)] if isinstance(value, list) else []
