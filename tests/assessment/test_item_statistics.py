"""Item statistics (#18): facility, discrimination, pick rates and flags, per organisation and phase.

The attempts are stored rows graded by the real question types (tests.factories.attempt),
so the figures can be worked out by hand from the responses below.
"""
from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser

import pytest
from sqlalchemy import event

from lms.accounts.models import Role
from lms.assessment.analysis import ALL, MIN_ANSWERS, analyse
from lms.assessment.models import AttemptStatus
from lms.clock import now
from lms.extensions import db
from tests import factories
from tests.factories import attempt as take  # a finished attempt of these responses, graded

SIM = "sim-impostor"


def unit(analysis, key: str):
    return next(u for u in [*analysis.questions, *analysis.decisions] if u.key == key)


def flag_names(analysis, key: str, scope=ALL) -> set[str]:
    return {flag.name for flag in analysis.flags(unit(analysis, key), scope)}


# ---- hand-computed figures ----------------------------------------------------------------

# Four attempts of three items (4 points): verbal-sar (key b, 1 pt), basis-first (key true,
# 1 pt) and what-to-say (key a+b, 2 pts, partial credit: each right pick +1, each wrong -1).
#            verbal-sar  basis-first  what-to-say      total
# A1         b  1        true  1      [a, b]  2        4
# A2         b  1        false 0      [a]     1        2
# A3         a  0        true  1      [a, c]  0        1
# A4         a  0        false 0      [b]     1        1
FOUR = [("b", True, ["a", "b"]), ("b", False, ["a"]), ("a", True, ["a", "c"]), ("a", False, ["b"])]


def test_facility_discrimination_and_pick_rates_by_hand(app, quiz):
    org = factories.organisation("Lisboa CS")
    for verbal, basis, say in FOUR:
        take(factories.user(Role.AGENT, org), quiz, {"verbal-sar": verbal, "basis-first": basis, "what-to-say": say})
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    analysis = analyse(trainer, quiz)
    assert analysis.attempts[ALL] == analysis.attempts[org.id] == 4

    # verbal-sar: x = 1 1 0 0; rest (the other 3 points) = 3/3 1/3 1/3 1/3.
    # Deviations from the means (0.5, 0.5): x ±0.5; y 0.5, -1/6, -1/6, -1/6.
    # Σdxdy = 0.25 + 3 * 1/12 (signs: -,+,+) = 1/3; Σdx² = 1; Σdy² = 1/3; r = (1/3) / sqrt(1/3) = 0.5774.
    verbal = unit(analysis, "verbal-sar").figures(ALL)
    assert verbal.answers == 4 and verbal.facility == pytest.approx(0.5)
    assert verbal.discrimination == pytest.approx(math.sqrt(1 / 3))
    assert (verbal.pick_rate("a"), verbal.pick_rate("b")) == (0.5, 0.5)

    # basis-first: x = 1 0 1 0; rest = 3/3 2/3 0/3 1/3 (mean 0.5): Σdxdy = .25 - 1/12 - .25 + 1/12 = 0.
    basis = unit(analysis, "basis-first").figures(ALL)
    assert basis.facility == pytest.approx(0.5) and basis.discrimination == pytest.approx(0.0, abs=1e-9)
    assert (basis.pick_rate("true"), basis.pick_rate("false")) == (0.5, 0.5)

    # what-to-say: x = 2/2 1/2 0/2 1/2; rest = 2/2 1/2 1/2 0/2. dx = .5 0 -.5 0, dy = .5 0 0 -.5:
    # Σdxdy = .25, Σdx² = Σdy² = .5, r = 0.5. Picks: a in 3 of 4, b in 2, c in 1.
    say = unit(analysis, "what-to-say").figures(ALL)
    assert say.facility == pytest.approx(0.5) and say.discrimination == pytest.approx(0.5)
    assert [say.pick_rate(o) for o in "abc"] == [0.75, 0.5, 0.25]

    # Items nobody answered have no figures, and four answers are too few to flag anything.
    assert unit(analysis, "order-of-steps").figures(ALL).facility is None
    assert not any(analysis.flags(u, ALL) for u in analysis.questions)


# Call simulation sim-impostor (3 points; the best path scores 12), with verbal-sar beside it:
#      path        node scores (best at each node is 3)      sim earned   verbal-sar
# S1   b b a a     n1 3/3  n2 3/3  n3 3/3  n4 3/3           3 * 12/12    b 1
# S2   b c         n1 3/3  n2 2/3                           3 *  5/12    b 1
# S3   a           n1 0/3                                   0            a 0
# S4   b b b       n1 3/3  n2 3/3  n3 1/3                   3 *  7/12    a 0
PATHS = [(["b", "b", "a", "a"], "b"), (["b", "c"], "b"), (["a"], "a"), (["b", "b", "b"], "a")]


def test_simulation_decisions_by_hand(app, quiz):
    org = factories.organisation()
    for path, verbal in PATHS:
        take(factories.user(Role.AGENT, org), quiz, {SIM: path, "verbal-sar": verbal})
    db.session.commit()
    analysis = analyse(factories.user(Role.TRAINER), quiz)

    # n1: reached by all 4, x = 1 1 0 1 (facility 0.75); the rest of the attempt is verbal-sar,
    # y = 1 1 0 0. dx = .25 .25 -.75 .25, dy = .5 .5 -.5 -.5: Σdxdy = .5, Σdx² = .75, Σdy² = 1,
    # r = .5 / sqrt(.75) = 0.5774. Replies: a 1 of 4, b 3 of 4.
    n1 = unit(analysis, f"{SIM} · n1").figures(ALL)
    assert n1.answers == 4 and n1.facility == pytest.approx(0.75)
    assert n1.discrimination == pytest.approx(0.5 / math.sqrt(0.75))
    assert (n1.pick_rate("a"), n1.pick_rate("b")) == (0.25, 0.75)
    # n2: reached by S1, S2, S4; x = 1, 2/3, 1 (facility 8/9); y = 1 1 0: dx = 1/9 -2/9 1/9,
    # dy = 1/3 1/3 -2/3: Σdxdy = 1/27 - 2/27 - 2/27 = -1/9, Σdx² = 6/81, Σdy² = 6/9, r = -0.5.
    n2 = unit(analysis, f"{SIM} · n2").figures(ALL)
    assert n2.answers == 3 and n2.facility == pytest.approx(8 / 9)
    assert n2.discrimination == pytest.approx(-0.5)
    assert [n2.picks[c] for c in "abc"] == [0, 2, 1]
    # n3: S1 and S4, x = 1 and 1/3; n4: S1 only, everyone best: facility 1, no correlation.
    assert unit(analysis, f"{SIM} · n3").figures(ALL).facility == pytest.approx(2 / 3)
    n4 = unit(analysis, f"{SIM} · n4").figures(ALL)
    assert n4.answers == 1 and n4.facility == 1.0 and n4.discrimination is None
    # The simulation as a question: earned 3, 1.25, 0, 1.75 of 3 -> facility 6/12.
    assert unit(analysis, SIM).figures(ALL).facility == pytest.approx(0.5)


def test_an_item_drawn_but_not_answered_counts_as_graded(app, quiz):
    """No saved answer: 0 of the item's points, "No answer" among the picks, and the rest of the
    attempt still its rest. Here verbal-sar (1 point) beside basis-first (1 point):
    A1 b, true (2 of 2); A2 a, true (1 of 2); A3 verbal-sar unanswered, false (0 of 2).
    verbal-sar: x = 1 0 0, rest y = 1 1 0: dx = 2/3 -1/3 -1/3, dy = 1/3 1/3 -2/3:
    Σdxdy = 2/9 - 1/9 + 2/9 = 1/3, Σdx² = Σdy² = 2/3, r = 0.5."""
    org = factories.organisation()
    take(factories.user(Role.AGENT, org), quiz, {"verbal-sar": "b", "basis-first": True})
    take(factories.user(Role.AGENT, org), quiz, {"verbal-sar": "a", "basis-first": True})
    take(factories.user(Role.AGENT, org), quiz, {"basis-first": False}, unanswered=("verbal-sar", SIM))
    db.session.commit()
    analysis = analyse(factories.user(Role.TRAINER), quiz)
    verbal = unit(analysis, "verbal-sar").figures(ALL)
    assert verbal.answers == 3 and verbal.unanswered == 1
    assert verbal.facility == pytest.approx(1 / 3) and verbal.discrimination == pytest.approx(0.5)
    assert (verbal.pick_rate("a"), verbal.pick_rate("b"), verbal.unanswered_rate) == (1 / 3, 1 / 3, 1 / 3)
    sim = unit(analysis, SIM).figures(ALL)
    assert (sim.answers, sim.unanswered, sim.facility) == (1, 1, 0.0)
    assert unit(analysis, f"{SIM} · n1").figures(ALL).answers == 0  # an unanswered call reaches no decision


def test_only_the_drawn_items_ids_count_not_keys_so_named_in_what_was_shown(app, quiz):
    attempt = take(factories.user(Role.AGENT), quiz, {"verbal-sar": "b"})
    # What an item shows is its question type's business; a key called "item" there is not a draw.
    attempt.draw = [{"item": "verbal-sar", "shown": {"order": ["b", "a"], "item": "basis-first",
                                                     "choices": {"item": ["a"]}}}]
    db.session.commit()
    analysis = analyse(factories.user(Role.TRAINER), quiz)
    assert unit(analysis, "verbal-sar").figures(ALL).answers == 1
    assert unit(analysis, "basis-first").figures(ALL).answers == 0


# ---- flags ----------------------------------------------------------------------------------

def ten_attempts(quiz, org) -> None:
    """Ten attempts (agent i = 0..9) built so that each flag is raised once:

    - order-of-steps right for i < 5 (facility 0.5), basis-first right for i < 8 (0.8): the two
      make up the "before" draw pool, so basis-first is 30 points above the rest of its pool;
    - verbal-sar right only for i >= 5, the agents weakest on the rest: negative discrimination;
    - what-to-say [a, b] for i < 6, else [a]: option c is never chosen (facility 0.8, also
      30 points above verbal-sar, the other item of its draw rule).
    """
    order = ["assess", "record", "tell"]
    for i in range(10):
        take(factories.user(Role.AGENT, org), quiz, {
            "order-of-steps": order if i < 5 else list(reversed(order)),
            "basis-first": i < 8,
            "verbal-sar": "b" if i >= 5 else "a",
            "what-to-say": ["a", "b"] if i < 6 else ["a"],
        })


def test_each_flag(app, quiz):
    assert MIN_ANSWERS == 10  # the fixture has exactly enough answers to be flagged
    org = factories.organisation()
    ten_attempts(quiz, org)
    db.session.commit()
    analysis = analyse(factories.user(Role.TRAINER), quiz)
    assert unit(analysis, "verbal-sar").figures(ALL).discrimination < 0
    assert flag_names(analysis, "verbal-sar") == {"Negative discrimination"}
    assert flag_names(analysis, "what-to-say") == {"Distractor never chosen", "Too easy for the pool"}
    never = next(f for f in analysis.flags(unit(analysis, "what-to-say"), ALL) if f.name == "Distractor never chosen")
    assert never.detail == "c"
    easy = next(f for f in analysis.flags(unit(analysis, "basis-first"), ALL))
    assert (easy.name, easy.detail) == ("Too easy for the pool", "80% against 50% for the rest of its pool")
    assert flag_names(analysis, "order-of-steps") == set()


def test_too_easy_in_absolute_terms_and_never_chosen_reply(app, quiz):
    org = factories.organisation()
    for _ in range(MIN_ANSWERS):
        take(factories.user(Role.AGENT, org), quiz, {"basis-first": True, SIM: ["b", "b", "a", "a"]})
    db.session.commit()
    analysis = analyse(factories.user(Role.TRAINER), quiz)
    flags = analysis.flags(unit(analysis, "basis-first"), ALL)
    assert [(f.name, f.detail) for f in flags] == [("Distractor never chosen", "false"),
                                                   ("Too easy for the pool", "100% earned")]
    # At decision n2 nobody chose a (score 0) or c (2 of 3): both are distractors never chosen.
    assert [f.detail for f in analysis.flags(unit(analysis, f"{SIM} · n2"), ALL)
            if f.name == "Distractor never chosen"] == ["a, c"]


# ---- organisations, phases, scope -------------------------------------------------------------

def test_split_by_organisation(app, quiz):
    lisbon, atlas = factories.organisation("Lisboa CS"), factories.organisation("Atlas Care")
    ten_attempts(quiz, lisbon)
    for _ in range(MIN_ANSWERS):  # Atlas: everyone right on basis-first
        take(factories.user(Role.AGENT, atlas), quiz, {"basis-first": True, "verbal-sar": "a"})
    db.session.commit()
    analysis = analyse(factories.user(Role.TRAINER), quiz)
    assert analysis.attempts == {ALL: 20, lisbon.id: 10, atlas.id: 10}
    basis = unit(analysis, "basis-first")
    assert basis.figures(lisbon.id).facility == pytest.approx(0.8)
    assert basis.figures(atlas.id).facility == 1.0
    assert basis.figures(ALL).facility == pytest.approx(0.9) and basis.figures(ALL).answers == 20
    assert basis.figures(atlas.id).pick_rate("false") == 0
    # Flags are judged per organisation: negative discrimination is Lisbon's, not Atlas's
    # (Atlas has no variance in verbal-sar: everyone chose a).
    assert "Negative discrimination" in flag_names(analysis, "verbal-sar", lisbon.id)
    assert unit(analysis, "verbal-sar").figures(atlas.id).discrimination is None
    assert flag_names(analysis, "basis-first", atlas.id) == {"Distractor never chosen", "Too easy for the pool"}


def test_scoped_auditor_sees_only_their_organisation_and_restricted_people_are_left_out(app, quiz, client, login_as):
    lisbon, atlas = factories.organisation("Lisboa CS"), factories.organisation("Atlas Care")
    take(factories.user(Role.AGENT, lisbon), quiz, {"verbal-sar": "b"})
    take(factories.user(Role.AGENT, atlas), quiz, {"verbal-sar": "a"})
    restricted = factories.user(Role.AGENT, atlas)
    restricted.restricted_at = now()
    take(restricted, quiz, {"verbal-sar": "b"})
    take(factories.user(Role.AGENT, atlas), quiz, {"verbal-sar": "b"}, status=AttemptStatus.IN_PROGRESS)
    auditor = factories.user(Role.AUDITOR, scope=lisbon)
    db.session.commit()
    scoped = analyse(auditor, quiz)
    assert scoped.organisations == {lisbon.id: "Lisboa CS"} and scoped.attempts[ALL] == 1
    assert unit(scoped, "verbal-sar").figures(ALL).facility == 1.0
    trainer_view = analyse(factories.user(Role.TRAINER), quiz)
    assert trainer_view.attempts == {ALL: 2, lisbon.id: 1, atlas.id: 1}  # not the restricted or unfinished
    db.session.rollback()  # end the read transaction: SQLite's sign-in write would wait for it
    # Auditors may not open the analysis at all (policy: ANALYSE_QUIZZES is trainers' and admins').
    login_as(auditor)
    assert client.get("/analysis/quizzes/recording-calls").status_code == 403


# ---- the page ---------------------------------------------------------------------------------

class Tables(HTMLParser):
    """Every table row's cells as whitespace-normalised text, by table caption."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._caption: str | None = None
        self._rows: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._in_caption = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._rows, self._caption = [], ""
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None and self._rows:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self.tables[" ".join(self._caption.split())] = self._rows
            self._rows = None

    def handle_data(self, data):
        if self._in_caption:
            self._caption += data
        elif self._cell is not None:
            self._cell.append(data)

    def table(self, caption_start: str) -> list[list[str]]:
        return next(rows for caption, rows in self.tables.items() if caption.startswith(caption_start))

    def row(self, caption_start: str, first_cell_start: str) -> list[str]:
        return next(r for r in self.table(caption_start) if r and r[0].startswith(first_cell_start))


def test_the_page_shows_figures_flags_and_filters(app, quiz, client, login_as):
    lisbon, atlas = factories.organisation("Lisboa CS"), factories.organisation("Atlas Care")
    ten_attempts(quiz, lisbon)
    for _ in range(MIN_ANSWERS):
        take(factories.user(Role.AGENT, atlas), quiz, {"basis-first": True, SIM: ["b", "b", "a", "a"]})
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    login_as(trainer)
    page = client.get("/analysis/quizzes/recording-calls")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "20 finished attempts" in html
    assert '<label for="organisation">Organisation</label>' in html and '<label for="phase">' in html
    assert "drawn at least 10 times" in html and "90% or more" in html  # thresholds are documented
    # The item map: an SVG image inline (data: URI), a point per item, no script, described in words.
    encoded = re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)" class="chart" alt="Scatter plot', html)
    svg = base64.b64decode(encoded.group(1)).decode()
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert {"basis-first", "order-of-steps", "verbal-sar", "what-to-say"} <= set(labels) and "<script" not in svg
    assert f"{SIM} · n1" not in labels  # everyone gave the best reply: no discrimination to plot
    tables = Tables(html)
    # Question, moment, answers, facility, discrimination, pick rates, flags, by organisation.
    basis = tables.row("Facility, discrimination, pick rates and flags of each question", "basis-first")
    assert basis[1:4] == ["Before the call", "20", "90%"]
    assert "true (key) True: 90% (18)" in basis[5] and "false False: 10% (2)" in basis[5]
    assert basis[6] == "Too easy for the pool: 90% earned"  # flags are words, not colours
    assert "Atlas Care: 100% of 10" in basis[7] and "Lisboa CS: 80% of 10" in basis[7]
    verbal = tables.row("Facility, discrimination, pick rates and flags", "verbal-sar")
    assert verbal[6].startswith("Negative discrimination: r = -")
    n1 = tables.row("For each point of a call", f"{SIM} · n1")
    assert n1[2:4] == ["10", "100%"] and "b (best reply) I can only discuss it with Sarah.: 100% (10)" in n1[5]
    assert "a Of course.: 0% (0)" in n1[5] and n1[6] == "Distractor never chosen: a Too easy for the pool: 100% earned"

    # One organisation: its figures only, and no per-organisation column.
    one = Tables(client.get(f"/analysis/quizzes/recording-calls?organisation={atlas.id}").get_data(as_text=True))
    basis = one.row("Facility, discrimination, pick rates and flags of each question for Atlas Care", "basis-first")
    assert basis[2:4] == ["10", "100%"] and len(basis) == 7
    assert basis[6] == "Distractor never chosen: false Too easy for the pool: 100% earned"
    verbal = one.row("Facility, discrimination", "verbal-sar")
    assert verbal[2] == "0" and verbal[3].endswith("no answers")

    # One phase: only its questions, and its line of the summary.
    before = client.get("/analysis/quizzes/recording-calls?phase=before").get_data(as_text=True)
    rows = Tables(before).table("Facility, discrimination, pick rates and flags of each question")
    assert len(rows) == 3 and rows[1][0].startswith("basis-first") and rows[2][0].startswith("order-of-steps")
    assert "Call simulation decisions" not in before  # the simulation is "during"
    assert client.get("/analysis/quizzes/recording-calls?phase=lunch").status_code == 404
    assert client.get("/analysis/quizzes/recording-calls?organisation=999999").status_code == 404


def test_the_page_without_attempts(app, quiz, client, login_as):
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    login_as(trainer)
    html = client.get("/analysis/quizzes/recording-calls").get_data(as_text=True)
    assert "No finished attempts yet" in html and "<table class=\"striped\">" not in html


# ---- query count ------------------------------------------------------------------------------

@contextmanager
def counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def test_query_count_does_not_grow_with_attempts(app, quiz, client, login_as):
    orgs = [factories.organisation() for _ in range(3)]
    trainer = factories.user(Role.TRAINER)
    paths = [["b", "b", "a", "a"], ["b", "c"], ["a"], ["b", "b", "b"]]

    def add(count: int, start: int) -> None:
        for i in range(start, start + count):
            take(factories.user(Role.AGENT, orgs[i % 3]), quiz, {
                "verbal-sar": "ab"[i % 2], "basis-first": i % 3 == 0, "what-to-say": [["a"], ["a", "b"]][i % 2],
                "order-of-steps": ["assess", "record", "tell"], SIM: paths[i % 4]})
        db.session.commit()

    add(10, 0)
    db.session.expire_all()
    with counting() as ten:
        analysis = analyse(trainer, quiz)
    assert analysis.attempts[ALL] == 10
    db.session.rollback()  # end the read transaction: SQLite's sign-in write would wait for it
    login_as(trainer)
    client.get("/analysis/quizzes/recording-calls")  # once first: the app caches a settings query
    with counting() as page_ten:
        assert client.get("/analysis/quizzes/recording-calls").status_code == 200
    add(90, 10)
    db.session.expire_all()
    with counting() as hundred:
        analysis = analyse(trainer, quiz)
    assert analysis.attempts[ALL] == 100
    db.session.rollback()
    with counting() as page_hundred:
        assert client.get("/analysis/quizzes/recording-calls").status_code == 200
    # The quiz, its version and the trainer (expired above, so loaded again), then the two aggregates
    # (on PostgreSQL after turning JIT compilation off for the transaction: see response_groups).
    assert len(ten) == len(hundred) == (6 if db.engine.dialect.name == "postgresql" else 5)
    assert len(page_ten) == len(page_hundred)
    assert len([s for s in hundred if re.search(r"\bJOIN answer\b", s)]) == 1  # the answers, read once
