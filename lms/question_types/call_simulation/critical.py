"""Critical replies in call simulations: the rules `content check` holds them to.

A choice marked `critical: <reason>` is a reply that, on a real call, would be a breach that
the rest of the call cannot undo. Grading fails the whole attempt on a path through one
(lms/question_types/call_simulation/), whatever the rest of the path scores. These checks keep
the score design honest as well, so that the numbers never tell a different story from the
verdict:

- a critical choice scores 0;
- a choice tagged `discloses: true` (it discloses personal data or promises an exfiltration)
  is critical;
- no path through a critical choice can reach the quiz's pass mark on the simulation's own
  score (path total / best total, as grading computes it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from lms.checked_yaml.fields import Fields, Report, describe, text_value
from lms.checked_yaml.yaml_lines import LineDict


def _true_or_false(value: Any, line: int) -> Iterator[tuple[int, str]]:
    if not isinstance(value, bool):
        yield line, f"must be true or false, got {describe(value)}"


# The two fields a simulation choice may add to {id, text, feedback, score, next}.
CRITICAL_FIELDS: Fields = {"critical": (False, text_value), "discloses": (False, _true_or_false)}


class _Choice(NamedTuple):
    node: str
    id: str
    score: int
    next: str
    critical: bool
    line: int         # where the choice starts


def _score(choice: LineDict) -> int:
    score = choice.get("score")
    return score if isinstance(score, int) and not isinstance(score, bool) else 0


def _choices(nodes: Mapping[str, LineDict]) -> Iterator[tuple[str, LineDict]]:
    for node_id, node in nodes.items():
        choices = node.get("choices")
        for choice in choices if isinstance(choices, list) else []:
            if isinstance(choice, LineDict):
                yield node_id, choice


def _name(choice: LineDict) -> str:
    return f"choice '{choice['id']}'" if isinstance(choice.get("id"), str) else "a choice"


def check_critical_choices(report: Report, label: str, nodes: Mapping[str, LineDict], start: str,
                           pass_mark: Any, graph_ok: bool) -> None:
    """Report critical choices that score, disclosures not marked critical, and breach paths
    that could pass.

    `nodes` are the simulation's nodes by id; the path check runs only on a sound graph
    (`graph_ok`: every `next` names a node, all are reached from `start`, no cycle) and a valid
    pass mark, since both are reported elsewhere otherwise.
    """
    edges: list[_Choice] = []
    for node_id, choice in _choices(nodes):
        at = f"{label}, node '{node_id}', {_name(choice)}"
        critical = isinstance(choice.get("critical"), str) and bool(choice["critical"].strip())
        if critical and _score(choice) > 0:
            report.add(choice.line_of("score"), f"{at}: a critical choice must score 0, "
                                                f"not {_score(choice)}")
        if choice.get("discloses") is True and not critical:
            report.add(choice.line_of("discloses"),
                       f"{at}: it discloses personal data (discloses: true), so it must be "
                       "critical: add 'critical:' with the reason the agent is told")
        if isinstance(choice.get("id"), str) and isinstance(choice.get("next"), str):
            edges.append(_Choice(node_id, choice["id"], _score(choice), choice["next"], critical,
                                 choice.line))
    if not graph_ok or isinstance(pass_mark, bool) or not isinstance(pass_mark, int):
        return
    for message_line, message in _passing_breach_paths(edges, start, pass_mark):
        report.add(message_line, f"{label}, {message}")


def _passing_breach_paths(edges: list[_Choice], start: str,
                          pass_mark: int) -> Iterator[tuple[int, str]]:
    """For each critical choice, the best path through it, when that path reaches `pass_mark`."""
    outgoing: dict[str, list[_Choice]] = {}
    incoming: dict[str, list[_Choice]] = {}
    for edge in edges:
        outgoing.setdefault(edge.node, []).append(edge)
        incoming.setdefault(edge.next, []).append(edge)

    # The graph has no cycle (checked before), so both recursions end.
    @lru_cache(maxsize=None)
    def best_from(node: str) -> tuple[int, tuple[_Choice, ...]]:
        """The best total from `node` to an ending, and the choices that make it."""
        return max(((edge.score + best_from(edge.next)[0], (edge,) + best_from(edge.next)[1])
                    for edge in outgoing.get(node, [])), key=lambda found: found[0],
                   default=(0, ()))

    @lru_cache(maxsize=None)
    def best_to(node: str) -> tuple[int, tuple[_Choice, ...]] | None:
        """The best total from the start to `node`, and its choices; None if out of reach."""
        if node == start:
            return 0, ()
        ways = [(way[0] + edge.score, way[1] + (edge,)) for edge in incoming.get(node, [])
                if (way := best_to(edge.node)) is not None]
        return max(ways, key=lambda found: found[0], default=None)

    best = best_from(start)[0]
    if best <= 0:
        return   # reported by validate: the call cannot be graded
    for edge in edges:
        before = best_to(edge.node)
        if not edge.critical or before is None:
            continue
        after = best_from(edge.next)
        total = before[0] + edge.score + after[0]
        percent = round(100 * total / best, 1)   # as grading rounds an attempt's percent
        if percent >= pass_mark:
            steps = before[1] + (edge,) + after[1]
            path = " → ".join(f"{step.node}/{step.id}" for step in steps)
            ending = steps[-1].next
            yield edge.line, (f"node '{edge.node}', choice '{edge.id}': a path through this "
                              f"critical choice scores {total} of {best} ({percent:g}%), reaching "
                              f"the pass mark of {pass_mark}%: {path} → {ending}. Lower the "
                              "scores on that path so that it stays below the pass mark")
