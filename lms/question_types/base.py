"""What every question type provides: the interface the content check and parser, the attempt
flow, the review, item analysis, the personal-data export and xAPI talk to, with the defaults
most types keep.

At run time items are the dicts of a published QuizVersion.spec, already validated by
`content check`; the answer key is read by the type and never leaves the server.
"""
from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from werkzeug.datastructures import MultiDict

from lms.checked_yaml.fields import Fields, Report
from lms.checked_yaml.yaml_lines import LineDict

if TYPE_CHECKING:
    from lms.question_types.editor import TypeEditor

# What an item is worth when it does not say (`points`).
DEFAULT_POINTS = 1


def item_points(item: dict) -> int:
    """What the item is worth: its `points`, or the content format's default."""
    return item.get("points", DEFAULT_POINTS)


@dataclass(frozen=True, kw_only=True)
class Question:
    """An item as the content parser reads it: the fields every item has; each type's subclass
    adds its own."""

    id: str
    type: str
    phase: str
    difficulty: str
    points: int
    explanation: str
    references: tuple[str, ...]
    # "<course>/<lesson id>#<section anchor>": the lesson section a missed item links to.
    teaches: str | None = None


class ResponseError(ValueError):
    """An answer the form could not accept; the message is shown to the agent."""


@dataclass(frozen=True)
class CriticalReply:
    """A reply marked critical in a call simulation: where it was given and why it fails."""

    node: str
    caller: str       # what the caller had said at that node
    choice: str
    text: str         # what the agent said
    reason: str       # the content's `critical` text, shown to the agent


@dataclass(frozen=True)
class Grade:
    earned: float
    possible: float
    critical: CriticalReply | None = None  # a call simulation failed by a critical reply

    @property
    def correct(self) -> bool:
        return self.possible > 0 and self.earned >= self.possible


@dataclass(frozen=True)
class Pick:
    """An option whose pick rate item analysis reports, or a reply at a call's decision."""

    id: str
    text: str
    key: bool  # in the answer key (for a decision: among the best-scoring replies)


@dataclass(frozen=True)
class Step:
    """A reply a response gave at one of the item's decisions, and its value there from 0 to 1."""

    decision: str
    reply: str
    value: float


class QuestionType(ABC):
    """One question type. Its package (lms/question_types/<name>/) holds this class and the two
    templates named after it: `question.html` (the input, in the question page's form) and
    `review.html` (the graded answer, on the result page and in the authoring preview), and its
    part of the quiz editor (`editor`, in editor.py and editor.html)."""

    name: ClassVar[str]
    label: ClassVar[str]
    # Set for a type answered one step at a time on its own page (a call simulation), to the
    # message an autosave of it gets: its answer is never autosaved from a half-filled form
    # and never cleared, and "say" stays on the page.
    stepwise: ClassVar[str | None] = None
    # xAPI's cmi.interaction type for the answer statement; "other" when none fits.
    xapi_interaction: ClassVar[str] = "other"
    # The item's own keys in the order the quiz editor writes them, between the common
    # head (id, type, phase, difficulty, points) and tail (explanation, references, teaches).
    yaml_keys: ClassVar[tuple[str, ...]]
    # The type's fields in the quiz editor (see lms/question_types/editor.py).
    editor: ClassVar[type[TypeEditor]]

    # -- the content format: what `content check` and the parser ask of the type

    # The item's own keys beside the common ones (id, type, phase, ...): required or not, and
    # the check of each value.
    fields: ClassVar[Fields]

    def check(self, report: Report, label: str, item: LineDict, pass_mark: Any) -> None:
        """Problems beyond each value's own check (the key against the options, a call's graph),
        reported on the item's lines; called after the keys' own checks, whatever they found."""

    @abstractmethod
    def build(self, data: LineDict, common: dict[str, Any]) -> Question:
        """The typed item, built leniently (a missing or mistyped value becomes an empty one,
        which `check` and `fields` report); `common` holds the common fields."""

    def lint(self, item: LineDict) -> Iterator[tuple[int, str]]:
        """Item-writing warnings for one item, as (line, message) (lint.py); none by default."""
        return iter(())

    def lint_bank(self, items: list[LineDict]) -> Iterator[str]:
        """Warnings about all of a quiz's items of this type together (none by default)."""
        return iter(())

    # -- the attempt and what is shown of it

    @property
    def template(self) -> str:
        return f"{self.name}/question.html"

    @property
    def review_template(self) -> str:
        return f"{self.name}/review.html"

    def prepare(self, item: dict, rng: random.Random) -> dict:
        """What this attempt shows of the item: by default the options in a shuffled order."""
        order = [option["id"] for option in item.get("options", [])]
        rng.shuffle(order)
        return {"order": order}

    @abstractmethod
    def parse(self, item: dict, shown: dict, form: MultiDict, previous: Any) -> Any:
        """The response to store, from the submitted form (and the previous response)."""

    @abstractmethod
    def grade(self, item: dict, response: Any, quiz: dict) -> Grade:
        """Points earned for a response, by the item's key and the quiz's scoring rules."""

    def answered(self, item: dict, response: Any) -> bool:
        return response not in (None, [], "")

    def display(self, item: dict, shown: dict, response: Any) -> dict:
        """What the question template shows besides the item: by default the options in this
        attempt's order, id and text only (never the key or feedback)."""
        by_id = {option["id"]: option for option in item.get("options", [])}
        return {"options": [{"id": oid, "text": by_id[oid]["text"]} for oid in shown.get("order", [])]}

    def review(self, item: dict, response: Any) -> dict:
        """What the review template shows besides the item and the response."""
        return {}

    def answer_text(self, item: dict, response: Any) -> Any:
        """The answer in words, as the person saw it, for their copy of their data
        (called only for a response that is not empty)."""
        return response

    # In the PDF of a person's data, an answer of several parts is a list: numbered when their
    # order is the answer (an ordering), bulleted otherwise.
    answer_numbered: ClassVar[bool] = False

    def answer_words(self, answer: Any) -> Any:
        """`answer_text`'s answer in the reader's language, for the PDF of it (the course's text,
        as written, by default)."""
        return answer

    def picks(self, item: dict) -> list[Pick]:
        """The options whose pick rates mean something in item analysis (none by default)."""
        return []

    def chosen(self, item: dict, response: Any) -> Iterable[str]:
        """The ids among `picks` that a response picked."""
        return []

    def decisions(self, item: dict) -> list[tuple[dict, list[Pick]]]:
        """Points inside the item that item analysis reports on their own (a call's nodes
        with replies; the dict has an "id"), each with its replies."""
        return []

    def steps(self, item: dict, response: Any) -> list[Step]:
        """The replies a response gave at the item's decisions, for item analysis; none when
        the item's current version cannot replay it."""
        return []

    def xapi_choices(self, item: dict) -> list[dict] | None:
        """The options an xAPI interaction definition lists, or None."""
        return None
