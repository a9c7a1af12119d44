"""The package's shape: modules small, no import circle, the pure part free of effects."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "kraft_entrypoint"
#: Derivation only: no I/O, no environment, and no import of a module that does either.
PURE = (
    "options", "fields", "layout", "settings", "kafka_versions", "cluster_id", "topology", "security", "plan",
    "commands", "errors", "memory", "probe_verdict", "rack",
    "typos", "security_settings",
)
EFFECTS = (
    "cluster_id_store", "credentials", "properties", "files", "storage", "cds", "launch", "start", "cli",
    "cgroup", "probe", "node_zone", "decisions", "unknown_inputs",
)


def _imports(module: str) -> set[str]:
    """The package modules ``module`` imports (at any depth of its code)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse((PACKAGE / f"{module}.py").read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "kraft_entrypoint":
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kraft_entrypoint."):
            found.add((node.module or "").split(".")[1])
    return found - {module}


MODULES = sorted(path.stem for path in PACKAGE.glob("*.py"))


@pytest.mark.parametrize("module", MODULES)
def test_no_module_over_400_lines(module: str) -> None:
    """Every module of the package stays under 400 lines."""
    assert len((PACKAGE / f"{module}.py").read_text().splitlines()) <= 400


def test_no_import_circle() -> None:
    """Following the package's own imports from any module never leads back to it."""
    graph = {module: _imports(module) for module in MODULES}
    for start in MODULES:
        seen, todo = set(), list(graph[start])
        while todo:
            module = todo.pop()
            assert module != start, f"{start} imports itself through {sorted(seen)}"
            if module not in seen:
                seen.add(module)
                todo.extend(graph.get(module, ()))


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_stay_pure(module: str) -> None:
    """A pure module imports no effect module, never names os.environ and opens no file."""
    assert not _imports(module) & set(EFFECTS)
    text = (PACKAGE / f"{module}.py").read_text()
    assert "os.environ" not in text
    assert "open(" not in text
