"""The package layering, checked on the source: no import cycle, and no package imports one above it.

An AST walk (no import side effects): every `import x` / `from x import y` between kgrec's own
modules, including those under `if TYPE_CHECKING:` and inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

from tests.conftest import REPO

PACKAGES = ("graph", "embeddings", "recommender", "evaluation", "api")
# What each package may import (besides itself), bottom up, as docs/architecture.md draws it.
ALLOWED = {
    "graph": set(),
    "embeddings": {"graph"},
    "recommender": {"graph", "embeddings"},
    "evaluation": {"graph", "embeddings", "recommender"},
    "api": {"graph", "embeddings", "recommender", "evaluation"},
}


def module_name(path: Path) -> str:
    """The installed name: the folder `graph/` is the package `kgrec.graph` (pyproject package-dir)."""
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    dotted = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    return dotted if parts[0] == "tests" else f"kgrec.{dotted}"


def package(module: str) -> str:
    return module.split(".")[1]


def imports(path: Path, modules: set[str]) -> set[str]:
    """kgrec modules `path` imports; `from pkg import name` counts as `pkg.name` when that is a module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in modules else node.module)
    return {name for name in found if name in modules}


def import_graph() -> nx.DiGraph:
    files = {
        module_name(p): p for pkg in PACKAGES if (REPO / pkg).is_dir() for p in (REPO / pkg).rglob("*.py")
    }
    graph = nx.DiGraph()
    graph.add_nodes_from(files)
    for name, path in files.items():
        graph.add_edges_from((name, target) for target in imports(path, set(files)) if target != name)
    return graph


def test_no_module_is_part_of_an_import_cycle() -> None:
    cycles = list(nx.simple_cycles(import_graph()))
    assert cycles == []


def test_no_package_imports_one_above_it() -> None:
    wrong = [
        (a, b)
        for a, b in import_graph().edges
        if package(a) != package(b) and package(b) not in ALLOWED[package(a)]
    ]
    assert wrong == []


def test_no_module_imports_its_own_package() -> None:
    """A package's __init__ may name its modules; a module importing its own package is a hidden cycle."""
    graph = import_graph()
    parents = [(a, b) for a, b in graph.edges if a.startswith(b + ".")]
    assert parents == []


def test_every_import_of_our_packages_names_a_module_that_exists() -> None:
    """mypy (ignore_missing_imports) would not notice a module moved away from under an import; a
    bare `graph.x` (which works in a checkout only, never installed) counts as missing too."""
    files = {module_name(p): p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")}
    files |= {module_name(p): p for p in (REPO / "tests").glob("*.py")} | {"tests": REPO / "tests"}
    missing = []
    for name, path in files.items():
        if path.is_dir():
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = (
                [node.module]
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            missing += [
                (name, t)
                for t in targets
                if (t.split(".")[0] == "tests" or t.startswith("kgrec.") or t.split(".")[0] in PACKAGES)
                and t not in files
            ]
    assert missing == []
