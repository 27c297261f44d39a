"""YAML loading that remembers where things were written.

Content errors must point at a line (`path:line: message`), so the loader builds
`LineDict` and `LineList` objects that carry the 1-based line of the mapping or
sequence itself, of every key, and of every sequence item. They are plain `dict`
and `list` subclasses, so the rest of the code (and `json.dumps`) treats them
as ordinary data.

libyaml (PyYAML's C extension, in its wheels) reads the text: six times faster
than PyYAML's own scanner and parser, which were a quarter of the time of the
tests that load content. The composer stays in Python, so that aliases and the
depth are refused before any node exists; a text libyaml refuses is read again
by PyYAML alone, whose messages and marks the error lines are built from. The
one difference found: libyaml takes a tab after `key:`, as YAML allows, where
PyYAML refused it (tests/content/test_yaml_lines.py).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.cyaml import CParser  # libyaml, in PyYAML's wheels
from yaml.nodes import MappingNode, SequenceNode
from yaml.resolver import Resolver


class LineDict(dict):
    """A mapping with the line it starts on and the line of each key."""

    def __init__(self, *args: Any, line: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = line
        self.key_lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        """Line of `key`, or of the mapping itself when the key is absent."""
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A sequence with the line it starts on and the line of each item."""

    def __init__(self, *args: Any, line: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = line
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int:
        """Line of item `index`, or of the sequence itself when unknown."""
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


MAX_DEPTH = 50  # levels of nested mappings and sequences


class LineLoader(yaml.SafeLoader):
    """SafeLoader that builds LineDict/LineList and collects duplicate keys.

    Duplicate keys are collected in `duplicates` instead of raised, so one
    duplicate does not hide every other problem in the file.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._start_checks()

    def _start_checks(self) -> None:
        self.duplicates: list[tuple[int, str]] = []
        self.depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        # Aliases are refused: an alias repeats data without repeating its lines
        # (errors would point at the anchor), and a few nested aliases can expand
        # into gigabytes when the content is hashed or stored as JSON.
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not allowed in content files",
                event.start_mark,
            )
        # PyYAML composes nested nodes by recursion: "[[[[…" a hundred thousand deep would end
        # in a RecursionError (a 500 on an import). Content never nests more than a few levels.
        if self.depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"the YAML nests more than {MAX_DEPTH} levels deep", self.peek_event().start_mark,
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class FastLineLoader(CParser, LineLoader):
    """LineLoader on libyaml's scanner and parser: the same data, lines and refusals.

    libyaml's own composer is not used: it recurses in C, and a text nested a hundred thousand
    levels deep would crash the process before any depth check could run.
    """

    # CParser composes too; these keep composing in Python, in LineLoader.compose_node.
    get_single_node = Composer.get_single_node
    compose_document = Composer.compose_document
    check_node = Composer.check_node
    get_node = Composer.get_node

    def __init__(self, stream: str) -> None:  # not LineLoader's: it would set up PyYAML's scanner too
        CParser.__init__(self, stream)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        Composer.__init__(self)
        self._start_checks()


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _construct_mapping(loader: LineLoader, node: MappingNode) -> Any:
    mapping = LineDict(line=_line(node))
    yield mapping
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise ConstructorError(
                "while constructing a mapping", node.start_mark,
                "found an unhashable key", key_node.start_mark,
            )
        if key in mapping:
            loader.duplicates.append((
                _line(key_node),
                f"duplicate key '{key}' (first given on line {mapping.key_lines[key]})",
            ))
            continue
        mapping[key] = loader.construct_object(value_node, deep=False)
        mapping.key_lines[key] = _line(key_node)


def _construct_sequence(loader: LineLoader, node: SequenceNode) -> Any:
    sequence = LineList(line=_line(node))
    yield sequence
    sequence.extend(loader.construct_object(item, deep=False) for item in node.value)
    sequence.item_lines = [_line(item) for item in node.value]


LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def load(text: str) -> tuple[Any, list[tuple[int, str]]]:
    """Parse one YAML document; return the data and (line, message) duplicates.

    Raises `yaml.YAMLError` (a `MarkedYAMLError` with a line when PyYAML knows
    one) when the text is not valid YAML.
    """
    try:
        return _load(FastLineLoader, text)
    except yaml.YAMLError:
        return _load(LineLoader, text)  # to say what is wrong and where, as PyYAML puts it


def _load(loader_class: type[LineLoader], text: str) -> tuple[Any, list[tuple[int, str]]]:
    loader = loader_class(text)
    try:
        data = loader.get_single_data()
    finally:
        loader.dispose()
    return data, loader.duplicates


def _mark(error: yaml.YAMLError) -> Any:
    """The mark that best shows where a YAML error is.

    PyYAML often notices an unclosed bracket or quote only at the end of the
    text; the line that opened it (the context mark) is then the useful one.
    """
    problem = getattr(error, "problem_mark", None)
    context = getattr(error, "context_mark", None)
    at_end = problem is not None and problem.buffer is not None \
        and problem.pointer >= len(problem.buffer.rstrip("\0\n"))
    return context if context is not None and (problem is None or at_end) else problem


def error_line(error: yaml.YAMLError) -> int:
    """The 1-based line a YAML error points at (1 when PyYAML gives none)."""
    mark = _mark(error)
    return mark.line + 1 if mark is not None else 1


def error_message(error: yaml.YAMLError) -> str:
    """A one-line description of a YAML error, without PyYAML's source excerpt."""
    problem = getattr(error, "problem", None)
    if problem is None:
        return f"invalid YAML: {error}"
    context = getattr(error, "context", None)
    if not context:
        return f"invalid YAML: {problem}"
    mark = getattr(error, "context_mark", None)
    if mark is not None and mark is not _mark(error):
        # "while parsing a flow mapping" helps more with where that mapping began.
        context += f" that starts on line {mark.line + 1}"
    return f"invalid YAML: {problem} ({context})"
