"""A problem found in a file: where, and what."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the content, at `path` (relative to the root) and `line`.

    Line 0 means the problem concerns the file or folder as a whole.
    """

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}: {self.message}"
        return f"{self.path}: {self.message}"
