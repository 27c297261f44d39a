"""The parsed content tree: frozen dataclasses, no Flask, no database.

The parser builds these leniently (a missing or mistyped field becomes an empty
value) so that one bad field does not hide the others; `check_tree` reports
every such field. Only a tree with no problems is fit to load.

Top-level objects keep the mapping they were read from in `source` (a
`LineDict`, with line numbers): it is the canonical form that `content_hash`
covers and that a version row can store.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from lms.checked_yaml.yaml_lines import LineDict
from lms.question_types.base import Question

PHASES = ("before", "during", "after")
DIFFICULTIES = ("easy", "medium", "hard")
REVIEW_MODES = ("after_submit", "after_pass", "never")
# Agents who fail learn most from the explanations, and items come from pools, so
# showing them after every attempt is the default when a quiz does not say.
DEFAULT_REVIEW = "after_submit"
# The name after_submit had before: quiz versions already published keep it.
REVIEW_ALIASES = {"immediate": "after_submit"}
MULTIPLE_RESPONSE_SCORING = ("all_or_nothing", "partial")
REQUIREMENT_KINDS = ("course", "quiz")


def review_mode(value: object) -> str:
    """The review policy a quiz's `review` value stands for (the default when it is absent)."""
    if value is None:
        return DEFAULT_REVIEW
    return REVIEW_ALIASES.get(value, value) if isinstance(value, str) else ""


def sha256_json(data: Any) -> str:
    """SHA-256 hex of `data` as canonical JSON: sorted keys, no whitespace.

    Every item's content hash; authoring's quiz editor hashes a quiz the same way.
    """
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _image_digests(images: dict[str, bytes]) -> dict[str, str]:
    # The digest of each file stands for its bytes: any change to an image
    # changes the hash without putting megabytes through json.dumps.
    return {src: hashlib.sha256(data).hexdigest() for src, data in images.items()}


def _source() -> Any:
    return field(default_factory=LineDict, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class Lesson:
    """One lesson file: front matter fields and the Markdown body."""

    file: str                      # file name inside the course folder
    path: str                      # path relative to the content root
    id: str
    title: str
    phase: str
    minutes: int
    references: tuple[str, ...]
    key_points: tuple[str, ...]
    body: str
    body_line: int                 # file line of the body's first line
    source: LineDict = _source()   # the front matter as written


@dataclass(frozen=True, kw_only=True)
class Course:
    """A course folder: course.yaml, its lessons in order, and their images."""

    slug: str
    path: str                      # path of course.yaml relative to the root
    title: str
    summary: str
    audience: str
    estimated_minutes: int
    phases: tuple[str, ...]
    lessons: tuple[Lesson, ...]
    quiz: str | None
    key_points: tuple[str, ...]
    images: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)
    source: LineDict = _source()   # course.yaml as written

    @property
    def content_hash(self) -> str:
        """SHA-256 of course.yaml, every lesson (front matter and body) and image."""
        return sha256_json({
            "course": self.source,
            "lessons": [
                {"file": lesson.file, "front_matter": lesson.source, "body": lesson.body}
                for lesson in self.lessons
            ],
            "images": _image_digests(self.images),
        })


@dataclass(frozen=True, kw_only=True)
class JobAid:
    """A quick-reference card agents open during a call."""

    slug: str
    path: str
    title: str
    phase: str
    tags: tuple[str, ...]
    references: tuple[str, ...]
    body: str
    body_line: int
    images: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)
    source: LineDict = _source()

    @property
    def content_hash(self) -> str:
        """SHA-256 of the front matter, body and images."""
        return sha256_json({"front_matter": self.source, "body": self.body,
                             "images": _image_digests(self.images)})


@dataclass(frozen=True, kw_only=True)
class DrawRule:
    """Draw `count` items of `phase` (and of `types`, when not empty)."""

    phase: str
    count: int
    types: tuple[str, ...] = ()

    def matches(self, question: Question) -> bool:
        """Whether this rule may draw `question`."""
        return question.phase == self.phase and (not self.types or question.type in self.types)


@dataclass(frozen=True, kw_only=True)
class Quiz:
    """A quiz file: settings, draw rules and the bank of items."""

    slug: str
    path: str
    title: str
    description: str | None
    pass_mark: int
    time_limit_minutes: int | None
    max_attempts: int | None       # attempts.max; None means unlimited
    cooldown_minutes: int          # attempts.cooldown_minutes
    review: str
    multiple_response_scoring: str
    draw: tuple[DrawRule, ...]
    questions: tuple[Question, ...]
    source: LineDict = _source()   # the quiz file as written

    @property
    def content_hash(self) -> str:
        """SHA-256 of the quiz file's parsed data."""
        return sha256_json(self.source)


@dataclass(frozen=True, kw_only=True)
class Requirement:
    """One thing a programme asks for.

    A course requirement means every lesson of the course read; a quiz
    requirement means a finished attempt scoring at least `min_score` percent.
    """

    kind: Literal["course", "quiz"]
    slug: str                      # the course or quiz slug
    min_score: int | None = None   # quizzes only


@dataclass(frozen=True, kw_only=True)
class Programme:
    """A certification programme: what earns the certificate and how long it lasts."""

    slug: str
    path: str
    title: str
    description: str
    validity_months: int
    recertification_window_days: int   # recertification opens this long before expiry
    grace_days: int                    # default 0
    requirements: tuple[Requirement, ...]
    source: LineDict = _source()       # the programme file as written

    @property
    def content_hash(self) -> str:
        """SHA-256 of the programme file's parsed data."""
        return sha256_json(self.source)


TRANSLATION_KINDS = ("course", "quiz", "job_aid", "programme")
# What a stale translation's readers see: the source with a notice (the default), or the outdated
# translation with a notice. A trainer chooses per translation file (`if_stale`).
STALE_RULES = ("source", "translation")


@dataclass(frozen=True, kw_only=True)
class Translation:
    """One course, quiz, job aid or programme in another language, in files beside its source.

    Only the human-readable text is translated (`text`, see lms/content/translations.py for its
    shape per kind); ids, answer keys, scores and settings always come from the source, so
    grading is the same in every language. `translation_of` names the source's content hash the
    text was translated from: when the source changes, the translation is stale.
    """

    kind: Literal["course", "quiz", "job_aid", "programme"]
    slug: str
    language: str
    path: str                      # the translation's main file, relative to the root
    translation_of: str
    if_stale: str
    text: dict[str, Any]
    # A course's lesson files: lesson id -> (path, line of the body's first line).
    lesson_files: dict[str, tuple[str, int]] = field(default_factory=dict, compare=False, repr=False)
    source: LineDict = _source()   # the main file as written

    @property
    def content_hash(self) -> str:
        """SHA-256 of the translated text (a new hash is a new translation row)."""
        return sha256_json({"translation_of": self.translation_of, "if_stale": self.if_stale,
                            "text": self.text})


@dataclass(frozen=True)
class ContentTree:
    """Everything under a content root, keyed by slug (translations by kind, slug and language)."""

    courses: dict[str, Course] = field(default_factory=dict)
    quizzes: dict[str, Quiz] = field(default_factory=dict)
    job_aids: dict[str, JobAid] = field(default_factory=dict)
    programmes: dict[str, Programme] = field(default_factory=dict)
    translations: dict[tuple[str, str, str], Translation] = field(default_factory=dict)
