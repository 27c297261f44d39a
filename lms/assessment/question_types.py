"""The question-type registry.

Each type knows how to prepare what an attempt shows (option order), read an
answer from a form, and grade it. The attempt flow only talks to this
interface, so a new type plugs in here without touching it.

Items are the dicts of a published QuizVersion.spec, already validated by
`content check`; the answer key is read here and never leaves the server.
"""
from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict


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


class QuestionType(ABC):
    name: ClassVar[str]
    label: ClassVar[str]
    template: ClassVar[str]

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


class SingleChoice(QuestionType):
    name, label, template = "single_choice", _l("Choose one answer"), "assessment/types/single_choice.html"

    def parse(self, item, shown, form, previous):
        choice = form.get("option", "")
        if choice not in shown["order"]:
            raise ResponseError(gettext("Choose one of the answers."))
        return choice

    def grade(self, item, response, quiz):
        points = item.get("points", 1)
        return Grade(points if response == item["correct"] else 0, points)


class MultipleResponse(QuestionType):
    name, label, template = "multiple_response", _l("Choose all that apply"), "assessment/types/multiple_response.html"

    def parse(self, item, shown, form, previous):
        chosen = form.getlist("option")
        if not chosen or not set(chosen) <= set(shown["order"]):
            raise ResponseError(gettext("Choose at least one answer."))
        return sorted(set(chosen))

    def grade(self, item, response, quiz):
        points = item.get("points", 1)
        key, chosen = set(item["correct"]), set(response or [])
        if quiz.get("multiple_response_scoring", "all_or_nothing") == "partial":
            # Each right choice earns a share; each wrong one takes a share back; never below 0.
            share = (len(chosen & key) - len(chosen - key)) / len(key)
            return Grade(round(max(0.0, share) * points, 4), points)
        return Grade(points if chosen == key else 0, points)


class TrueFalse(QuestionType):
    name, label, template = "true_false", _l("True or false"), "assessment/types/true_false.html"

    def prepare(self, item, rng):
        return {"order": ["true", "false"]}

    def parse(self, item, shown, form, previous):
        value = form.get("option", "")
        if value not in ("true", "false"):
            raise ResponseError(gettext("Choose true or false."))
        return value == "true"

    def grade(self, item, response, quiz):
        points = item.get("points", 1)
        return Grade(points if response is item["correct"] else 0, points)

    def answered(self, item, response):
        return isinstance(response, bool)


class Ordering(QuestionType):
    name, label, template = "ordering", _l("Put these steps in order"), "assessment/types/ordering.html"

    def parse(self, item, shown, form, previous):
        # One select per step: "position-<option id>" = 1..n, each position used once.
        ids = shown["order"]
        try:
            positions = {oid: int(form.get(f"position-{oid}", "")) for oid in ids}
        except ValueError:
            raise ResponseError(gettext("Give every step a position.")) from None
        if sorted(positions.values()) != list(range(1, len(ids) + 1)):
            raise ResponseError(gettext("Use each position once: 1 for the first step, 2 for the next, and so on."))
        return sorted(ids, key=positions.__getitem__)

    def grade(self, item, response, quiz):
        points = item.get("points", 1)
        return Grade(points if list(response or []) == list(item["correct"]) else 0, points)


class CallSimulation(QuestionType):
    """A branching call. The response is the path: the choice ids picked, in order."""

    name, label, template = "call_simulation", _l("Call simulation"), "assessment/types/call_simulation.html"

    def prepare(self, item, rng):
        orders = {}
        for node in item["nodes"]:
            ids = [choice["id"] for choice in node.get("choices", [])]
            rng.shuffle(ids)
            if ids:
                orders[node["id"]] = ids
        return {"choices": orders}

    @staticmethod
    def walk(item: dict, path: list[str]) -> tuple[list[tuple[dict, dict]], dict]:
        """The (node, choice) steps taken so far and the node the call is at now."""
        nodes = {node["id"]: node for node in item["nodes"]}
        node, steps = nodes[item["start"]], []
        for choice_id in path:
            choice = next(c for c in node["choices"] if c["id"] == choice_id)
            steps.append((node, choice))
            node = nodes[choice["next"]]
        return steps, node

    def parse(self, item, shown, form, previous):
        path = list(previous or [])
        _, node = self.walk(item, path)
        if node.get("end"):
            raise ResponseError(gettext("This call has ended; move on to the next question."))
        choice = form.get("option", "")
        if choice not in shown["choices"].get(node["id"], []):
            raise ResponseError(gettext("Choose what you say next."))
        return path + [choice]

    def grade(self, item, response, quiz):
        points = item.get("points", 1)
        steps, _ = self.walk(item, list(response or []))
        critical = next((CriticalReply(node["id"], node["caller"], choice["id"], choice["text"],
                                       choice["critical"])
                         for node, choice in steps if choice.get("critical")), None)
        if critical is not None:
            # A breach is not outweighed by good replies around it: the simulation earns
            # nothing, and grade_responses fails the attempt whatever its percentage.
            return Grade(0, points, critical)
        total = sum(choice["score"] for _, choice in steps)
        return Grade(round(points * total / best_path_total(item), 4), points)

    def answered(self, item, response):
        return bool(response) and bool(self.walk(item, list(response))[1].get("end"))


def best_path_total(item: dict) -> int:
    """The best total any path through the simulation can reach (content check forbids cycles)."""
    nodes = {node["id"]: node for node in item["nodes"]}

    @lru_cache(maxsize=None)
    def best(node_id: str) -> int:
        choices = nodes[node_id].get("choices", [])
        return max((c["score"] + best(c["next"]) for c in choices), default=0)

    return best(item["start"])


REGISTRY: dict[str, QuestionType] = {
    t.name: t for t in (SingleChoice(), MultipleResponse(), TrueFalse(), Ordering(), CallSimulation())
}


def question_type(item: dict) -> QuestionType:
    return REGISTRY[item["type"]]
