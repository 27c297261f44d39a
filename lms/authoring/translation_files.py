"""A translation's text as the files the content parser reads, and those files read back.

The files stay the source of truth: a translation saved in the browser is offered as the exact
files to put beside its source (course.<lang>.yaml and <lesson>.<lang>.md, quizzes/<slug>.<lang>.yaml,
courses/_job-aids/<slug>.<lang>.md; docs/content-format.md, "Translations"). `read_back` parses
them beside the source's files with the content parser and checks them with `check_translations`,
so what authoring stores is what loading those files would store, hash included.
"""
from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from lms.authoring.export import dump_yaml
from lms.content import Problem, parse_tree
from lms.content.model import Translation
from lms.content.parser import JOB_AIDS_FOLDER
from lms.content.translations import check_translations

WIDTH = 96
FOLD_FROM = 60  # a sentence longer than this is written as a folded block, as translators write them
DEFAULT_IF_STALE = "source"  # what the parser reads when a file does not say


class _Dumper(yaml.SafeDumper):
    """Block style; long text as folded (`>`) blocks and text with line breaks as literal (`|`)
    ones. PyYAML picks a quoted style by itself where a block cannot hold a value exactly."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else ">" if len(value) > FOLD_FROM and " " in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)
# Parsed text is made of LineDict and LineList (dict and list with line numbers).
_Dumper.add_multi_representer(dict, _Dumper.represent_dict)
_Dumper.add_multi_representer(list, _Dumper.represent_list)


def dump(data: Mapping[str, Any]) -> str:
    """YAML text for `data`, keys in the order given, that loads back as `data`."""
    text = yaml.dump(dict(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=WIDTH,
                     default_flow_style=False)
    # Folding is the one layout PyYAML might get wrong for odd spacing: never store what it lost.
    return text if yaml.safe_load(text) == dict(data) else dump_yaml(dict(data))


def file_names(kind: str, slug: str, language: str, lesson_files: Mapping[str, str] | None = None) -> list[str]:
    """The paths, relative to the content root, of a translation's files (a course's main file
    first, then one per lesson of `lesson_files`: lesson id -> the source lesson's file name)."""
    if kind == "course":
        folder = f"courses/{slug}"
        return [f"{folder}/course.{language}.yaml"] + [
            f"{folder}/{PurePosixPath(file).stem}.{language}.md" for file in (lesson_files or {}).values()]
    if kind == "quiz":
        return [f"quizzes/{slug}.{language}.yaml"]
    return [f"courses/{JOB_AIDS_FOLDER}/{slug}.{language}.md"]


def translation_files(kind: str, slug: str, language: str, *, translation_of: str, if_stale: str,
                      text: Mapping[str, Any], lesson_files: Mapping[str, str] | None = None) -> dict[str, str]:
    """The files of a translation, by path relative to the content root.

    `lesson_files` (a course's): lesson id -> the source lesson's file name, in reading order; a
    lesson the text does not translate gets no file (its readers see the source's)."""
    head: dict[str, Any] = {"translation_of": translation_of}
    if if_stale != DEFAULT_IF_STALE:
        head["if_stale"] = if_stale
    names = file_names(kind, slug, language, lesson_files)
    if kind == "course":
        main = {key: value for key, value in text.items() if key != "lessons"}
        files = {names[0]: dump({**head, **main})}
        lessons = text.get("lessons") or {}
        for lesson_id, name in zip(lesson_files or {}, names[1:]):
            lesson = lessons.get(lesson_id)
            if isinstance(lesson, Mapping):
                front = {key: value for key, value in lesson.items() if key != "body"}
                files[name] = _front_matter_file(front, lesson.get("body") or "")
        return files
    if kind == "quiz":
        return {names[0]: dump({**head, **text})}
    front = {**head, **{key: value for key, value in text.items() if key != "body"}}
    return {names[0]: _front_matter_file(front, text.get("body") or "")}


def _front_matter_file(front_matter: Mapping[str, Any], body: str) -> str:
    """A Markdown file: front matter between '---' lines, then the body exactly as given."""
    return f"---\n{dump(front_matter)}---\n{body}"


def job_aid_file(slug: str, front_matter: Mapping[str, Any], body: str) -> dict[str, str]:
    """A job aid's source file (for `read_back`, which needs the source beside its translation)."""
    return {f"courses/{JOB_AIDS_FOLDER}/{slug}.md": _front_matter_file(front_matter, body)}


def read_back(kind: str, slug: str, language: str, files: Mapping[str, str],
              source_files: Mapping[str, str | bytes]) -> tuple[Translation | None, list[Problem]]:
    """The translation `files` hold, parsed beside `source_files` as `content load` would, and the
    problems `content check` would find in them (none in the source's files are reported)."""
    with tempfile.TemporaryDirectory(prefix="translation-") as folder:
        root = Path(folder)
        (root / "courses").mkdir()
        for path, data in {**source_files, **files}.items():
            target = (root / path).resolve()
            if not target.is_relative_to(root.resolve()):
                continue  # never expected: export and file_names make relative paths
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        tree, problems = parse_tree(root)
        problems = problems + check_translations(tree)
    return tree.translations.get((kind, slug, language)), [p for p in problems if p.path in files]
