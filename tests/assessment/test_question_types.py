"""Grading by the registry's question types."""
from __future__ import annotations

import random

import pytest
from werkzeug.datastructures import MultiDict

from lms.question_types import REGISTRY, ResponseError
from lms.question_types.call_simulation import best_path_total

SINGLE = {"id": "q", "type": "single_choice", "correct": "b", "points": 1,
          "options": [{"id": "a"}, {"id": "b"}, {"id": "c"}]}
MULTI = {"id": "m", "type": "multiple_response", "correct": ["a", "b"], "points": 2,
         "options": [{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}]}
ORDER = {"id": "o", "type": "ordering", "correct": ["x", "y", "z"], "options": [{"id": "x"}, {"id": "y"}, {"id": "z"}]}
TF = {"id": "t", "type": "true_false", "correct": False}
SIM = {"id": "s", "type": "call_simulation", "points": 3, "start": "n1", "nodes": [
    {"id": "n1", "caller": "hi", "choices": [{"id": "good", "score": 3, "next": "n2"},
                                             {"id": "bad", "score": 0, "next": "end"}]},
    {"id": "n2", "caller": "and?", "choices": [{"id": "best", "score": 3, "next": "end"},
                                               {"id": "ok", "score": 1, "next": "end"}]},
    {"id": "end", "caller": "bye", "end": True}]}
PARTIAL = {"multiple_response_scoring": "partial"}
ALL_OR_NOTHING = {"multiple_response_scoring": "all_or_nothing"}


def test_single_choice_and_true_false():
    assert REGISTRY["single_choice"].grade(SINGLE, "b", {}).correct
    assert REGISTRY["single_choice"].grade(SINGLE, "a", {}).earned == 0
    assert REGISTRY["true_false"].grade(TF, False, {}).correct
    assert not REGISTRY["true_false"].grade(TF, True, {}).correct


@pytest.mark.parametrize("chosen, scoring, earned", [
    (["a", "b"], ALL_OR_NOTHING, 2), (["a"], ALL_OR_NOTHING, 0), (["a", "b", "c"], ALL_OR_NOTHING, 0),
    (["a", "b"], PARTIAL, 2), (["a"], PARTIAL, 1), (["a", "c"], PARTIAL, 0), (["c", "d"], PARTIAL, 0),
    (["a", "b", "c"], PARTIAL, 1),
])
def test_multiple_response_all_or_nothing_and_partial(chosen, scoring, earned):
    assert REGISTRY["multiple_response"].grade(MULTI, chosen, scoring).earned == earned


def test_ordering_needs_the_whole_order():
    assert REGISTRY["ordering"].grade(ORDER, ["x", "y", "z"], {}).correct
    assert not REGISTRY["ordering"].grade(ORDER, ["y", "x", "z"], {}).correct


def test_ordering_form_needs_each_position_once():
    shown = {"order": ["z", "x", "y"]}
    kind = REGISTRY["ordering"]
    assert kind.parse(ORDER, shown, MultiDict({"position-x": "1", "position-y": "2", "position-z": "3"}), None) \
        == ["x", "y", "z"]
    with pytest.raises(ResponseError, match="each position once"):
        kind.parse(ORDER, shown, MultiDict({"position-x": "1", "position-y": "1", "position-z": "3"}), None)


def test_simulation_scores_the_path_against_the_best_path():
    kind = REGISTRY["call_simulation"]
    assert best_path_total(SIM) == 6
    assert kind.grade(SIM, ["good", "best"], {}).earned == 3
    assert kind.grade(SIM, ["good", "ok"], {}).earned == 2
    assert kind.grade(SIM, ["bad"], {}).earned == 0
    assert kind.answered(SIM, ["good", "ok"]) and not kind.answered(SIM, ["good"])


def test_simulation_accepts_only_a_reply_offered_at_the_current_node():
    kind = REGISTRY["call_simulation"]
    shown = kind.prepare(SIM, random.Random(1))
    assert kind.parse(SIM, shown, MultiDict({"option": "good"}), None) == ["good"]
    with pytest.raises(ResponseError):
        kind.parse(SIM, shown, MultiDict({"option": "best"}), None)  # a reply from a later node
    with pytest.raises(ResponseError, match="ended"):
        kind.parse(SIM, shown, MultiDict({"option": "good"}), ["bad"])


def test_a_choice_outside_the_shown_options_is_refused():
    with pytest.raises(ResponseError):
        REGISTRY["single_choice"].parse(SINGLE, {"order": ["a", "b", "c"]}, MultiDict({"option": "zz"}), None)
    with pytest.raises(ResponseError):
        REGISTRY["multiple_response"].parse(MULTI, {"order": ["a", "b"]}, MultiDict({"option": ["a", "zz"]}), None)
