"""Item analysis for trainers: how each question and simulation node performs, by organisation.

Each report is a fixed number of queries whatever the number of agents: the
rows are read once and aggregated in Python.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from lms.accounts.models import Organisation, User
from lms.assessment.models import Answer, Attempt, AttemptStatus
from lms.assessment.question_types import REGISTRY
from lms.assessment.services import PHASES, items_by_id
from lms.extensions import db
from lms.learning.models import Quiz
from lms.policy import restrict_attempts
from lms.svg_charts import static_svg


@dataclass
class ItemStats:
    item: dict
    answered: int = 0
    correct: int = 0
    wrong_choices: Counter = field(default_factory=Counter)
    by_org: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))  # [correct, answered]

    @property
    def percent_correct(self) -> float | None:
        return round(100 * self.correct / self.answered, 1) if self.answered else None

    @property
    def most_chosen_wrong(self) -> tuple[str, int] | None:
        """The wrong option chosen most often (text, times)."""
        if not self.wrong_choices:
            return None
        option_id, times = self.wrong_choices.most_common(1)[0]
        texts = {o["id"]: o["text"] for o in self.item.get("options", [])} | {"true": "True", "false": "False"}
        return texts.get(option_id, option_id), times


@dataclass
class NodeStats:
    item_id: str
    node: dict
    visits: int = 0
    choices: Counter = field(default_factory=Counter)

    @property
    def best_choice_ids(self) -> set[str]:
        top = max(c["score"] for c in self.node["choices"])
        return {c["id"] for c in self.node["choices"] if c["score"] == top}

    @property
    def percent_best(self) -> float | None:
        if not self.visits:
            return None
        return round(100 * sum(self.choices[c] for c in self.best_choice_ids) / self.visits, 1)


@dataclass
class QuizAnalysis:
    quiz: Quiz
    attempts: int
    items: list[ItemStats]
    nodes: list[NodeStats]
    phase_by_org: dict[str, dict[str, float]]  # org -> phase -> average percent

    def weakest_phase(self, org: str) -> str | None:
        phases = self.phase_by_org.get(org) or {}
        return min(phases, key=phases.get) if phases else None


# People who restricted the use of their data (Arts 18, 21) are left out of the analysis.
_not_restricted = User.restricted_at.is_(None)


def analyse(actor: User, quiz: Quiz) -> QuizAnalysis:
    """Item analysis over every finished attempt of the quiz that the actor may see, but restricted people's."""
    spec_items = items_by_id(quiz.current_version.spec)
    attempts = db.session.execute(restrict_attempts(actor, (
        select(Attempt.id, Attempt.phase_scores, Organisation.name)
        .join(User, User.id == Attempt.user_id).join(Organisation, Organisation.id == User.organisation_id)
        .where(Attempt.quiz_id == quiz.id, Attempt.status != AttemptStatus.IN_PROGRESS, _not_restricted)))).all()
    answers = db.session.execute(restrict_attempts(actor, (
        select(Answer.item_id, Answer.response, Answer.earned, Answer.possible, Organisation.name)
        .join(Attempt, Attempt.id == Answer.attempt_id).join(User, User.id == Attempt.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(Attempt.quiz_id == quiz.id, Attempt.status != AttemptStatus.IN_PROGRESS, _not_restricted)))).all()

    stats = {item_id: ItemStats(item) for item_id, item in spec_items.items()}
    nodes = {(item["id"], node["id"]): NodeStats(item["id"], node)
             for item in spec_items.values() if item["type"] == "call_simulation"
             for node in item["nodes"] if node.get("choices")}
    for item_id, response, earned, possible, org in answers:
        entry = stats.get(item_id)
        if entry is None or earned is None:
            continue  # an item no longer in the current version
        right = earned >= possible
        entry.answered += 1
        entry.correct += right
        entry.by_org[org][0] += right
        entry.by_org[org][1] += 1
        item = entry.item
        if item["type"] == "call_simulation":
            for node, choice in REGISTRY["call_simulation"].walk(item, list(response or []))[0]:
                node_stats = nodes[(item["id"], node["id"])]
                node_stats.visits += 1
                node_stats.choices[choice["id"]] += 1
        elif not right:
            key = item["correct"]
            chosen = [response] if isinstance(response, str) else ["true" if response else "false"] \
                if isinstance(response, bool) else list(response or [])
            key_ids = {key} if isinstance(key, str) else {"true" if key else "false"} \
                if isinstance(key, bool) else set(key)
            if item["type"] == "ordering":
                continue  # every option is in the key; "wrong option" has no meaning for an order
            entry.wrong_choices.update(c for c in chosen if c not in key_ids)

    sums: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for _, phase_scores, org in attempts:
        for phase, score in (phase_scores or {}).items():
            sums[org][phase].append(score["percent"])
    phase_by_org = {org: {p: round(sum(v) / len(v), 1) for p in PHASES if (v := phases.get(p))}
                    for org, phases in sorted(sums.items())}
    ordered = sorted(stats.values(), key=lambda s: (PHASES.index(s.item["phase"]), s.item["id"]))
    return QuizAnalysis(quiz, len(attempts), ordered, list(nodes.values()), phase_by_org)


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
