"""Item-writing flaws: cues that let a question be answered without knowing the material. Each
question type looks for them in its items (QuestionType.lint and lint_bank), and `content check`
prints them as warnings (lms/content/item_lint.py).

The key is the one long, careful option; "all of the above" is right because two options look
right; a quiz's true/false statements are nearly all false; feedback gives a verdict and no
reason ("Correct."). The helpers the types share are here.

The rules read the mappings as written, so each warning gives the line; they skip values of the
wrong type, which validation reports.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from lms.checked_yaml.fields import ARTICLE
from lms.checked_yaml.yaml_lines import LineDict

# An option that stands for "every other option" or "no other option" rewards
# spotting two right-looking options instead of knowing the answer.
ABOVE = re.compile(r"\b(?:all|none|both|neither)\s+of\s+(?:the\s+above|these)\b", re.IGNORECASE)
# Feedback made of these words only says whether the agent was right, not why.
VERDICT_WORDS = frozenset({
    "correct", "incorrect", "right", "wrong", "yes", "no", "not", "true", "false", "quite",
    "well", "done", "exactly", "sorry", "that", "this", "is", "it", "s", "answer", "the",
})
FEEDBACK_MIN_REASON_WORDS = 3
_WORD = re.compile(r"[a-z0-9]+")

Flaw = tuple[int, str]  # (line, message)


def text_length(text: str) -> int:
    """Characters, spaces collapsed."""
    return len(" ".join(text.split()))


def is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def options_of(item: LineDict) -> list[LineDict]:
    options = item.get("options")
    if not isinstance(options, list):
        return []
    return [option for option in options if isinstance(option, LineDict)]


def above(options: list[LineDict]) -> Iterator[Flaw]:
    """Options that say "all of the above" or the like."""
    for option in options:
        text = option.get("text")
        if is_text(text) and (found := ABOVE.search(text)):
            yield option.line_of("text"), (
                f"option '{option.get('id')}' says \"{found.group(0)}\": write the answer itself, "
                "so that spotting two right-looking options is not enough")


def bare_feedback(where: Iterable[tuple[str, LineDict, str]]) -> Iterator[Flaw]:
    """Feedback, at each (name, mapping, key), that gives a verdict and no reason."""
    for name, mapping, key in where:
        feedback = mapping.get(key)
        if is_text(feedback) and _gives_no_reason(feedback):
            yield mapping.line_of(key), (
                f"{name} has feedback without a reason ({feedback.strip()!r}): say why it is right "
                "or wrong, or cite the article")


def _gives_no_reason(feedback: str) -> bool:
    """Whether `feedback` is only a verdict: no article cited, under three other words."""
    if ARTICLE.search(feedback):
        return False
    reason = [word for word in _WORD.findall(feedback.lower()) if word not in VERDICT_WORDS]
    return len(reason) < FEEDBACK_MIN_REASON_WORDS
