"""Quiz analysis (#19): the weakest moment of the call is named only when one moment is lowest;
a tie says "No difference" rather than picking the first of the tied moments."""
from __future__ import annotations

from lms.accounts.models import Role
from lms.assessment.analysis import QuizAnalysis
from lms.extensions import db
from tests import factories
from tests.assessment.test_item_statistics import Tables
from tests.factories import attempt as take


def _analysis(phase_by_org: dict[str, dict[str, float]]) -> QuizAnalysis:
    return QuizAnalysis(quiz=None, organisations={}, attempts={}, questions=[], decisions=[], phase_by_org=phase_by_org)


def test_one_lowest_moment_is_named_and_a_tie_is_not():
    analysis = _analysis({"A": {"before": 60.0, "during": 40.0, "after": 80.0},
                          "B": {"before": 50.0, "during": 50.0, "after": 70.0},
                          "C": {"before": 70.0, "during": 70.0, "after": 70.0}})
    assert analysis.weakest_phase("A") == "during"
    assert analysis.weakest_phase("B") is None  # before and during tie for lowest
    assert analysis.weakest_phase("C") is None
    assert analysis.weakest_phase("nobody") is None


def test_the_page_says_no_difference_on_a_tie(app, quiz, client, login_as):
    tied, lopsided = factories.organisation("Tied Care"), factories.organisation("Lopsided CS")
    for _ in range(3):
        # Right before the call (basis-first, key true) and during it (verbal-sar, key b): 100% and 100%.
        take(factories.user(Role.AGENT, tied), quiz, {"basis-first": True, "verbal-sar": "b"})
        # Right before the call, wrong during it.
        take(factories.user(Role.AGENT, lopsided), quiz, {"basis-first": True, "verbal-sar": "a"})
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    login_as(trainer)
    tables = Tables(client.get("/analysis/quizzes/recording-calls").get_data(as_text=True))
    assert tables.row("Average score for each moment of the call", "Tied Care")[-1] == "No difference"
    assert tables.row("Average score for each moment of the call", "Lopsided CS")[-1] == "During the call"
