"""The shape of a call simulation that `content check` holds it to: every node a decision with
2 or more replies or an ending, every `next` a node, every node reached from the start, no way
round forever, a path that scores, and the critical replies' rules (critical.py)."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from lms.checked_yaml.fields import (
    Fields, Report, closed, describe, element_name, integer_value, list_items, plural, slug_value, text_value,
    unique_ids,
)
from lms.checked_yaml.yaml_lines import LineDict
from lms.question_types.call_simulation.critical import CRITICAL_FIELDS, check_critical_choices


def _end(value: Any, line: int) -> Iterator[tuple[int, str]]:
    if value is not True:
        yield line, f"must be true (leave it out at a decision node), got {describe(value)}"


NODE_FIELDS: Fields = {"id": (True, slug_value), "caller": (True, text_value),
                       "choices": (False, None), "end": (False, _end)}
CHOICE_FIELDS: Fields = {"id": (True, slug_value), "text": (True, text_value),
                         "feedback": (True, text_value), "score": (True, integer_value(0, 3)),
                         "next": (True, slug_value), **CRITICAL_FIELDS}


class _Edge(NamedTuple):
    """A choice seen as an edge of the simulation graph."""

    node: str
    choice: str       # "choice 'a'" or "choice 2"
    score: int
    target: str
    line: int         # line of the choice's `next`


def _check_node(report: Report, label: str, node: LineDict, edges: list[_Edge]) -> None:
    """One node's fields and shape; its usable choices are appended to `edges`."""
    has_choices, is_end = "choices" in node, node.get("end") is True
    if has_choices and is_end:
        report.add(node.line_of("end"), f"{label}: has both choices and 'end: true'; "
                                        "an ending has no choices")
    elif not has_choices and not is_end:
        report.add(node.line, f"{label}: has neither choices nor 'end: true'")
    choices = list_items(report, label, node, "choices", min_items=0)
    if has_choices and not is_end and isinstance(node["choices"], list) and len(choices) < 2:
        report.add(node.line_of("choices"), f"{label}: has {plural(len(choices), 'choice')}; "
                                            "a decision node needs at least 2")
    for index, (line, choice) in enumerate(choices):
        name = element_name("choice", choice, index)
        if closed(report, f"{label}, {name}", choice, line, CHOICE_FIELDS) \
                and isinstance(node.get("id"), str) and isinstance(choice.get("next"), str):
            score = choice.get("score")
            score = score if isinstance(score, int) and not isinstance(score, bool) else 0
            edges.append(_Edge(node["id"], name, score, choice["next"], choice.line_of("next")))
    unique_ids(report, label, "choice", choices)


def _back_edges(start: str, edges: Mapping[str, list[_Edge]]) -> tuple[set[str], list[_Edge]]:
    """Nodes reachable from `start`, and the edges that close a cycle."""
    reached = {start}
    on_path = {start}
    back: list[_Edge] = []
    stack = [(start, iter(edges.get(start, [])))]
    while stack:
        node, pending = stack[-1]
        edge = next(pending, None)
        if edge is None:
            stack.pop()
            on_path.discard(node)
        elif edge.target in on_path:
            back.append(edge)
        elif edge.target not in reached:
            reached.add(edge.target)
            on_path.add(edge.target)
            stack.append((edge.target, iter(edges.get(edge.target, []))))
    return reached, back


def _best_total(start: str, edges: Mapping[str, list[tuple[int, str]]]) -> int:
    """Best total score over the paths from `start`; ValueError on a cycle."""
    best: dict[str, int] = {}
    on_path: set[str] = set()

    def visit(node: str) -> int:
        if node not in best:
            if node in on_path:
                raise ValueError(f"the call can go round forever through node '{node}'")
            on_path.add(node)
            best[node] = max((score + visit(target) for score, target in edges.get(node, [])),
                             default=0)
            on_path.discard(node)
        return best[node]
    return visit(start)


def check_simulation(report: Report, label: str, item: LineDict, pass_mark: Any) -> None:
    """Nodes, choices and the graph: every `next` exists, all nodes reached, no cycle; and
    no path through a critical choice that could pass (critical.py)."""
    nodes = list_items(report, label, item, "nodes")
    edges: list[_Edge] = []
    for index, (line, node) in enumerate(nodes):
        node_label = f"{label}, {element_name('node', node, index)}"
        if closed(report, node_label, node, line, NODE_FIELDS):
            _check_node(report, node_label, node, edges)
    by_id = unique_ids(report, label, "node", nodes)
    if not by_id:
        return
    graph_ok = True
    for edge in edges:
        if edge.target not in by_id:
            graph_ok = False
            report.add(edge.line, f"{label}, node '{edge.node}', {edge.choice}: "
                                  f"'next' names no node: '{edge.target}'")
    start = item.get("start")
    if not isinstance(start, str):
        return
    if start not in by_id:
        report.add(item.line_of("start"), f"{label}: 'start' names no node: '{start}'")
        return
    outgoing: dict[str, list[_Edge]] = {node_id: [] for node_id in by_id}
    for edge in edges:
        if edge.node in outgoing and edge.target in by_id:
            outgoing[edge.node].append(edge)
    reached, back = _back_edges(start, outgoing)
    for node_id, node in by_id.items():
        if node_id not in reached:
            graph_ok = False
            report.add(node.line, f"{label}, node '{node_id}': never reached from "
                                  f"the start node '{start}'")
    for edge in back:
        graph_ok = False
        report.add(edge.line, f"{label}, node '{edge.node}', {edge.choice}: leads back to "
                              f"node '{edge.target}', so the call can go round forever")
    scores = {node_id: [(e.score, e.target) for e in out] for node_id, out in outgoing.items()}
    if graph_ok and _best_total(start, scores) == 0:
        report.add(item.line_of("start"), f"{label}: no path scores above 0, so the call "
                                          "cannot be graded")
    check_critical_choices(report, label, by_id, start, pass_mark, graph_ok)
