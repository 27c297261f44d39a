"""A call simulation as a graph: what `content check` will say about it, every path, and a drawing.

Pure functions over the plain item dict of a `call_simulation` (as quiz_yaml.load_quiz gives
it), so the editor can show problems and the tree while the draft is still broken. The
findings name the same faults as lms/content/validate.py, in its words, so the editor and
publishing never disagree about what is wrong; the editor lists the validator's own messages
and uses these findings to mark the drawing.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from flask_babel import gettext as _

from lms.checked_yaml.fields import element_name, plural

MAX_PATHS = 200  # enough for any call a trainer draws; a guard against combinatorial blow-up

# Layout of the drawing, in SVG user units.
NODE_W, NODE_H = 190, 74
GAP_X, GAP_Y = 36, 92
MARGIN = 16
LINE_CHARS = 30


@dataclass(frozen=True)
class Finding:
    """One fault of the graph, on a node; `kind` is what the drawing marks."""

    node: str
    kind: str       # "unreachable", "dead_end", "missing_target", "cycle", "few_choices"
    message: str    # in the validator's words


@dataclass(frozen=True)
class Step:
    """A reply on a path: from node `node` the agent says `choice`, scoring `score`."""

    node: str
    choice: str
    text: str
    score: int


@dataclass(frozen=True)
class Path:
    """A way through the call from the start to an ending."""

    steps: tuple[Step, ...]
    ending: str

    @property
    def score(self) -> int:
        return sum(step.score for step in self.steps)


@dataclass
class Analysis:
    """Everything the editor shows about one simulation's graph."""

    start: str
    nodes: dict[str, dict]                    # by id, first of each id, in file order
    reachable: set[str] = field(default_factory=set)
    depth: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    paths_truncated: bool = False

    @property
    def unreachable(self) -> list[str]:
        return [node for node in self.nodes if node not in self.reachable]

    @property
    def dead_ends(self) -> list[str]:
        return _unique(f.node for f in self.findings if f.kind in ("dead_end", "missing_target"))

    @property
    def best_score(self) -> int:
        return max((path.score for path in self.paths), default=0)

    def marks(self, node_id: str) -> list[str]:
        """Short text markers for a node in the drawing (never colour alone)."""
        labels = {"unreachable": _("UNREACHABLE"), "dead_end": _("DEAD END"),
                  "missing_target": _("DEAD END"), "cycle": _("LOOPS BACK"),
                  "few_choices": _("ONE REPLY")}
        return _unique(labels[f.kind] for f in self.findings if f.node == node_id)


def _unique(values: Any) -> list:
    return list(dict.fromkeys(values))


def _choices(node: dict) -> list[dict]:
    choices = node.get("choices")
    return [c for c in choices if isinstance(c, dict)] if isinstance(choices, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _score(choice: dict) -> int:
    score = choice.get("score")
    return score if isinstance(score, int) and not isinstance(score, bool) else 0


def analyse(item: dict) -> Analysis:
    """Reachability, faults and every start-to-ending path of a call simulation item."""
    nodes: dict[str, dict] = {}
    for node in item.get("nodes") or []:
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            nodes.setdefault(node["id"], node)
    start = _text(item.get("start"))
    result = Analysis(start=start, nodes=nodes)
    label = f"question '{item.get('id', '')}'"
    for node_id, node in nodes.items():
        at = f"{label}, node '{node_id}'"
        has_choices, is_end, choices = "choices" in node, node.get("end") is True, _choices(node)
        if has_choices and is_end:
            result.findings.append(Finding(node_id, "dead_end", f"{at}: has both choices and "
                                                                "'end: true'; an ending has no choices"))
        elif not has_choices and not is_end:
            result.findings.append(Finding(node_id, "dead_end",
                                           f"{at}: has neither choices nor 'end: true'"))
        elif not is_end and len(choices) < 2:
            # No reply at all leaves the call stuck; one reply is no decision. Both are errors.
            result.findings.append(Finding(
                node_id, "few_choices" if choices else "dead_end",
                f"{at}: has {plural(len(choices), 'choice')}; a decision node needs at least 2"))
        for index, choice in enumerate(choices):
            target = _text(choice.get("next"))
            if target not in nodes:
                name = element_name("choice", choice, index)
                result.findings.append(Finding(node_id, "missing_target",
                                               f"{at}, {name}: 'next' names no node: '{target}'"))
    if start not in nodes:
        return result
    _walk(result, label)
    for node_id in result.unreachable:
        result.findings.append(Finding(node_id, "unreachable", f"{label}, node '{node_id}': never "
                                                               f"reached from the start node '{start}'"))
    return result


def _walk(result: Analysis, label: str) -> None:
    """Breadth-first depths, then every path by depth-first search (marking loops)."""
    nodes = result.nodes
    result.depth[result.start] = 0
    queue = [result.start]
    for node_id in queue:
        for choice in _choices(nodes[node_id]):
            target = _text(choice.get("next"))
            if target in nodes and target not in result.depth:
                result.depth[target] = result.depth[node_id] + 1
                queue.append(target)
    result.reachable = set(result.depth)

    def visit(node_id: str, steps: tuple[Step, ...], on_path: tuple[str, ...]) -> None:
        node = nodes[node_id]
        if node.get("end") is True:
            if len(result.paths) >= MAX_PATHS:
                result.paths_truncated = True
            else:
                result.paths.append(Path(steps, node_id))
            return
        for choice in _choices(node):
            target = _text(choice.get("next"))
            if target not in nodes:
                continue
            step = Step(node_id, _text(choice.get("id")), _text(choice.get("text")), _score(choice))
            if target in on_path:
                finding = Finding(node_id, "cycle", f"{label}, node '{node_id}', choice "
                                  f"'{step.choice}': leads back to node '{target}', so the call "
                                  "can go round forever")
                if finding not in result.findings:
                    result.findings.append(finding)
            elif not result.paths_truncated:
                visit(target, steps + (step,), on_path + (target,))

    visit(result.start, (), (result.start,))


# -- drawing --------------------------------------------------------------------------------

def _lines(text: str, width: int = LINE_CHARS, count: int = 2) -> list[str]:
    """The first `count` lines of `text` wrapped at `width` characters, with an ellipsis if cut."""
    words, lines = " ".join(text.split()).split(" "), [""]
    for word in words:
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width:
            lines.append("")
        lines[-1] = f"{lines[-1]} {word}".strip()
    if len(lines) > count:
        lines = lines[:count]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return [line[:width] for line in lines]


def _layout(result: Analysis) -> dict[str, tuple[float, float]]:
    """Top-left corner of each node: one row per depth, unreachable nodes in a last row."""
    rows: dict[int, list[str]] = {}
    for node_id in sorted(result.depth, key=lambda n: result.depth[n]):
        rows.setdefault(result.depth[node_id], []).append(node_id)
    if result.unreachable:
        rows[max(rows, default=-1) + 1] = result.unreachable
    widest = max((len(row) for row in rows.values()), default=1)
    total = widest * NODE_W + (widest - 1) * GAP_X
    spots = {}
    for depth, row in rows.items():
        used = len(row) * NODE_W + (len(row) - 1) * GAP_X
        left = MARGIN + (total - used) / 2
        for index, node_id in enumerate(row):
            spots[node_id] = (left + index * (NODE_W + GAP_X), MARGIN + depth * (NODE_H + GAP_Y))
    return spots


def render_svg(item: dict, result: Analysis | None = None, *, title_id: str = "sim-tree",
               href: Callable[[str], str] | None = None) -> str:
    """The whole tree as an SVG element: every text escaped, faults marked in words.

    `href(node_id)`, when given, makes each node a link (to its form, in the editor).

    Presentation attributes only (no style attribute or element), so the page's
    Content-Security-Policy without 'unsafe-inline' styles still applies to it.
    """
    result = result or analyse(item)
    spots = _layout(result)
    width = max((x for x, _ in spots.values()), default=0) + NODE_W + MARGIN
    height = max((y for _, y in spots.values()), default=0) + NODE_H + MARGIN
    edges, boxes = [], []
    for node_id, node in result.nodes.items():
        x, y = spots[node_id]
        # Replies that lead to the same node share one line, their labels stacked on it.
        by_target: dict[str, list[str]] = {}
        for choice in _choices(node):
            target = _text(choice.get("next"))
            if target in spots:
                by_target.setdefault(target, []).append(f"{_text(choice.get('id'))} · {_score(choice)}")
        for target, labels in by_target.items():
            tx, ty = spots[target]
            x1, y1, x2, y2 = x + NODE_W / 2, y + NODE_H, tx + NODE_W / 2, ty
            if ty <= y:  # a loop back up: leave from the side so the line is visible
                x1, y1 = x + NODE_W, y + NODE_H / 2
            lx, ly = x1 + (x2 - x1) * 0.55, y1 + (y2 - y1) * 0.55 - 6.5 * (len(labels) - 1)
            lines = "".join(f'<tspan x="{lx:.0f}" dy="{0 if i == 0 else 13}">{escape(label)}</tspan>'
                            for i, label in enumerate(labels))
            edges.append(
                f'<g class="sim-edge"><line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" '
                f'stroke="#5b6470" stroke-width="1.5" marker-end="url(#{title_id}-arrow)"/>'
                f'<text x="{lx:.0f}" y="{ly:.0f}" font-size="11" text-anchor="middle" '
                f'fill="#1f2933" stroke="#ffffff" stroke-width="3" paint-order="stroke">'
                f'{lines}</text></g>')
        box = _box(node_id, node, x, y, result)
        boxes.append(f"<a href={quoteattr(href(node_id))}>{box}</a>" if href else box)
    # "Label: number" needs no plural forms, and this sentence holds two counts.
    description = _("Nodes: %(nodes)s. Paths from the start to an ending: %(paths)s. The list after the "
                    "drawing gives every path in words.", nodes=len(result.nodes), paths=len(result.paths))
    title = _("%(title)s: conversation tree", title=_text(item.get("title")) or _("Call simulation"))
    # A picture, unless its boxes are links: an image's content is hidden from assistive technology,
    # so links inside role="img" would be there for the mouse and the Tab key only.
    role = "group" if href else "img"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sim-tree" role="{role}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'aria-labelledby="{title_id}-title {title_id}-desc">'
        f'<title id="{title_id}-title">{escape(title)}</title>'
        f'<desc id="{title_id}-desc">{escape(description)}</desc>'
        f'<defs><marker id="{title_id}-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="#5b6470"/></marker></defs>'
        + "".join(edges) + "".join(boxes) + "</svg>")


def _box(node_id: str, node: dict, x: float, y: float, result: Analysis) -> str:
    marks = result.marks(node_id)
    ending = node.get("end") is True
    fill, stroke = ("#e6f4ea", "#2f7d4a") if ending else ("#ffffff", "#3b4a5a")
    if marks:
        fill, stroke = "#fdecea", "#b3261e"
    dashes = ' stroke-dasharray="6 3"' if marks else ""
    if node_id == result.start:
        heading = _("%(node)s (start) · END", node=node_id) if ending else _("%(node)s (start)", node=node_id)
    else:
        heading = _("%(node)s · END", node=node_id) if ending else node_id
    parts = [f'<g class="sim-node{" sim-ending" if ending else ""}{" sim-flagged" if marks else ""}"'
             f' data-node={quoteattr(node_id)}>',
             f'<rect x="{x:.0f}" y="{y:.0f}" width="{NODE_W}" height="{NODE_H}" '
             f'rx="{14 if ending else 4}" fill="{fill}" stroke="{stroke}" '
             f'stroke-width="{3 if marks else 1.5}"{dashes}/>',
             f'<text x="{x + 8:.0f}" y="{y + 17:.0f}" font-size="12" font-weight="bold" '
             f'fill="#1f2933">{escape(_lines(heading, LINE_CHARS, 1)[0])}</text>']
    for index, line in enumerate(_lines(_text(node.get("caller")))):
        parts.append(f'<text x="{x + 8:.0f}" y="{y + 34 + 14 * index:.0f}" font-size="11" '
                     f'fill="#1f2933">{escape(line)}</text>')
    if marks:
        parts.append(f'<text x="{x + 8:.0f}" y="{y + NODE_H - 6:.0f}" font-size="11" '
                     f'font-weight="bold" fill="#b3261e">⚠ {escape(", ".join(marks))}</text>')
    parts.append("</g>")
    return "".join(parts)
