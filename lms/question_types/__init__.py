"""Question types as plugins: each is a package here that owns its grading, its form parsing,
what its question page and review show, and what item analysis, the personal-data export and
xAPI read of it (see base.QuestionType). The attempt flow, the authoring preview, analysis,
the data export and xAPI only talk to that interface.

The registry is the tuple below: a new type is a package and one entry in it.

A package of its own, not a part of assessment: authoring, privacy and xapi read the types too,
and a type needs nothing from any of them.
"""
from __future__ import annotations

from flask import Blueprint

from lms.question_types.base import CriticalReply, Grade, Pick, QuestionType, ResponseError, Step, item_points
from lms.question_types.call_simulation import CallSimulation
from lms.question_types.multiple_response import MultipleResponse
from lms.question_types.ordering import Ordering
from lms.question_types.single_choice import SingleChoice
from lms.question_types.true_false import TrueFalse

REGISTRY: dict[str, QuestionType] = {
    t.name: t for t in (SingleChoice(), MultipleResponse(), TrueFalse(), Ordering(), CallSimulation())
}

__all__ = ["REGISTRY", "CriticalReply", "Grade", "Pick", "QuestionType", "ResponseError", "Step", "item_points",
           "question_type", "templates_bp"]


def question_type(item: dict) -> QuestionType:
    return REGISTRY[item["type"]]


# No routes: it gives each type's templates their names ("single_choice/question.html" is
# single_choice/question.html here), and templates the `question_type` function.
templates_bp = Blueprint("question_types", __name__, template_folder=".")
templates_bp.add_app_template_global(question_type)
