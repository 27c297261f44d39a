"""Item analysis for trainers: how each question and each call-simulation decision performs.

For every question and every simulation decision (node), for all the
organisations the actor may see together and for each one apart, it gives:

- **facility**: the mean fraction of the item's points earned (for a right/wrong
  item, the proportion who got it right);
- **discrimination**: the point-biserial correlation between the item's score and
  the rest-of-test score (see `Sums.discrimination` for why not upper-lower 27%);
- **pick rates**: how often each option (or reply, at a decision) was chosen;
- **flags**: "distractor never chosen", "negative discrimination" and "too easy for
  the pool", with the thresholds below.

The database does the work that grows with attempts, in one aggregate query:
the items finished attempts drew, with their answers (an item left unanswered
counts, as graded, 0), grouped by item, organisation and response,
each group with its count and the sums of x, x², y, y² and xy (x the answer's
score fraction, y the attempt's rest-of-test fraction). Those sums are all a
mean and a correlation need, and sums add up, so the same rows give each
organisation's figures and the whole pool's. The groups are as many as the
distinct responses the content allows (options, orders, paths through a call)
times organisations, however many attempts there are; Python then expands each
distinct response into option picks and simulation steps. A second query
averages the phase scores per organisation. Two queries, whatever the attempts
(on PostgreSQL a third statement first turns JIT compilation off; see response_groups).
"""
from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import (
    ColumnElement, FromClause, Row, Select, String, Text, and_, case, cast, column, func, select, text, true,
)

from lms.accounts.models import Organisation, User
from lms.assessment.models import Answer, Attempt, AttemptStatus
from lms.question_types import Pick, item_points, question_type
from lms.assessment.services import PHASES, items_by_id
from lms.extensions import db
from lms.learning.models import Quiz
from lms.policy import restrict_attempts
from lms.svg_charts import static_svg

# Below this many answers a figure is shown but not flagged: one agent more or less
# would swing it past any threshold.
MIN_ANSWERS = 10
# "Too easy for the pool": nearly everyone gets it (it separates no one), or it is much easier
# than the other items its draw rule can pick instead (drawing it hands out points).
EASY_FACILITY = 0.90
EASY_MARGIN = 0.20
# "Negative discrimination": agents who do well on the rest of the test do worse on this item,
# which points at a wrong key, a trick wording or a distractor that is defensible.
NEGATIVE_DISCRIMINATION = 0.0

ALL = None  # the scope key of every organisation the actor may see, together


@dataclass
class Sums:
    """Sufficient statistics of (x, y) pairs: x an item score fraction, y the rest-of-test fraction."""

    n: int = 0
    x: float = 0.0
    xx: float = 0.0
    y: float = 0.0
    yy: float = 0.0
    xy: float = 0.0

    def add(self, n: int, x: float, xx: float, y: float, yy: float, xy: float) -> None:
        self.n += n
        self.x += x
        self.xx += xx
        self.y += y
        self.yy += yy
        self.xy += xy

    @property
    def facility(self) -> float | None:
        """Mean score fraction (proportion correct for a right/wrong item)."""
        return self.x / self.n if self.n else None

    @property
    def discrimination(self) -> float | None:
        """Pearson's r between item score and rest-of-test score; None without variance in either.

        For a right/wrong item this is the point-biserial correlation; for partial credit
        (simulations, partly right multiple response) the same formula on the fraction.
        Chosen over the upper-lower 27% index because it uses every attempt instead of
        discarding the middle 46% (a partner with 30 agents would be judged on 8 and 8),
        needs no ranking, and is made of sums that add up across organisations. The rest
        score leaves the item out: with five items a quiz, counting the item in its own
        total would make even a random item look discriminating.
        """
        n = self.n
        var_x, var_y = n * self.xx - self.x ** 2, n * self.yy - self.y ** 2
        # Relative tolerance: sums of squares of equal values cancel to rounding noise, not 0.
        if n < 2 or var_x <= 1e-9 * n * n or var_y <= 1e-9 * n * n:
            return None
        return (n * self.xy - self.x * self.y) / math.sqrt(var_x * var_y)


@dataclass
class Figures:
    """One item's figures in one scope (an organisation, or all of them)."""

    sums: Sums = field(default_factory=Sums)
    picks: Counter = field(default_factory=Counter)  # option id -> answers that chose it
    unanswered: int = 0  # drawn but left without an answer (graded 0)

    @property
    def answers(self) -> int:
        return self.sums.n

    @property
    def facility(self) -> float | None:
        return self.sums.facility

    @property
    def discrimination(self) -> float | None:
        return self.sums.discrimination

    def pick_rate(self, option_id: str) -> float | None:
        return self.picks[option_id] / self.answers if self.answers else None

    @property
    def unanswered_rate(self) -> float | None:
        return self.unanswered / self.answers if self.answers else None


@dataclass
class Flag:
    """A reason to look at an item again, in words (the page shows it as text)."""

    name: str
    detail: str


@dataclass
class Unit:
    """A row of the analysis: a question, or one decision (node) of a call simulation."""

    item: dict
    node: dict | None
    options: list[Pick]
    pool: frozenset[str]  # ids of the items the same draw rule(s) pick from, this one included
    scopes: dict[int | None, Figures] = field(default_factory=lambda: defaultdict(Figures))

    @property
    def key(self) -> str:
        return self.item["id"] if self.node is None else f"{self.item['id']} · {self.node['id']}"

    @property
    def phase(self) -> str:
        return self.item["phase"]

    @property
    def label(self) -> str:
        text = self.node["caller"] if self.node else (self.item.get("prompt") or self.item.get("title") or "")
        return " ".join(str(text).split())

    def figures(self, scope: int | None) -> Figures:
        return self.scopes.get(scope) or Figures()


@dataclass
class QuizAnalysis:
    quiz: Quiz
    organisations: dict[int, str]  # the organisations with finished attempts the actor may see
    attempts: dict[int | None, int]  # finished attempts by scope
    questions: list[Unit]
    decisions: list[Unit]
    phase_by_org: dict[str, dict[str, float]]  # org name -> phase -> average percent

    def weakest_phase(self, org: str) -> str | None:
        """The moment of the call the organisation scores lowest on; None when no one moment is
        lowest (no figures, or a tie for lowest: the page then says there is no difference)."""
        phases = self.phase_by_org.get(org) or {}
        lowest = min(phases.values(), default=None)
        weakest = [phase for phase, average in phases.items() if average == lowest]
        return weakest[0] if len(weakest) == 1 else None

    def flags(self, unit: Unit, scope: int | None) -> list[Flag]:
        """The unit's flags in this scope; none below MIN_ANSWERS answers."""
        figures = unit.figures(scope)
        if figures.answers < MIN_ANSWERS:
            return []
        flags = []
        never = [o.id for o in unit.options if not o.key and not figures.picks[o.id]]
        if never:
            flags.append(Flag("Distractor never chosen", ", ".join(never)))
        r = figures.discrimination
        if r is not None and r < NEGATIVE_DISCRIMINATION:
            flags.append(Flag("Negative discrimination", f"r = {r:.2f}"))
        facility = figures.facility
        others = self.pool_facility(unit, scope)
        if facility is not None and facility >= EASY_FACILITY:
            flags.append(Flag("Too easy for the pool", f"{facility:.0%} earned"))
        elif facility is not None and others is not None and facility - others >= EASY_MARGIN:
            flags.append(Flag("Too easy for the pool", f"{facility:.0%} against {others:.0%} for the rest of its pool"))
        return flags

    def pool_facility(self, unit: Unit, scope: int | None) -> float | None:
        """Mean facility of the other questions of the unit's draw pool with enough answers (questions only)."""
        if unit.node is not None:
            return None
        values = [f.facility for other in self.questions if other.item["id"] in unit.pool and other is not unit
                  and (f := other.figures(scope)).answers >= MIN_ANSWERS and f.facility is not None]
        return sum(values) / len(values) if values else None

    def phase_summary(self, scope: int | None) -> list[dict]:
        """Per phase: questions drawn, their mean facility and discrimination, and flagged questions."""
        rows = []
        for phase in PHASES:
            units = [u for u in self.questions if u.phase == phase and u.figures(scope).answers]
            if not units:
                continue
            facilities = [u.figures(scope).facility for u in units]
            discriminations = [r for u in units if (r := u.figures(scope).discrimination) is not None]
            rows.append({"phase": phase, "questions": len(units), "facility": sum(facilities) / len(facilities),
                         "discrimination": sum(discriminations) / len(discriminations) if discriminations else None,
                         "flagged": sum(1 for u in units if self.flags(u, scope))})
        return rows


# People who restricted the use of their data (Arts 18, 21) are left out of the analysis.
_not_restricted = User.restricted_at.is_(None)


def _finished(actor: User, query: Select) -> Select:
    """Only finished attempts, of people not restricted, that the actor may analyse."""
    return restrict_attempts(actor, query.join(User, User.id == Attempt.user_id)
                             .join(Organisation, Organisation.id == User.organisation_id)
                             .where(Attempt.status != AttemptStatus.IN_PROGRESS, _not_restricted))


def _drawn_items() -> tuple[FromClause, ColumnElement, ColumnElement]:
    """The items each attempt drew (its `draw` JSON array): a derived table to join to attempt,
    the condition to join it on, and the item id column.

    The one place the dialects differ. Both give the id as a plain column, extracted once per
    row: PostgreSQL with json_to_recordset's typed column; SQLite with json_tree, whose `atom`
    is the value itself (json_each would leave an object to re-parse with json_extract at every
    use, which made the query several times slower). Of json_tree's rows, the wanted ones are
    the `item` keys of the array's elements (path `$[n]`), not any key so named deeper down.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        drawn = (func.json_to_recordset(Attempt.draw).table_valued(column("item", String))
                 .render_derived(name="drawn", with_types=True).lateral())
        return drawn, true(), drawn.c.item
    drawn = func.json_tree(Attempt.draw).table_valued("key", "atom", "path").alias("drawn")
    return drawn, and_(drawn.c.key == "item", drawn.c.path.not_like("%.%")), drawn.c.atom


def response_groups(actor: User, quiz: Quiz) -> Sequence[Row]:
    """The one query over answers: (item, organisation id, response as JSON text, n, Σx, Σx², Σy, Σy², Σxy).

    One row per item each attempt drew, with its saved answer if any: an item drawn and left
    unanswered was graded 0 of its points, and counts so here (its response is NULL).
    """
    drawn, on, item_id = _drawn_items()
    if db.session.get_bind().dialect.name == "postgresql":
        # The planner cannot know that a draw holds about ten items (it guesses 100 per attempt),
        # so its estimate passes jit_above_cost, and compiling the query took 4 s of a 0.4 s query
        # at 10,000 attempts in bench/item_stats.py. For this transaction only.
        db.session.execute(text("SET LOCAL jit = off"))
    points = case({item["id"]: float(item_points(item)) for item in quiz.current_version.spec["questions"]},
                  value=item_id, else_=1.0)
    possible = func.coalesce(Answer.possible, points)
    earned = func.coalesce(Answer.earned, 0.0)
    x = func.coalesce(earned / func.nullif(possible, 0), 0.0)
    # The attempt's score without this item; an attempt of one item has no rest (y = 0 then,
    # and with no variance in y the correlation is None rather than a number from nothing).
    y = func.coalesce((Attempt.earned - earned) / func.nullif(Attempt.possible - possible, 0), 0.0)
    # Grouped as text: PostgreSQL's json type has no equality operator, and the text of the
    # same response is the same (the app writes it with json.dumps).
    response = cast(Answer.response, Text)
    return db.session.execute(_finished(actor, (
        select(item_id, Organisation.id, response, func.count(),
               func.sum(x), func.sum(x * x), func.sum(y), func.sum(y * y), func.sum(x * y))
        .select_from(Attempt).join(drawn, on)
        .outerjoin(Answer, and_(Answer.attempt_id == Attempt.id, Answer.item_id == item_id))
        .where(Attempt.quiz_id == quiz.id, Attempt.earned.is_not(None))
        .group_by(item_id, Organisation.id, response)))).all()


def _phase_rows(actor: User, quiz: Quiz) -> Sequence[Row]:
    """The query over attempts: per organisation, finished attempts and each phase's average percent."""
    columns = []
    for phase in PHASES:
        percent = Attempt.phase_scores[(phase, "percent")].as_float()
        columns += [func.avg(percent), func.count(percent)]
    return db.session.execute(_finished(actor, (
        select(Organisation.id, Organisation.name, func.count(), *columns)
        .select_from(Attempt).where(Attempt.quiz_id == quiz.id)
        .group_by(Organisation.id, Organisation.name).order_by(Organisation.name)))).all()


def analyse(actor: User, quiz: Quiz) -> QuizAnalysis:
    """Item analysis over the finished attempts of the quiz that the actor may see, but restricted people's.

    Items are those of the quiz's current version; answers to items it dropped are left out.
    """
    spec = quiz.current_version.spec
    items = items_by_id(spec)
    questions = {item_id: Unit(item, None, question_type(item).picks(item), _pool(spec, item))
                 for item_id, item in items.items()}
    decisions = {(item["id"], node["id"]): Unit(item, node, replies, frozenset({item["id"]}))
                 for item in items.values() for node, replies in question_type(item).decisions(item)}

    for item_id, org_id, raw, n, sx, sxx, sy, syy, sxy in response_groups(actor, quiz):
        unit = questions.get(item_id)
        if unit is None:
            continue
        response = json.loads(raw) if raw is not None else None
        item, qtype = unit.item, question_type(unit.item)
        steps = qtype.steps(item, response)
        for scope in (ALL, org_id):
            figures = unit.scopes[scope]
            figures.sums.add(n, sx, sxx, sy, syy, sxy)
            figures.picks.update({option: n for option in qtype.chosen(item, response)})
            if response is None:
                figures.unanswered += n
            for step in steps:
                # Each answer on this path took this reply here: its value at the decision is the
                # same for all n of them, so the sums follow from the group's.
                decision = decisions[(item["id"], step.decision)].scopes[scope]
                decision.sums.add(n, n * step.value, n * step.value * step.value, sy, syy, step.value * sy)
                decision.picks[step.reply] += n

    organisations, attempts, phase_by_org = {}, {ALL: 0}, {}
    for org_id, name, count, *phase_columns in _phase_rows(actor, quiz):
        organisations[org_id] = name
        attempts[org_id] = count
        attempts[ALL] += count
        phase_by_org[name] = {phase: round(average, 1) for phase, average, _ in
                              zip(PHASES, phase_columns[::2], phase_columns[1::2], strict=True) if average is not None}
    order = {phase: i for i, phase in enumerate(PHASES)}
    return QuizAnalysis(
        quiz=quiz, organisations=organisations, attempts=attempts,
        questions=sorted(questions.values(), key=lambda u: (order[u.phase], u.item["id"])),
        decisions=list(decisions.values()), phase_by_org=phase_by_org)


def _pool(spec: dict, item: dict) -> frozenset[str]:
    """The items any draw rule that can pick this item picks from (services.draw_items' rule)."""
    def matches(rule: dict, candidate: dict) -> bool:
        return candidate["phase"] == rule["phase"] and (not rule.get("types") or candidate["type"] in rule["types"])

    rules = [rule for rule in spec["draw"] if matches(rule, item)]
    return frozenset(c["id"] for c in spec["questions"] for rule in rules if matches(rule, c))


def item_map_svg(analysis: QuizAnalysis, scope: int | None, units: list[Unit]) -> str | None:
    """Facility against discrimination, one point per item with both figures, as an SVG scatter plot.

    The classic item-analysis map: items low on the chart discriminate badly, items far right
    are easy. None when no item has both figures.
    """
    import pygal
    from pygal.style import Style

    series: dict[str, list[dict]] = {"Questions": [], "Call decisions": []}
    for unit in units:
        figures = unit.figures(scope)
        if figures.facility is not None and figures.discrimination is not None:
            series["Questions" if unit.node is None else "Call decisions"].append(
                {"value": (round(100 * figures.facility, 1), round(figures.discrimination, 2)), "label": unit.key})
    if not any(series.values()):
        return None
    style = Style(background="white", plot_background="white", colors=("#2f5aa8", "#b45309"),
                  font_family="DejaVu Sans, Arial, sans-serif")
    chart = pygal.XY(js=[], disable_xml_declaration=True, style=style, stroke=False, height=360, width=800,
                     legend_at_bottom=True, range=(-1, 1), xrange=(0, 100), dots_size=4, print_labels=True,
                     x_title="Facility (% of points earned)", y_title="Discrimination (r)",
                     title="Items by facility and discrimination")
    for name, points in series.items():
        if points:
            chart.add(name, points)
    return static_svg(chart)


def phase_chart_svg(analysis: QuizAnalysis) -> str:
    """Average score per phase for each organisation, as an SVG bar chart."""
    import pygal
    from pygal.style import Style

    style = Style(background="white", plot_background="white", colors=("#2f5aa8", "#7a3e9d", "#0f6b5c"),
                  font_family="DejaVu Sans, Arial, sans-serif")
    chart = pygal.Bar(js=[], disable_xml_declaration=True, style=style, range=(0, 100), height=360,
                      width=800, legend_at_bottom=True, print_values=True, value_formatter=lambda v: f"{v:.0f}%",
                      title=f"Average score by moment of the call: {analysis.quiz.current_version.title}")
    orgs = list(analysis.phase_by_org)
    chart.x_labels = orgs
    labels = {"before": "Before the call", "during": "During the call", "after": "After the call"}
    for phase in PHASES:
        chart.add(labels[phase], [analysis.phase_by_org[org].get(phase) for org in orgs])
    return static_svg(chart)
