"""The output layout and the manifest (``outputs``); test_layers checks who may import it."""

from __future__ import annotations

import json
from pathlib import Path

from planforge.outputs import Manifest, ProjectRecord, document_stem, portfolio_stem


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
