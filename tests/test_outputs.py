"""The output layout and the manifest (``outputs``), and who may ask for them."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from planforge.outputs import Manifest, ProjectRecord, document_stem, portfolio_stem

SRC = Path(__file__).resolve().parents[1] / "src" / "planforge"


def _imports(module: str) -> set[str]:
    """Every planforge module a module imports, at the top or inside a function."""
    tree = ast.parse((SRC / f"{module}.py").read_text("utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module} if node.module else {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("planforge."):
            found.add((node.module or "").removeprefix("planforge."))
    return found


def test_mail_reads_built_outputs_without_importing_build() -> None:
    assert "build" not in _imports("mail")
    code = "import planforge.mail, sys; assert 'planforge.build' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_rules_import_no_higher_layer() -> None:
    higher = {"charts", "render", "pdf", "documents", "history", "build", "mail", "diffreport",
              "scaffold", "doctor", "cli"}
    assert _imports("audience") & higher == set()
    assert _imports("outputs") & higher == set()


def test_the_layout() -> None:
    assert document_stem("acme-crm", "charter", "2026-W47") == "acme-crm/charter"
    assert document_stem("acme-crm", "brief", "2026-W47") == "acme-crm/briefs/2026-W47"
    assert document_stem("acme-crm", "retro", "2026-W47") == "acme-crm/retrospective"
    assert portfolio_stem(" Jonas@Example.com", "2026-W47") == \
        "portfolio/jonas@example.com/2026-W47"


def test_a_damaged_manifest_entry_is_forgotten_not_trusted(tmp_path: Path) -> None:
    good = {"inputs": "a" * 64, "name": "Acme", "active": True, "recipients": ["j@example.com"],
            "stems": ["acme/charter"]}
    (tmp_path / "manifest.json").write_text(json.dumps({
        "files": {"acme/charter.md": {"inputs": "x", "size": "big"}},
        "projects": {"acme": good, "globex": {"name": "no inputs"}, "nw": []},
    }), "utf-8")
    manifest = Manifest.load(tmp_path)
    assert manifest.files == {}
    assert manifest.projects == {"acme": ProjectRecord(
        "a" * 64, name="Acme", active=True, recipients=("j@example.com",),
        stems=("acme/charter",))}
    (tmp_path / "manifest.json").write_text("[1, 2", "utf-8")
    assert Manifest.load(tmp_path) == Manifest()
