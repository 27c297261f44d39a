"""yaml_lines reads with libyaml and gives what PyYAML's own loader gives: the same data, the same
lines, the same duplicates, and for a text either refuses, PyYAML's message and line."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from lms.checked_yaml import yaml_lines
from lms.config import PROJECT_ROOT

SHIPPED = sorted(path for folder in ("courses", "quizzes", "programmes")
                 for path in (PROJECT_ROOT / folder).rglob("*.yaml"))
ODD = [
    "\ufeffa: 1\n",  # a byte order mark, as Windows editors write
    "a: 1\na: 2\nb: [1, 2]\nb: {c: 3}\n",
    "- x\n-\n  - y\n  - {z: 'q', w: \"é\"}\n",
    "when: 2026-12-07\nyes: no\nn: ~\nf: 1.5e3\nt: !!str 12\n",
    "text: |\n  line one\n\n  line three\nfolded: >-\n  a\n  b\n",
    "k: 'it''s'\n? complex\n: value\n",
    "",
    "# only a comment\n",
]
REFUSED = ["title: [unclosed\n", "a: &x [1]\nb: *x\n", "a: \x07\n", "a: b: c\n", "\t- x\n", "a: 'open\n",
           "[" * 100_000 + "]" * 100_000, "{a: " * 60 + "}" * 60]


def _pure(text: str) -> tuple[Any, list[tuple[int, str]]]:
    loader = yaml_lines.LineLoader(text)
    try:
        return loader.get_single_data(), loader.duplicates
    finally:
        loader.dispose()


def _with_lines(data: Any) -> Any:
    if isinstance(data, dict):
        return ("map", data.line, dict(data.key_lines), {key: _with_lines(value) for key, value in data.items()})
    if isinstance(data, list):
        return ("seq", data.line, list(data.item_lines), [_with_lines(item) for item in data])
    return (type(data).__name__, data)


def test_every_shipped_file_reads_as_pyyaml_reads_it():
    assert len(SHIPPED) > 10
    for path in SHIPPED:
        text = path.read_text(encoding="utf-8")
        data, duplicates = yaml_lines.load(text)
        expected, expected_duplicates = _pure(text)
        assert _with_lines(data) == _with_lines(expected), path
        assert duplicates == expected_duplicates, path


@pytest.mark.parametrize("text", ODD)
def test_odd_texts_read_as_pyyaml_reads_them(text: str):
    data, duplicates = yaml_lines.load(text)
    expected, expected_duplicates = _pure(text)
    assert _with_lines(data) == _with_lines(expected)
    assert duplicates == expected_duplicates


@pytest.mark.parametrize("text", REFUSED)
def test_refused_texts_get_pyyamls_message_and_line(text: str):
    with pytest.raises(yaml.YAMLError) as refused:
        yaml_lines.load(text)
    with pytest.raises(yaml.YAMLError) as expected:
        _pure(text)
    said = (yaml_lines.error_line(refused.value), yaml_lines.error_message(refused.value))
    assert said == (yaml_lines.error_line(expected.value), yaml_lines.error_message(expected.value))


def test_a_tab_after_a_colon_separates_as_a_space():
    """Where libyaml is kinder than PyYAML: YAML allows a tab as separating white space here,
    which PyYAML's scanner refused."""
    assert yaml_lines.load("a:\t1\n") == ({"a": 1}, [])
    with pytest.raises(yaml.YAMLError):
        _pure("a:\t1\n")


def test_a_file_libyaml_reads_is_read_by_libyaml(monkeypatch):
    """The fast path is the one taken (PyYAML's scanner is not even started)."""
    def refuse(*args, **kwargs):
        raise AssertionError("PyYAML's scanner ran")
    monkeypatch.setattr(yaml_lines.LineLoader, "scan_plain", refuse)
    text = Path(SHIPPED[0]).read_text(encoding="utf-8")
    assert yaml_lines.load(text)[0]
