"""The package's import graph: each module imports only modules of its own layer or below, and
each heavy dependency is imported by exactly one module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "planforge"

#: Lowest first. A module may import its own layer and the layers below it, never above.
LAYERS: list[tuple[str, set[str]]] = [
    ("base", {"__init__", "errors", "dates", "files", "limits", "yamlio", "usercache",
              "forkserver", "preload", "environ"}),
    ("loading", {"schema", "sources"}),
    ("model", {"model"}),
    ("rules", {"workspace", "validate", "facts", "changes", "baselines", "i18n", "audience",
               "outputs", "ledger", "sendpolicy", "members", "dashboard", "loadcache"}),
    ("documents", {"charts", "render", "fonts", "pdf", "documents", "calendars"}),
    ("time", {"history", "timeline"}),
    ("workflows", {"build", "mail", "diffreport", "scaffold", "closing", "doctor", "feeds",
                   "notify", "export", "merge"}),
    ("edge", {"cli", "__main__"}),
]
LAYER = {module: rank for rank, (_, modules) in enumerate(LAYERS) for module in modules}

#: Workflows that must not lean on each other: the caller passes what one needs of the other.
FORBIDDEN = {("mail", "build")}

#: Each heavy or edge dependency has one home, so that ``--help`` and ``validate`` stay light.
HOMES = {"click": "cli", "jinja2": "render", "weasyprint": "pdf", "babel": "i18n",
         "icalendar": "calendars"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        # A subpackage (documents/…) belongs to the layer of its top-level name.
        found[".".join(parts)] = path
    return found


def _top(name: str) -> str:
    return name.split(".")[0]


def _imports(name: str, path: Path) -> set[str]:
    """Every module this file imports, at the top or inside a function, as dotted names
    (``planforge.`` prefix kept for the package's own modules)."""
    package = ["planforge", *name.split(".")[:-1]]
    if path.name == "__init__.py":
        package = ["planforge", *name.split(".")[:-1]]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
                if not node.module:  # from . import charts
                    found.update(f"{base}.{alias.name}" for alias in node.names)
                    continue
            found.add(base)
    return found


def _own(imported: str) -> str | None:
    parts = imported.split(".")
    return parts[1] if parts[0] == "planforge" and len(parts) > 1 else None


GRAPH = {name: _imports(name, path) for name, path in _modules().items()}


def test_every_module_has_a_layer() -> None:
    unplaced = sorted({_top(name) for name in GRAPH} - LAYER.keys())
    assert unplaced == [], "give these modules a layer in LAYERS"


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_imports_flow_down(name: str) -> None:
    rank = LAYER[_top(name)]
    upward = []
    for imported in sorted(GRAPH[name]):
        target = _own(imported)
        if target is None or target not in LAYER:
            continue
        if LAYER[target] > rank or (_top(name), target) in FORBIDDEN:
            upward.append(f"{name} imports {target} ({LAYERS[LAYER[target]][0]})")
    assert upward == []


def test_heavy_dependencies_have_one_home() -> None:
    strays = sorted(
        f"{name} imports {dep}"
        for name, imported in GRAPH.items()
        for dep, home in HOMES.items()
        if _top(name) != home and any(i == dep or i.startswith(f"{dep}.") for i in imported)
    )
    assert strays == []
