"""What the choice types (single choice, multiple response, ordering) share: items with 2 to 8
options, each with feedback, and a key of option ids that each type reads its own way."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lms.checked_yaml.fields import (
    Fields, Report, closed, describe, element_name, list_items, prefix, slug_value, text_value, unique_ids,
)
from lms.checked_yaml.lenient import mappings, text, texts
from lms.checked_yaml.yaml_lines import LineDict
from lms.question_types.base import Question, QuestionType
from lms.question_types.lint import Flaw, above, bare_feedback, options_of

OPTION_FIELDS: Fields = {"id": (True, slug_value), "text": (True, text_value), "feedback": (True, text_value)}


@dataclass(frozen=True, kw_only=True)
class Option:
    """An answer option of a choice or ordering question."""

    id: str
    text: str
    feedback: str


@dataclass(frozen=True, kw_only=True)
class ChoiceQuestion(Question):
    """single_choice, multiple_response or ordering.

    `correct` is one id (single_choice), the set of right ids in file order
    (multiple_response) or every id in the right order (ordering).
    """

    prompt: str
    options: tuple[Option, ...]
    correct: tuple[str, ...]


class ChoiceType(QuestionType):
    """A type whose items have options, a key of option ids, and per-option feedback."""

    yaml_keys = ("prompt", "options", "correct")
    fields: Fields = {"prompt": (True, text_value), "options": (True, None), "correct": (True, None)}

    def check(self, report: Report, label: str, item: LineDict, pass_mark: Any) -> None:
        option_ids = check_options(report, label, item)
        if "correct" in item:
            self.check_key(report, label, item, option_ids)

    def check_key(self, report: Report, label: str, item: LineDict, option_ids: list[str]) -> None:
        """The key: by default a non-empty list of option ids, each once (see the format)."""
        at = prefix(label)
        value, line = item["correct"], item.line_of("correct")
        if not isinstance(value, list) or not value:
            report.add(line, f"{at}'correct' must be a non-empty list of option ids, got {describe(value)}")
            return
        seen: set[str] = set()
        for index, answer in enumerate(value):
            answer_line = value.line_of(index)
            if not isinstance(answer, str):
                report.add(answer_line, f"{at}'correct' item {index + 1} must be an option id, "
                                        f"got {describe(answer)}")
            elif answer in seen:
                report.add(answer_line, f"{at}'correct' lists '{answer}' twice")
            elif option_ids and answer not in option_ids:
                report.add(answer_line, f"{at}correct answer '{answer}' {not_among(option_ids)}")
            else:
                seen.add(answer)
        self.check_key_covers(report, label, item, option_ids, seen)

    def check_key_covers(self, report: Report, label: str, item: LineDict, option_ids: list[str],
                         keyed: set[str]) -> None:
        """What the key must cover beyond naming options (nothing, but for an order)."""

    def build(self, data: LineDict, common: dict[str, Any]) -> Question:
        options = tuple(Option(id=text(o, "id"), text=text(o, "text"), feedback=text(o, "feedback"))
                        for o in mappings(data, "options"))
        return ChoiceQuestion(type=self.name, prompt=text(data, "prompt"), options=options,
                              correct=texts(data, "correct"), **common)

    def lint(self, item: LineDict) -> Iterator[Flaw]:
        options = options_of(item)
        yield from above(options)
        yield from bare_feedback((f"option '{option.get('id')}'", option, "feedback") for option in options)

    def answer_text(self, item: dict, response: Any) -> Any:
        options = {option["id"]: option["text"] for option in item.get("options", [])}
        if isinstance(response, str):
            return options.get(response, response)
        return [options.get(choice, str(choice)) for choice in response]

    def xapi_choices(self, item: dict) -> list[dict] | None:
        return [{"id": option["id"], "text": option["text"]} for option in item.get("options", [])]


def check_options(report: Report, label: str, item: LineDict) -> list[str]:
    """Check a choice item's options; return their ids in file order."""
    options = list_items(report, label, item, "options", min_items=2, max_items=8)
    for index, (line, option) in enumerate(options):
        closed(report, f"{label}, {element_name('option', option, index)}", option, line, OPTION_FIELDS)
    return list(unique_ids(report, label, "option", options))


def not_among(option_ids: list[str]) -> str:
    return f"is not among the options ({', '.join(option_ids)})"
