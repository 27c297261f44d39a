"""The shipped call simulations, walked path by path: no breach passes, and the score design
follows the rules in docs/content-format.md."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lms.assessment.services import grade_responses
from lms.content import parse_tree
from lms.checked_yaml.yaml_lines import LineDict

ROOT = Path(__file__).resolve().parents[2]
TREE, PROBLEMS = parse_tree(ROOT)
SIMULATIONS = {item["id"]: (quiz, item) for quiz in TREE.quizzes.values()
               for item in quiz.source.get("questions", []) if item.get("type") == "call_simulation"}

Step = tuple[LineDict, LineDict]   # (node, choice)


def paths(item: LineDict) -> Iterator[list[Step]]:
    """Every path from the start node to an ending."""
    nodes = {node["id"]: node for node in item["nodes"]}

    def walk(node_id: str, steps: list[Step]) -> Iterator[list[Step]]:
        node = nodes[node_id]
        if node.get("end"):
            yield steps
        for choice in node.get("choices", []):
            yield from walk(choice["next"], steps + [(node, choice)])

    return walk(item["start"], [])


def grade(quiz, item: LineDict, path: list[Step]):
    """The attempt's grade if the simulation were the only item drawn and this path its answer."""
    spec = {"pass_mark": quiz.pass_mark, "questions": [item]}
    return grade_responses(spec, {item["id"]: item}, [{"item": item["id"], "shown": {}}],
                           {1: [choice["id"] for _, choice in path]})


def test_the_shipped_content_has_the_simulations_this_file_checks():
    assert PROBLEMS == []
    assert {"sec-sim-sim-swap-husband", "req-sim-everything-then-delete", "out-sim-usb-export",
            "rec-during-sim-01"} <= set(SIMULATIONS)


@pytest.mark.parametrize("sim_id", sorted(SIMULATIONS))
def test_no_path_through_a_critical_reply_passes(sim_id):
    quiz, item = SIMULATIONS[sim_id]
    checked = 0
    for path in paths(item):
        choices = [choice for _, choice in path]
        if any(choice.get("discloses") for choice in choices):
            assert any(choice.get("critical") for choice in choices)
        if not any(choice.get("critical") for choice in choices):
            continue
        checked += 1
        result = grade(quiz, item, path)
        assert not result.passed and list(result.critical) == [1], path
        # The score design agrees with the verdict: without the rule, the path would fail too.
        total = sum(choice["score"] for choice in choices)
        best = max(sum(choice["score"] for _, choice in other) for other in paths(item))
        assert 100 * total / best < quiz.pass_mark, [f"{node['id']}/{choice['id']}" for node, choice in path]
    assert checked > 0


@pytest.mark.parametrize("sim_id", sorted(SIMULATIONS))
def test_the_best_path_passes(sim_id):
    quiz, item = SIMULATIONS[sim_id]
    best = max(paths(item), key=lambda path: sum(choice["score"] for _, choice in path))
    assert grade(quiz, item, best).passed


@pytest.mark.parametrize(("sim_id", "node", "choice"), [
    ("out-sim-usb-export", "n2", "c"),                           # the list to a Gmail address
    ("out-sim-usb-export", "n3", "c"),                           # "she's a customer"
    ("sec-sim-sim-swap-husband", "n2", "confirm-account-exists"),
    ("out-sim-usb-export", "n1", "a"),                           # agreeing to export, then recovering
    ("out-sim-usb-export", "n4", "c"),                           # the list to a personal phone
])
def test_the_disclosures_the_review_found_are_critical(sim_id, node, choice):
    _, item = SIMULATIONS[sim_id]
    found = next(c for n in item["nodes"] if n["id"] == node for c in n.get("choices", []) if c["id"] == choice)
    assert (found["score"], found["discloses"]) == (0, True) and "Art. " in found["critical"]


def _node(item: LineDict, node_id: str) -> LineDict:
    return next(node for node in item["nodes"] if node["id"] == node_id)


@pytest.mark.parametrize(("sim_id", "node", "choice"), [
    ("sec-sim-sim-swap-husband", "n1", "refuse-abruptly"),
    ("out-sim-usb-export", "n1", "c"),
    ("req-sim-everything-then-delete", "n1", "passport-scan"),
    ("rec-during-sim-01", "n1", "n1-standard"),
])
def test_a_safe_but_abrupt_reply_continues_the_call_with_less_credit(sim_id, node, choice):
    _, item = SIMULATIONS[sim_id]
    reply = next(c for c in _node(item, node)["choices"] if c["id"] == choice)
    assert 0 < reply["score"] < 3 and not reply.get("critical")
    assert not _node(item, reply["next"]).get("end")


@pytest.mark.parametrize("sim_id", ["sec-sim-sim-swap-husband", "req-sim-everything-then-delete",
                                    "out-sim-usb-export", "rec-during-sim-01"])
def test_each_simulation_has_at_least_two_recoverable_paths(sim_id):
    """A recoverable path: a reply below the best, not critical, after which the call goes on
    and can still end well (reach the ending of the best path)."""
    quiz, item = SIMULATIONS[sim_id]
    best = max(paths(item), key=lambda path: sum(choice["score"] for _, choice in path))
    best_ending = best[-1][1]["next"]
    recoverable = set()
    for path in paths(item):
        if path[-1][1]["next"] != best_ending or any(choice.get("critical") for _, choice in path):
            continue
        for node, choice in path:
            if choice["score"] < max(c["score"] for c in node["choices"]):
                recoverable.add((node["id"], choice["id"]))
    assert len(recoverable) >= 2, recoverable


# Reporting an attempt on the data: at once 3, late 1, not at all 0 (and not critical), in
# every simulation that asks for it.
REPORTING = {
    ("sec-sim-sim-swap-husband", "n5"): {"end-and-report": 3, "report-end-of-shift": 1, "nothing-to-report": 0},
    ("out-sim-usb-export", "n4"): {"a": 3, "late": 1, "b": 0},
}


@pytest.mark.parametrize(("sim_id", "node"), sorted(REPORTING))
def test_the_reporting_decision_scores_the_same_in_every_simulation(sim_id, node):
    _, item = SIMULATIONS[sim_id]
    scores = {c["id"]: c["score"] for c in _node(item, node)["choices"] if not c.get("critical")}
    assert scores == REPORTING[(sim_id, node)]
    assert not any(c.get("critical") for c in _node(item, node)["choices"] if c["id"] in scores)
