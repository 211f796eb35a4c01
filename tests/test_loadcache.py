"""The cache of loaded projects: a project loads from it only while its files, the date and
planforge (version, code, schemas) are what they were; anything else is validated again."""

from __future__ import annotations

import dataclasses
import pickle
import shutil
from datetime import date
from pathlib import Path

import pytest

import planforge
from planforge import loadcache
from planforge.errors import InvalidFilesError
from planforge.validate import load_project
from planforge.workspace import Workspace, find_workspace

from .conftest import RunCli

PROJECT = "globex-portal"
#: A day the example's globex project has warnings on (no update for the week before).
AS_OF = date(2026, 12, 4)


def _entries(root: Path) -> list[Path]:
    return sorted(root.glob("projects/*/*/*.pickle"))


def _poison(root: Path) -> None:
    """Replace every kept project by one named "from the cache": a load that returns it read
    the cache, one that does not validated the files again."""
    for entry in _entries(root):
        project, warnings = pickle.loads(entry.read_bytes())
        entry.write_bytes(pickle.dumps((dataclasses.replace(project, name="from the cache"),
                                        warnings)))


def _name(ws: Workspace, as_of: date = AS_OF) -> str:
    project, _ = load_project(ws, PROJECT, as_of)
    return project.name


@pytest.fixture
def kept(examples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """The example workspace with globex loaded once, and its kept entry poisoned."""
    monkeypatch.setenv("PLANFORGE_CACHE", str(tmp_path / "cache"))
    ws = find_workspace(examples)
    fresh, warnings = load_project(ws, PROJECT, AS_OF)
    assert warnings, "the example has warnings: they must come back from the cache too"
    assert len(_entries(tmp_path / "cache")) == 1
    assert load_project(ws, PROJECT, AS_OF) == (fresh, warnings)
    _poison(tmp_path / "cache")
    assert _name(ws) == "from the cache"
    return ws


def test_a_changed_file_is_validated_again(kept: Workspace) -> None:
    update = kept.projects_dir / PROJECT / "updates" / "2026-W47.yaml"
    update.write_text(update.read_text("utf-8") + "\n", "utf-8")
    assert _name(kept) != "from the cache"
    update.write_text(update.read_text("utf-8") + "health: purple\n", "utf-8")
    with pytest.raises(InvalidFilesError) as raised:
        load_project(kept, PROJECT, AS_OF)
    assert any("purple" in f.message for f in raised.value.findings)


def test_a_new_file_is_validated_again(kept: Workspace) -> None:
    (kept.projects_dir / PROJECT / "updates" / "2026-W48.yaml").write_text("week: [", "utf-8")
    with pytest.raises(InvalidFilesError):
        load_project(kept, PROJECT, AS_OF)


def test_another_planforge_version_validates_again(kept: Workspace,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    loadcache.planforge_stamp.cache_clear()
    monkeypatch.setattr(planforge, "__version__", "99.0.0")
    try:
        assert _name(kept) != "from the cache"
    finally:
        loadcache.planforge_stamp.cache_clear()


def test_a_changed_schema_or_module_changes_the_stamp(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    package, schemas = tmp_path / "planforge", tmp_path / "schemas"
    shutil.copytree(loadcache.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(Path(str(loadcache.schema_folder())), schemas)
    monkeypatch.setattr(loadcache, "PACKAGE", package)
    monkeypatch.setattr(loadcache, "schema_folder", lambda: schemas)
    stamps = []
    for change in (None, schemas / "update.schema.json", package / "validate.py"):
        if change is not None:
            path = change
            path.write_bytes(path.read_bytes() + b"\n")
        loadcache.planforge_stamp.cache_clear()
        stamps.append(loadcache.planforge_stamp())
    loadcache.planforge_stamp.cache_clear()
    assert len(set(stamps)) == 3


def test_another_day_or_date_validates_again(kept: Workspace) -> None:
    assert _name(kept, date(2026, 11, 27)) != "from the cache"


def test_entries_of_another_day_are_removed(kept: Workspace, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    before = _entries(tmp_path / "cache")
    monkeypatch.setattr(Workspace, "today", lambda self: date(2030, 1, 4))
    assert _name(kept) != "from the cache"
    after = _entries(tmp_path / "cache")
    assert len(after) == 1 and after[0].parent.name == "2030-01-04"
    assert not before[0].exists()


def test_the_cache_can_be_turned_off(kept: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANFORGE_CACHE", "off")
    assert _name(kept) != "from the cache"


def test_validate_never_reads_the_cache(kept: Workspace, run_cli: RunCli) -> None:
    plan = kept.projects_dir / PROJECT / "project.yaml"
    plan.write_text(plan.read_text("utf-8").replace("name:", "nmae:", 1), "utf-8")
    result = run_cli("validate", "--as-of", AS_OF.isoformat(), cwd=kept.root)
    assert result.exit_code == 1
    assert "nmae" in result.output


def test_a_damaged_entry_is_no_entry(kept: Workspace, tmp_path: Path) -> None:
    for entry in _entries(tmp_path / "cache"):
        entry.write_bytes(entry.read_bytes()[:40])
    assert _name(kept) != "from the cache"


def test_a_build_finds_a_changed_file_through_its_inputs(examples: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         run_cli: RunCli) -> None:
    """A build looks kept projects up by its inputs' hash: a second build of the day loads from
    the cache, and an edited file is validated again, as an error in the build's report."""
    monkeypatch.setenv("PLANFORGE_CACHE", str(tmp_path / "cache"))
    build = ("build", "--formats", "md", "--as-of", AS_OF.isoformat())
    assert run_cli(*build, cwd=examples).exit_code == 0
    kept = len(_entries(tmp_path / "cache"))
    assert kept >= 4  # every example project, kept under the build's inputs
    _poison(tmp_path / "cache")
    assert run_cli(*build, "--force", cwd=examples).exit_code == 0
    charter = examples / "output" / PROJECT / "charter.md"
    assert charter.read_text("utf-8").startswith("# from the cache")
    update = examples / "projects" / PROJECT / "updates" / "2026-W47.yaml"
    update.write_text(update.read_text("utf-8") + "health: purple\n", "utf-8")
    result = run_cli(*build, cwd=examples)
    assert result.exit_code == 1
    assert "purple" in result.output
