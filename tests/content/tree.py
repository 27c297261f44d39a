"""Editing copies of the valid fixture tree, shared by the content tests."""
import shutil
from pathlib import Path

from lms.content import check_tree

FIXTURES = Path(__file__).parent / "fixtures"
VALID = FIXTURES / "valid"


def copy_valid(tmp_path: Path) -> Path:
    """A writable copy of the valid fixture tree."""
    root = tmp_path / "content"
    shutil.copytree(VALID, root)
    return root


def edit(root: Path, rel: str, old: str, new: str) -> None:
    """Replace the one occurrence of `old` in a file (fails if there is not exactly one)."""
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {rel}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def problems(root: Path) -> list[str]:
    return [str(problem) for problem in check_tree(root)]
