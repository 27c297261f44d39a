"""Line diffs between two sets of content files, for version history and edit conflicts."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from flask_babel import gettext as _, ngettext

CONTEXT_LINES = 3


@dataclass(frozen=True)
class Row:
    """One line of a diff: `kind` is 'equal', 'delete', 'insert' or 'skip' (unchanged lines left out)."""

    kind: str
    old_line: int | None
    new_line: int | None
    text: str


@dataclass
class FileDiff:
    """What changed in one file: 'added', 'removed' or 'changed', with its rows (none for binary files)."""

    path: str
    status: str
    rows: list[Row] = field(default_factory=list)
    note: str = ""  # for binary files: their sizes

    @property
    def insertions(self) -> int:
        return sum(row.kind == "insert" for row in self.rows)

    @property
    def deletions(self) -> int:
        return sum(row.kind == "delete" for row in self.rows)


def _lines(data: str | bytes | None) -> list[str]:
    return [] if data is None else str(data).split("\n")


def _describe(data: str | bytes | None) -> str:
    if data is None:
        return _("none")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    # Sizes only: a digest means nothing to a trainer (the versions' hashes are under Advanced).
    size = f"{len(raw):,}"
    return ngettext("%(size)s byte", "%(size)s bytes", len(raw), size=size)


def _rows(old: list[str], new: list[str]) -> list[Row]:
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for group in matcher.get_grouped_opcodes(CONTEXT_LINES):
        if rows or group[0][1] > 0:
            rows.append(Row("skip", None, None, ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [Row("equal", i + 1, j + 1, old[i]) for i, j in zip(range(i1, i2), range(j1, j2))]
                continue
            rows += [Row("delete", i + 1, None, old[i]) for i in range(i1, i2)]
            rows += [Row("insert", None, j + 1, new[j]) for j in range(j1, j2)]
    return rows


def diff_files(old: dict[str, str | bytes], new: dict[str, str | bytes]) -> list[FileDiff]:
    """Every file that differs between `old` and `new`, by path, with context around changes."""
    diffs: list[FileDiff] = []
    for path in sorted(old.keys() | new.keys()):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        status = "added" if before is None else "removed" if after is None else "changed"
        if isinstance(before, bytes) or isinstance(after, bytes):
            diffs.append(FileDiff(path, status, note=_("binary file: was %(before)s; now %(after)s",
                                                       before=_describe(before), after=_describe(after))))
            continue
        diffs.append(FileDiff(path, status, _rows(_lines(before), _lines(after))))
    return diffs
