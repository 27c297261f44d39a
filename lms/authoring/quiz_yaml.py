"""A quiz file as plain editable data, and back to YAML text: pure, no Flask, no database.

The editor works on plain dicts and lists (what `load_quiz` returns). Two ways back to text:

- `dump_quiz` writes the whole file in the documented layout: keys in the order of
  docs/content-format.md, block style with the short lists in flow style (as the repository's
  files are written), Unicode kept, text with line breaks as `|` blocks and long prose as `>`
  blocks wrapped at 96 columns.
- `update_quiz_text` rewrites only what changed: an edited question replaces that question's
  lines and every other line of the file stays as it was, comments included.

Both are checked by loading the result again: whatever the layout, the data (and so the
content hash) is exactly what the editor meant, or the writer falls back to a form that is.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import yaml
from flask_babel import gettext as _

from lms.content import yaml_lines
from lms.content.model import sha256_json
from lms.question_types import REGISTRY

WIDTH = 96
QUESTION_INDENT = 2  # "  - id: ..." as in quizzes/*.yaml

QUIZ_KEYS = ("title", "description", "pass_mark", "time_limit_minutes", "attempts", "review",
             "multiple_response_scoring", "draw", "questions")
ATTEMPTS_KEYS = ("max", "cooldown_minutes")
DRAW_KEYS = ("phase", "count", "types")
COMMON_HEAD = ("id", "type", "phase", "difficulty", "points")
COMMON_TAIL = ("explanation", "references", "teaches")
OPTION_KEYS = ("id", "text", "feedback")
NODE_KEYS = ("id", "caller", "choices", "end")
CHOICE_KEYS = ("id", "text", "feedback", "score", "critical", "discloses", "next")
# Lists of short scalars read best on one line, as the repository's files write them.
FLOW_LISTS = frozenset({"references", "types", "correct"})


class QuizTextError(ValueError):
    """The text is not a YAML mapping the editor can work on."""


def plain(value: Any) -> Any:
    """`value` with LineDict/LineList turned into plain dicts and lists."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def load_quiz(text: str) -> dict:
    """The quiz file `text` as plain data; QuizTextError when it is not a YAML mapping."""
    try:
        data = yaml_lines.load(text)[0]
    except yaml.YAMLError as error:
        raise QuizTextError(_("line %(line)s: %(message)s", line=yaml_lines.error_line(error),
                              message=yaml_lines.error_message(error))) from None
    if not isinstance(data, dict):
        raise QuizTextError(_("a quiz file must be a mapping of fields (name: value)"))
    return plain(data)


def content_hash(data: dict) -> str:
    """The hash `content load` gives a quiz whose file holds `data` (Quiz.content_hash)."""
    return sha256_json(data)


# -- writing -------------------------------------------------------------------------------

def _ordered(data: dict, keys: Iterable[str]) -> list[tuple[str, Any]]:
    """Items in the documented order; unknown keys after them, as written, so nothing is lost."""
    known = [key for key in keys if key in data]
    return [(key, data[key]) for key in known] + \
        [(key, value) for key, value in data.items() if key not in known]


def _item_keys(item: dict) -> tuple[str, ...]:
    qtype = REGISTRY.get(item.get("type"))  # an unknown type keeps its keys in the order given
    return COMMON_HEAD + (qtype.yaml_keys if qtype else ()) + COMMON_TAIL


def _block_style_value(value: str) -> str:
    """How PyYAML writes a scalar after 'key: ' in block context, on one line."""
    dumped = yaml.safe_dump({"k": value}, allow_unicode=True, width=10**9,
                            default_flow_style=False, sort_keys=False)
    return dumped[len("k: "):].rstrip("\n")


def _loads_back(text: str, value: Any) -> bool:
    try:
        return yaml.safe_load(text) == {"k": value}
    except yaml.YAMLError:
        return False


def _wrap(text: str, width: int) -> list[str] | None:
    """Words of `text` in lines of at most `width`; None when folding would change it."""
    if not text or text != text.strip(" ") or "  " in text or "\t" in text or "\n" in text:
        return None
    words: list[str] = []
    for word in text.split(" "):
        # "Art. 5(1)(f)" is one citation: a reader should not find it split over two lines.
        if words and words[-1] in ("Art.", "Recital", "Article", "Articles"):
            words[-1] += " " + word
        else:
            words.append(word)
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _string(value: str, indent: int, column: int) -> list[str]:
    """Lines for a string that starts at `column`; continuation lines indented by `indent`."""
    pad = " " * indent

    def checked(header: str, body: list[str]) -> list[str] | None:
        # A block's meaning depends only on its indentation relative to its key, so a
        # probe under a top-level key tells whether it reads back as `value`.
        probe = "\n".join(["k: " + header] + ["  " + line if line else "" for line in body]) + "\n"
        if not _loads_back(probe, value):
            return None
        return [header] + [pad + line if line else "" for line in body]

    if "\n" in value.rstrip("\n"):
        trailing = len(value) - len(value.rstrip("\n"))
        chomp = {0: "-", 1: ""}.get(trailing, "+")
        body = value.rstrip("\n").split("\n") + [""] * max(0, trailing - 1)
        lines = checked("|" + chomp, body)
        if lines and not value.startswith((" ", "\t")):
            return lines
    else:
        one_line = _block_style_value(value)
        folded = value.endswith("\n") and value.count("\n") == 1
        if not folded and column + len(one_line) <= WIDTH and "\n" not in one_line:
            return [one_line]
        words = _wrap(value.rstrip("\n"), WIDTH - indent)
        if words:
            lines = checked(">" if folded else ">-", words)
            if lines:
                return lines
    # Anything the styles above cannot hold exactly (control characters, odd spacing).
    return [json.dumps(value, ensure_ascii=False)]


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return _block_style_value(str(value))


def _flow(value: Any) -> str:
    """A short list or mapping of scalars on one line: [a, b] / {k: v}."""
    if isinstance(value, list):
        return "[" + ", ".join(_flow_item(item) for item in value) + "]"
    return "{" + ", ".join(f"{key}: {_flow_item(item)}" for key, item in value.items()) + "}"


def _flow_item(value: Any) -> str:
    if isinstance(value, str):
        plain_ok = re.fullmatch(r"[a-z0-9][a-z0-9_-]*", value) and \
            yaml.safe_load(value) == value
        return value if plain_ok else json.dumps(value, ensure_ascii=False)
    return _scalar(value)


def _is_flat(value: Any) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return all(not isinstance(item, (dict, list)) for item in items)


def _mapping(data: dict, keys: Iterable[str], indent: int, first_prefix: str = "") -> list[str]:
    """Block mapping lines at `indent`; the first line may start with a prefix such as '- '."""
    lines: list[str] = []
    for key, value in _ordered(data, keys):
        lead = first_prefix if not lines else " " * len(first_prefix)
        lead = " " * indent + lead
        lines += _entry(lead, key, value, indent + len(first_prefix))
    if not lines:  # an empty mapping still needs to say so
        lines.append(" " * indent + first_prefix + "{}")
    return lines


def _entry(lead: str, key: str, value: Any, indent: int) -> list[str]:
    head = f"{lead}{key}:"
    if isinstance(value, str):
        body = _string(value, indent + 2, len(head) + 1)
        return [f"{head} {body[0]}"] + body[1:]
    if isinstance(value, dict):
        if key == "attempts" and _is_flat(value):
            return [f"{head} {_flow(dict(_ordered(value, ATTEMPTS_KEYS)))}"]
        return [head] + _mapping(value, (), indent + 2)
    if isinstance(value, list):
        if not value:
            return [f"{head} []"]
        if key in FLOW_LISTS and _is_flat(value):
            return [f"{head} {_flow(value)}"]
        return [head] + _sequence(key, value, indent + 2)
    return [f"{head} {_scalar(value)}"]


def _sequence(key: str, items: list, indent: int) -> list[str]:
    lines: list[str] = []
    for item in items:
        if key == "draw" and isinstance(item, dict) and \
                all(not isinstance(v, (dict, list)) or _is_flat(v) for v in item.values()):
            lines.append(" " * indent + "- " + _flow_rule(item))
        elif isinstance(item, dict):
            keys = {"questions": (), "options": OPTION_KEYS, "nodes": NODE_KEYS,
                    "choices": CHOICE_KEYS}.get(key, ())
            if key == "questions":
                keys = _item_keys(item)
            lines += _mapping(item, keys, indent, "- ")
        elif isinstance(item, list):
            lines.append(" " * indent + "- " + _flow(item))
        elif isinstance(item, str):
            body = _string(item, indent + 2, indent + 2)
            lines += [" " * indent + "- " + body[0]] + body[1:]
        else:
            lines.append(" " * indent + "- " + _scalar(item))
    return lines


def _flow_rule(rule: dict) -> str:
    parts = []
    for key, value in _ordered(rule, DRAW_KEYS):
        shown = _flow(value) if isinstance(value, list) else _flow_item(value)
        parts.append(f"{key}: {shown}")
    return "{" + ", ".join(parts) + "}"


def dump_question(item: dict, indent: int = QUESTION_INDENT) -> str:
    """One question as the lines of a `questions:` list item at `indent` (ends in a newline)."""
    return "\n".join(_mapping(item, _item_keys(item), indent, "- ")) + "\n"


def dump_quiz(data: dict) -> str:
    """The whole quiz file in the documented layout; loading it gives back `data` exactly."""
    lines: list[str] = []
    for key, value in _ordered(data, QUIZ_KEYS):
        if key == "questions" and isinstance(value, list) and value:
            lines.append("questions:")
            for item in value:
                lines.append("")
                block = dump_question(item) if isinstance(item, dict) else \
                    "\n".join(_sequence(key, [item], QUESTION_INDENT)) + "\n"
                lines.append(block.rstrip("\n"))
        else:
            lines += _entry("", key, value, 0)
    text = "\n".join(lines) + "\n"
    if load_quiz(text) != data:
        # Never expected; it keeps the promise that a save writes exactly what was meant.
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=WIDTH)
    return text


# -- rewriting only what changed ------------------------------------------------------------

def _question_chunks(text: str) -> tuple[str, list[str], str] | None:
    """Split a quiz file into (everything before the questions, one text per question, tail).

    A question's text starts with the blank and comment lines above it, so a heading
    comment stays with the question below it. None when the layout is not the usual one
    (questions last, as a block list), and the caller writes the whole file instead.
    """
    data = yaml_lines.load(text)[0]
    questions = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(questions, list) or not questions or list(data)[-1] != "questions":
        return None
    lines = text.split("\n")
    key_line = data.key_lines["questions"] - 1            # 0-based
    if lines[key_line].rstrip() != "questions:":
        return None
    starts = [line - 1 for line in questions.item_lines]
    dash = len(lines[starts[0]]) - len(lines[starts[0]].lstrip(" "))
    if any(not lines[s].lstrip(" ").startswith("- ") or
           len(lines[s]) - len(lines[s].lstrip(" ")) != dash for s in starts):
        return None

    def lead_start(index: int, floor: int) -> int:
        # Blank lines and comments at most as indented as the item's keys belong above it
        # (block-scalar text is always indented further).
        start = index
        while start - 1 > floor and (not lines[start - 1].strip() or (
                lines[start - 1].lstrip(" ").startswith("#")
                and len(lines[start - 1]) - len(lines[start - 1].lstrip(" ")) <= dash + 2)):
            start -= 1
        return start

    bounds = [lead_start(s, key_line) for s in starts]
    end = len(lines)
    tail_start = lead_start(end, starts[-1])
    chunks = ["\n".join(lines[bounds[i]:(bounds[i + 1] if i + 1 < len(bounds) else tail_start)])
              + "\n" for i in range(len(starts))]
    head = "\n".join(lines[:key_line + 1]) + "\n"
    tail = "\n".join(lines[tail_start:])
    return head, chunks, tail


def update_quiz_text(old_text: str, data: dict) -> str:
    """Text for `data` that keeps every unchanged part of `old_text` as it was written.

    Unchanged questions keep their lines (and the comments above them); a changed or new
    question is written in the documented layout. When the settings changed, the part
    before `questions:` is written afresh. If anything about the old layout is unusual,
    the whole file is written with `dump_quiz`.
    """
    try:
        old = load_quiz(old_text)
        split = _question_chunks(old_text)
    except (QuizTextError, yaml.YAMLError):
        return dump_quiz(data)
    if old == data:
        return old_text
    questions = data.get("questions")
    if split is None or not isinstance(questions, list) or not questions or \
            list(data)[-1] != "questions":
        return dump_quiz(data)
    head, chunks, tail = split
    settings = {key: value for key, value in data.items() if key != "questions"}
    if settings != {key: value for key, value in old.items() if key != "questions"}:
        head = dump_quiz({**settings, "questions": []}).replace("questions: []\n", "questions:\n")
    old_chunks = {json.dumps(item, sort_keys=True): chunk
                  for item, chunk in zip(old["questions"], chunks)}
    separator = "\n" if any(chunk.startswith("\n") for chunk in chunks) else ""
    parts = []
    for item in questions:
        chunk = old_chunks.get(json.dumps(item, sort_keys=True))
        parts.append(chunk if chunk is not None else separator + dump_question(item))
    text = head + "".join(parts) + tail
    if not text.endswith("\n"):
        text += "\n"
    try:
        if load_quiz(text) == data:
            return text
    except QuizTextError:
        pass
    return dump_quiz(data)
