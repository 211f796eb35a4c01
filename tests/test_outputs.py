"""The output layout and the manifest (``outputs``); test_layers checks who may import it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from pytest import MonkeyPatch

from planforge.errors import WorkspaceError
from planforge.outputs import (
    Manifest,
    ProjectRecord,
    document_stem,
    portfolio_stem,
    write_atomic,
)


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


def test_a_folder_another_worker_makes_meanwhile_is_written_into(tmp_path: Path,
                                                                 monkeypatch: MonkeyPatch) -> None:
    """Two workers of a build write sales people's calendars into output/calendars at once:
    the one whose mkdir comes second finds the folder there, checks it, and writes."""
    real = os.mkdir

    def beaten(path: Any, *args: Any, **kwargs: Any) -> None:
        real(path)  # the other worker was first
        raise FileExistsError(path)

    monkeypatch.setattr(os, "mkdir", beaten)
    write_atomic(tmp_path / "output" / "calendars" / "a.ics", b"BEGIN", inside=tmp_path)
    assert (tmp_path / "output" / "calendars" / "a.ics").read_bytes() == b"BEGIN"


def test_a_link_made_meanwhile_is_still_refused(tmp_path: Path, monkeypatch: MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def linked(path: Any, *args: Any, **kwargs: Any) -> None:
        os.symlink(elsewhere, path)
        raise FileExistsError(path)

    monkeypatch.setattr(os, "mkdir", linked)
    with pytest.raises(WorkspaceError, match="symbolic link"):
        write_atomic(tmp_path / "output" / "a.ics", b"BEGIN", inside=tmp_path)
    assert not any(elsewhere.iterdir())
