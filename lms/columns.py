"""Column types shared by every package's models (the UTC datetime lives with the clock, lms/clock.py)."""
from __future__ import annotations

import enum

from sqlalchemy import Enum


def _values(enum_class: type[enum.Enum]) -> list[str]:
    return [member.value for member in enum_class]


def enum_column(enum_class: type[enum.Enum], length: int) -> Enum:
    """An enum stored by its lowercase value, which reads well in SQL and exports, as a plain
    string column (no database enum type, so adding a member needs no migration)."""
    return Enum(enum_class, native_enum=False, length=length, validate_strings=True, values_callable=_values)
