"""CSV cells that spreadsheet programs open as text, never as formulas (CSV injection).

Every CSV a person downloads (the dashboard, the audit log, exports, roster reports, the record of
processing) writes its cells through spreadsheet_safe."""
from __future__ import annotations

# Spreadsheet programs run cells that start with these as formulas.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value) -> str:
    """The value as text, with a leading quote when it would otherwise start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
