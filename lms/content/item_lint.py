"""Item-writing flaws in quiz questions: warnings that `content check` prints.

A question can be valid and still be answerable without knowing the material:
the key is the one long, careful option; "all of the above" is right because
two options look right; a quiz's true/false statements are nearly all false.
These rules look for such cues in the non-simulation questions. They are
warnings, not errors, so a draft can be loaded while it is being improved;
`content check --strict` treats them as errors, and the shipped content passes
it.

Two flaws the same review asked for are already errors in validate.py, which is
stricter than a warning: an option (or a true/false answer) without feedback,
and a question whose explanation and `references` cite no article. What is
linted here is feedback that gives a verdict and no reason ("Correct.").

The rules read the mappings as written, so each warning gives the line; they
skip values of the wrong type, which validation reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lms.checked_yaml.fields import ARTICLE
from lms.checked_yaml.problems import Problem
from lms.checked_yaml.yaml_lines import LineDict

from .model import ContentTree, Quiz

# The key is a cue when it is longer than every other option by more than this
# share of the next longest (in characters, spaces collapsed): 20% is about a
# clause more on a one-line option, which test-wise readers notice. Only
# single_choice has one key to compare; a multiple-response key is a set.
LONGEST_KEY_MARGIN = 0.20
# True/false keys more than this share one way let "always answer false" pass.
# A quiz with fewer than two true/false items cannot be balanced, so it is not judged.
TRUE_FALSE_SHARE = 0.70
TRUE_FALSE_MIN_ITEMS = 2
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


def _length(text: str) -> int:
    return len(" ".join(text.split()))


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _gives_no_reason(feedback: str) -> bool:
    """Whether `feedback` is only a verdict: no article cited, under three other words."""
    if ARTICLE.search(feedback):
        return False
    reason = [word for word in _WORD.findall(feedback.lower()) if word not in VERDICT_WORDS]
    return len(reason) < FEEDBACK_MIN_REASON_WORDS


def _options(item: LineDict) -> list[LineDict]:
    options = item.get("options")
    if not isinstance(options, list):
        return []
    return [option for option in options if isinstance(option, LineDict)]


def _longest_key(item: LineDict, options: list[LineDict]) -> Iterator[tuple[int, str]]:
    key = item.get("correct")
    lengths = {option.get("id"): _length(option["text"]) for option in options
               if _is_text(option.get("text")) and isinstance(option.get("id"), str)}
    if item.get("type") != "single_choice" or not isinstance(key, str) or key not in lengths \
            or len(lengths) < 2:
        return
    others = max(length for option_id, length in lengths.items() if option_id != key)
    if lengths[key] > others * (1 + LONGEST_KEY_MARGIN):
        option = next(option for option in options if option.get("id") == key)
        yield option.line_of("text"), (
            f"the key '{key}' is {lengths[key]} characters, more than {LONGEST_KEY_MARGIN:.0%} "
            f"longer than any other option ({others}): length gives it away; shorten it or give "
            "the other options the same care")


def _above(options: list[LineDict]) -> Iterator[tuple[int, str]]:
    for option in options:
        text = option.get("text")
        if _is_text(text) and (found := ABOVE.search(text)):
            yield option.line_of("text"), (
                f"option '{option.get('id')}' says \"{found.group(0)}\": write the answer itself, "
                "so that spotting two right-looking options is not enough")


def _bare_feedback(item: LineDict, options: list[LineDict]) -> Iterator[tuple[int, str]]:
    where = [(f"option '{option.get('id')}'", option, "feedback") for option in options]
    if item.get("type") == "true_false":
        where = [("the answer True", item, "feedback_true"), ("the answer False", item, "feedback_false")]
    for name, mapping, key in where:
        feedback = mapping.get(key)
        if _is_text(feedback) and _gives_no_reason(feedback):
            yield mapping.line_of(key), (
                f"{name} has feedback without a reason ({feedback.strip()!r}): say why it is right "
                "or wrong, or cite the article")


def _true_false_balance(quiz: Quiz, items: list[LineDict]) -> Iterator[tuple[int, str]]:
    keys = {item.get("id"): item["correct"] for item in items
            if item.get("type") == "true_false" and isinstance(item.get("correct"), bool)}
    if len(keys) < TRUE_FALSE_MIN_ITEMS:
        return
    trues = sum(keys.values())
    majority = max(trues, len(keys) - trues)
    if majority / len(keys) > TRUE_FALSE_SHARE:
        way = "true" if trues > len(keys) - trues else "false"
        ids = ", ".join(f"'{item_id}'" for item_id, key in keys.items() if str(key).lower() == way)
        yield quiz.source.line_of("questions"), (
            f"{majority} of the {len(keys)} true/false keys are {way} (questions {ids}); more than "
            f"{TRUE_FALSE_SHARE:.0%} one way lets a guess pass: rewrite some statements the other way")


def lint_quiz(quiz: Quiz) -> list[Problem]:
    """The item-writing warnings for one quiz, each as `path:line: warning: question 'id': ...`."""
    questions = quiz.source.get("questions")
    items = [item for item in questions if isinstance(item, LineDict)] \
        if isinstance(questions, list) else []
    items = [item for item in items if item.get("type") != "call_simulation"]
    warnings: list[Problem] = []
    for item in items:
        options = _options(item)
        for line, message in (*_longest_key(item, options), *_above(options),
                              *_bare_feedback(item, options)):
            warnings.append(Problem(quiz.path, line, f"warning: question '{item.get('id')}': {message}"))
    for line, message in _true_false_balance(quiz, items):
        warnings.append(Problem(quiz.path, line, f"warning: {message}"))
    return warnings


def lint_tree(tree: ContentTree) -> list[Problem]:
    """Item-writing warnings for every quiz of the tree, sorted by path and line."""
    warnings = [warning for quiz in tree.quizzes.values() for warning in lint_quiz(quiz)]
    return sorted(warnings, key=lambda warning: (warning.path, warning.line))
