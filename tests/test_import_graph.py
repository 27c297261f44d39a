"""The import graph between lms's top-level packages has no cycle, and no package reads another's private names.

Rules (#20):

- A node is a top-level package of lms (`lms/learning/` is `lms.learning`) or a top-level module
  (`lms/policy.py` is `lms.policy`, `lms/signals.py` is `lms.signals`).
- Every import counts: at module level, inside functions (a deferred import hides a cycle from
  Python, not from the design), and relative ones.
- Three modules are roots that wire everything and are no nodes: `lms/__init__.py` (the app
  factory registers every blueprint), `lms/models.py` (imports every model for Alembic) and
  `lms/cli.py` (the `lms` command group gathers every package's commands). Their own imports are
  not edges. No package may import `lms.models` or `lms.cli`; the one import of the root allowed
  is `create_app`, by an entry point that must build the app (the job worker).
- The graph between nodes has no cycle: when one domain must react to another's event, it
  subscribes to a signal in `lms/signals.py`; code that works on a domain's rows lives in that
  domain.
- A name that starts with one underscore is private to its package: no other package imports it
  (`from lms.x.y import _name`, `import lms.x._mod`) or reads it off a module
  (`lms.x.y._name`, or `y._name` after `from lms.x import y`).
- ALLOWED_EDGES and ALLOWED_PRIVATE list, each with its reason, what still breaks these rules
  until its owner's work removes it; an entry that no import needs any more fails the suite.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

LMS = Path(__file__).resolve().parent.parent / "lms"
ROOTS = {"lms", "lms.models", "lms.cli"}
ENTRY_POINT_IMPORTS = {("lms.jobs", "create_app")}

# Edges excused from the cycle check, each with the reason and the work that will remove it:
# none today. The packages layer, bottom first: audit, accounts, errors, mfa, policy, sso,
# audit_pages, learning, assessment, certification, reminders, account_pages, evidence,
# credentials, jobs, xapi, roster, privacy; an import that goes up closes a cycle and fails.
# test_allowed_edges_are_still_needed fails when an excused edge's last import is gone.
ALLOWED_EDGES: dict[tuple[str, str], str] = {}
# Private names taken across packages, likewise until the owners make them public.
ALLOWED_PRIVATE: dict[tuple[str, str, str], str] = {}


@dataclass(frozen=True)
class Import:
    source: str  # the node that imports
    target: str  # the node imported (or a root)
    where: str  # path:line
    private: str | None = None  # the private name, when one is taken from another node
    name: str | None = None  # what is taken from the root `lms` (create_app)


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _node(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def _is_module(dotted: str, root: Path) -> bool:
    location = root.parent / Path(*dotted.split("."))
    return location.is_dir() or location.with_suffix(".py").is_file()


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _imports(path: Path, root: Path) -> list[Import]:
    module = _module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    source = _node(module)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))

    def where(node: ast.stmt | ast.expr) -> str:
        return f"{path.relative_to(root.parent)}:{node.lineno}"

    found: list[Import] = []
    aliases: dict[str, str] = {}  # local name -> the lms module it is bound to

    def add(target_module: str, node: ast.AST, name: str | None = None) -> None:
        target = _node(target_module)
        private = None
        if target != source:
            hidden = [p for p in target_module.split(".") if _private(p)]
            if name and _private(name):
                hidden.append(name)
            private = ".".join(hidden) or None
        found.append(Import(source, target, where(node), private))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "lms" or alias.name.startswith("lms."):
                    add(alias.name, node)
                    if alias.asname:
                        aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            if origin != "lms" and not origin.startswith("lms."):
                continue
            for alias in node.names:
                submodule = f"{origin}.{alias.name}"
                if _is_module(submodule, root):
                    add(submodule, node)
                    aliases[alias.asname or alias.name] = submodule
                elif origin == "lms":
                    found.append(Import(source, "lms", where(node), name=alias.name))
                else:
                    add(origin, node, alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            dotted = _dotted(node.value, aliases)
            if dotted and _is_module(dotted, root) and _node(dotted) != source:
                found.append(Import(source, _node(dotted), where(node), node.attr))
    return found


def _dotted(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """`lms.x.y` for an attribute chain that starts at `lms` or at a name bound to an lms module."""
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    head = aliases.get(node.id, node.id)
    if head != "lms" and not head.startswith("lms."):
        return None
    return ".".join([head, *reversed(names)])


def _all_imports(root: Path = LMS) -> list[Import]:
    return [imp for path in sorted(root.rglob("*.py")) for imp in _imports(path, root)]


def _graph(imports: list[Import]) -> dict[str, dict[str, list[str]]]:
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for imp in imports:
        if imp.source in ROOTS or imp.target in ROOTS or imp.source == imp.target:
            continue
        sites = graph[imp.source][imp.target] if (imp.source, imp.target) not in ALLOWED_EDGES else []
        if imp.where not in sites:
            sites.append(imp.where)
    return graph


def _cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """One cycle through each strongly connected component of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_cycle_in(graph, set(c), c[0]) for c in components]


def _cycle_in(graph: dict[str, dict[str, list[str]]], component: set[str], start: str) -> list[str]:
    """A shortest path from start back to start inside the component (breadth first)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(graph[v]):
                if w not in component or w in previous:
                    continue
                previous[w] = v
                if w == start:
                    path = [start]
                    while path[-1] != start or len(path) == 1:
                        path.append(previous[path[-1]])
                    return list(reversed(path))
                following.append(w)
        frontier = following
    raise AssertionError(f"no cycle through {start}")


def _describe(graph: dict[str, dict[str, list[str]]], cycle: list[str]) -> str:
    lines = [" -> ".join(cycle)]
    for a, b in zip(cycle, cycle[1:]):
        lines.append(f"  {a} -> {b}: {', '.join(graph[a][b])}")
    return "\n".join(lines)


def test_no_cycle_between_packages():
    graph = _graph(_all_imports())
    cycles = _cycles(graph)
    assert not cycles, "import cycles between lms packages:\n" + "\n".join(_describe(graph, c) for c in cycles)


def test_no_package_takes_another_packages_private_names():
    leaks = [f"{imp.where}: {imp.source} takes {imp.target}'s {imp.private}"
             for imp in _all_imports() if imp.private
             and (imp.source, imp.target, imp.private) not in ALLOWED_PRIVATE]
    assert not leaks, "\n".join(leaks)


def test_roots_are_imported_only_by_entry_points():
    wrong = [f"{imp.where}: {imp.source} imports {imp.target} ({imp.name or 'module'})"
             for imp in _all_imports()
             if imp.target in ROOTS and imp.source not in ROOTS
             and (imp.source, imp.name) not in ENTRY_POINT_IMPORTS]
    assert not wrong, "\n".join(wrong)


def test_allowed_edges_are_still_needed():
    """An allow-list entry whose import is gone must go too, or it would hide the next cycle."""
    imports = _all_imports()
    edges = {(imp.source, imp.target) for imp in imports}
    assert not [edge for edge in ALLOWED_EDGES if edge not in edges]
    private = {(imp.source, imp.target, imp.private) for imp in imports}
    assert not [taken for taken in ALLOWED_PRIVATE if taken not in private]


def test_the_check_sees_deferred_imports_cycles_and_private_names(tmp_path):
    """The graph finds a cycle made by a deferred import, and a private name taken off a module."""
    package = tmp_path / "lms"
    (package / "a").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a" / "__init__.py").write_text("from lms.b import thing\n")
    (package / "b.py").write_text(
        "def thing():\n    from lms.a import models\n    return models._hidden\n")
    (package / "a" / "models.py").write_text("_hidden = 1\n")
    imports = _all_imports(package)
    assert _cycles(_graph(imports)) == [["lms.a", "lms.b", "lms.a"]]
    assert [(i.source, i.target, i.private) for i in imports if i.private] == [("lms.b", "lms.a", "_hidden")]
