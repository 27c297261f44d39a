"""A branching call: the agent picks what to say at each node until the call ends.

The response is the path, the choice ids picked in order. Each reply scores 0 to 3; the item
earns its points in proportion to the best path's total, and a reply marked `critical` fails it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from lms.checked_yaml.fields import Fields, slug_value, text_value
from lms.checked_yaml.lenient import integer, mappings, text
from lms.question_types.base import (
    CriticalReply, Grade, Pick, Question, QuestionType, ResponseError, Step, item_points,
)
from lms.question_types.call_simulation.editor import SimulationEditor
from lms.question_types.call_simulation.graph import check_simulation


@dataclass(frozen=True, kw_only=True)
class SimulationChoice:
    """A reply the agent may pick at a decision node.

    `critical` is the reason the agent is told when the reply is a critical failure (a path
    through it fails the simulation, see critical.py); empty when it is not.
    `discloses` tags a reply that discloses personal data or promises an exfiltration.
    """

    id: str
    text: str
    feedback: str
    score: int
    next: str
    critical: str = ""
    discloses: bool = False


@dataclass(frozen=True, kw_only=True)
class SimulationNode:
    """A caller line: a decision (with choices) or an ending (`end` true)."""

    id: str
    caller: str
    choices: tuple[SimulationChoice, ...] = ()
    end: bool = False


@dataclass(frozen=True, kw_only=True)
class SimulationQuestion(Question):
    """A branching call; scored as path total / best path total * points."""

    title: str
    scenario: str
    start: str
    nodes: tuple[SimulationNode, ...]

    def node(self, node_id: str) -> SimulationNode:
        """The node called `node_id` (KeyError when there is none)."""
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)


class CallSimulation(QuestionType):
    name, label = "call_simulation", _l("Call simulation")
    editor = SimulationEditor
    stepwise = _l("A call simulation is answered one reply at a time, on its page.")
    yaml_keys = ("title", "scenario", "start", "nodes")

    fields: Fields = {"title": (True, text_value), "scenario": (True, text_value),
                      "start": (True, slug_value), "nodes": (True, None)}

    def check(self, report, label, item, pass_mark):
        check_simulation(report, label, item, pass_mark)

    def build(self, data, common):
        return SimulationQuestion(type=self.name, title=text(data, "title"), scenario=text(data, "scenario"),
                                  start=text(data, "start"), nodes=tuple(_node(n) for n in mappings(data, "nodes")),
                                  **common)

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
        worth = item_points(item)
        steps, _ = self.walk(item, list(response or []))
        critical = next((CriticalReply(node["id"], node["caller"], choice["id"], choice["text"],
                                       choice["critical"])
                         for node, choice in steps if choice.get("critical")), None)
        if critical is not None:
            # A breach is not outweighed by good replies around it: the simulation earns
            # nothing, and grade_responses fails the attempt whatever its percentage.
            return Grade(0, worth, critical)
        total = sum(choice["score"] for _, choice in steps)
        return Grade(round(worth * total / best_path_total(item), 4), worth)

    def answered(self, item, response):
        return bool(response) and bool(self.walk(item, list(response))[1].get("end"))

    def display(self, item, shown, response):
        """The conversation so far and the replies on offer now (text only, no scores or feedback)."""
        steps, node = self.walk(item, list(response or []))
        by_id = {choice["id"]: choice for choice in node.get("choices", [])}
        return {"transcript": [{"caller": n["caller"], "agent": c["text"]} for n, c in steps],
                "caller": node["caller"], "ended": bool(node.get("end")),
                "choices": [{"id": cid, "text": by_id[cid]["text"]} for cid in shown["choices"].get(node["id"], [])]}

    def review(self, item, response):
        return {"steps": self.walk(item, list(response or []))[0]}

    def answer_text(self, item, response):
        return [{"caller": node["caller"], "you": choice["text"]} for node, choice in self.walk(item, list(response))[0]]

    def decisions(self, item):
        return [(node, _replies(node)) for node in item["nodes"] if node.get("choices")]

    def steps(self, item, response):
        if not isinstance(response, list):
            return []
        try:
            taken = self.walk(item, response)[0]
        except (KeyError, StopIteration):  # a path through nodes or replies this version no longer has
            return []
        # A reply's value is its score as a fraction of the best reply's at that node.
        return [Step(node["id"], choice["id"], _fraction(node, choice)) for node, choice in taken]


def _node(data) -> SimulationNode:
    return SimulationNode(
        id=text(data, "id"), caller=text(data, "caller"), end=data.get("end") is True,
        choices=tuple(SimulationChoice(id=text(c, "id"), text=text(c, "text"), feedback=text(c, "feedback"),
                                       score=integer(c, "score"), next=text(c, "next"),
                                       critical=text(c, "critical"), discloses=c.get("discloses") is True)
                      for c in mappings(data, "choices")),
    )


def _fraction(node: dict, choice: dict) -> float:
    top = max(c["score"] for c in node["choices"])
    return choice["score"] / top if top else 1.0


def _replies(node: dict) -> list[Pick]:
    top = max(c["score"] for c in node["choices"])
    return [Pick(c["id"], c["text"], c["score"] == top) for c in node["choices"]]


def best_path_total(item: dict) -> int:
    """The best total any path through the simulation can reach (content check forbids cycles)."""
    nodes = {node["id"]: node for node in item["nodes"]}

    @lru_cache(maxsize=None)
    def best(node_id: str) -> int:
        choices = nodes[node_id].get("choices", [])
        return max((c["score"] + best(c["next"]) for c in choices), default=0)

    return best(item["start"])
