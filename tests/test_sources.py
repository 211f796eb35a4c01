"""sources: a project read from a git tree is the project read from the same files on disk, with
findings that name the file as committed, for two git processes per revision."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from planforge.errors import Finding, InvalidFilesError
from planforge.history import compare, plan_at, sources_at
from planforge.validate import load_project
from planforge.workspace import find_workspace

from .conftest import AS_OF
from .gitplans import Repo, changed, dump, git_calls, isolate_git, milestone, plan, update

pytestmark = pytest.mark.slow  # real git repositories and commits

TODAY = date(2020, 11, 20)  # the synthetic plans are of 2020


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate_git(monkeypatch, tmp_path)


def located(findings: list[Finding]) -> list[tuple[int | None, int | None, str, str, str]]:
    """Findings without the file's name, which differs between disk and git by design."""
    return [(f.line, f.column, f.path, f.severity, f.message) for f in findings]


def test_examples_read_from_git_equal_the_same_files_on_disk(examples: Path, home: Path) -> None:
    # Besides the examples' updates and retrospective: what neither side may read.
    (examples / "projects/acme-crm/updates/archive").mkdir()
    (examples / "projects/acme-crm/updates/archive/2026-W01.yaml").write_text("week: [\n")
    (examples / "projects/acme-crm/updates/README.md").write_text("one file a week\n")
    (examples / "projects/acme-crm/notes.yaml").write_text("not: a plan\n")
    repo = Repo(examples, home)
    repo.git("init", "-q", "-b", "main")
    repo.commit("The examples")
    ws = find_workspace(examples)

    sources = sources_at(ws, "HEAD")
    assert [s.project_id for s in sources] == ws.project_ids()
    for source in sources:
        from_git, git_warnings = load_project(ws, source, AS_OF)
        from_disk, disk_warnings = load_project(ws, source.project_id, AS_OF)
        assert from_git == from_disk
        assert located(git_warnings) == located(disk_warnings)
    assert plan_at(ws, "HEAD", AS_OF) == plan_at(ws, None, AS_OF)
    northwind = next(s for s in sources if s.project_id == "northwind-pipeline-revamp")
    assert load_project(ws, northwind, AS_OF)[0].retrospective is not None


def test_findings_of_files_read_from_git_name_the_commit_file_and_line(
    tmp_path: Path, home: Path
) -> None:
    repo = Repo.create(tmp_path / "repo", home, workspace="plans")
    repo.write_project("demo", plan())
    bad = update("2020-W20", health="purple")
    repo.write_update("demo", bad)
    repo.write("projects/demo/updates/week-21.yaml", dump(update("2020-W21")))
    head = repo.commit("A bad update")
    ws = find_workspace(repo.ws)
    (demo,) = sources_at(ws, "HEAD")
    with pytest.raises(InvalidFilesError) as from_git:
        load_project(ws, demo, TODAY)
    with pytest.raises(InvalidFilesError) as from_disk:
        load_project(ws, "demo", TODAY)

    at = f"{head[:7]}:plans/projects/demo/updates"
    errors = [f for f in from_git.value.findings if f.severity == "error"]
    assert [(f.file, f.line, f.path) for f in errors] == [
        (f"{at}/2020-W20.yaml", 2, "health"),
        (f"{at}/week-21.yaml", None, ""),
    ]
    assert located(from_git.value.findings) == located(from_disk.value.findings)
    assert str(from_git.value).startswith(f"{at}/2020-W20.yaml:2:9: error: health: ")

    # What is read is the commit, not the working tree.
    repo.write_update("demo", update("2020-W20"))
    (repo.ws / "projects/demo/updates/week-21.yaml").unlink()
    load_project(ws, "demo", TODAY)
    with pytest.raises(InvalidFilesError):
        load_project(ws, sources_at(ws, head)[0], TODAY)


def test_one_tree_listing_and_one_batch_read_per_revision(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = Repo.create(tmp_path / "repo", home)
    for pid in ("alpha", "beta", "gamma"):
        repo.write_project(pid, plan())
        for week in ("2020-W45", "2020-W46", "2020-W47"):
            repo.write_update(pid, update(week))
    base = repo.commit("Three projects")
    for pid in ("alpha", "beta", "gamma"):
        data = changed(plan())
        milestone(data, "m-golive")["forecast"] = "2020-12-15"
        milestone(data, "m-golive")["reason"] = "Data migration rerun."
        repo.write_project(pid, data)
    repo.commit("All three slip")
    ws = find_workspace(repo.ws)

    calls = git_calls(monkeypatch)
    projects, errors = plan_at(ws, "HEAD", TODAY)
    assert sorted(projects) == ["alpha", "beta", "gamma"] and not errors
    assert calls.count("ls-tree") == 1 and calls.count("cat-file") == 1
    assert len(calls) == 4  # and finding the repository and the revision

    calls.clear()
    review = compare(ws, base, "HEAD", TODAY)
    assert {c.project_id for c in review.diff.changes} == {"alpha", "beta", "gamma"}
    assert calls.count("ls-tree") == 2 and calls.count("cat-file") == 2
