"""The import graph reads like the flow: the engine (`mmweak`) never imports the LF library or the recipes, the
library never imports the recipes, and no module imports another that imports it back — counting imports
inside functions too, since a lazy import is still a dependency."""

from __future__ import annotations

import ast
from pathlib import Path
from paths import ROOT

PACKAGES = ("mmweak", "lf_library", "recipes")
# who may import whom: a package never reaches a package listed after it
LAYERS = {"mmweak": 0, "lf_library": 1, "recipes": 2}


def modules(root: Path, packages=PACKAGES) -> dict[str, Path]:
    found = {}
    for pkg in packages:
        for path in (root / pkg).rglob("*.py"):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _targets(module: str, node: ast.AST, is_package: bool, known: dict) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        base = module.split(".")
        if not is_package:
            base.pop()
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    # `from pkg import sub` depends on the submodule when there is one, else on the package itself
    return [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in known else prefix for a in node.names]


def import_graph(root: Path, packages=PACKAGES) -> dict[str, set[str]]:
    known = modules(root, packages)
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _targets(name, node, path.name == "__init__.py", known):
                    while target and target not in known:  # `import a.b.c` depends on the nearest module we own
                        target = target.rpartition(".")[0]
                    if target and target != name:
                        deps.add(target)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def upward(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted((a, b) for a, deps in graph.items() for b in deps
                  if LAYERS[b.split(".")[0]] > LAYERS[a.split(".")[0]])


def test_engine_never_imports_the_library_or_recipes_and_nothing_is_circular():
    graph = import_graph(ROOT)
    # the walk sees real edges, lazy ones included (so an empty answer below means something)
    assert "mmweak.lf" in graph["mmweak.apply"]
    assert "lf_library.text" in graph["recipes.demo.text"]  # imported inside demo_lfs()
    assert "mmweak.labelmodels.base" in graph["mmweak.labelmodels.majority"]
    assert upward(graph) == []
    assert cycles(graph) == []


def test_the_checks_catch_an_upward_import_and_a_cycle(tmp_path):
    for pkg, files in {
        "mmweak": {"__init__.py": "", "a.py": "from .b import x\n", "b.py": "def f():\n    from . import a\n",
                   "c.py": "def g():\n    import lf_library.tool\n"},
        "lf_library": {"__init__.py": "", "tool.py": "from mmweak.a import y\n"},
        "recipes": {"__init__.py": ""},
    }.items():
        (tmp_path / pkg).mkdir()
        for name, text in files.items():
            (tmp_path / pkg / name).write_text(text)
    graph = import_graph(tmp_path)
    assert upward(graph) == [("mmweak.c", "lf_library.tool")]
    assert cycles(graph) == [["mmweak.a", "mmweak.b"]]
