"""What ``planforge diff`` reads: only the projects whose files differ between the two sides, and
each side's projects where that side's planforge.yaml puts them, in real repositories."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from planforge import history
from planforge.history import Review, compare
from planforge.workspace import find_workspace

from .gitplans import Repo, changed, dump, git_calls, isolate_git, milestone, plan, update

pytestmark = pytest.mark.slow  # real git repositories and commits

TODAY = date(2020, 11, 20)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """main holds twelve projects; a branch starts from it."""
    repo = Repo.create(tmp_path / "plans", isolate_git(monkeypatch, tmp_path))
    for n in range(12):
        repo.write_project(f"p{n:02d}", plan(name=f"Rollout {n}"))
        repo.write_update(f"p{n:02d}", update("2020-W20"))
    repo.commit("Plans at kickoff", when="2020-06-01T12:00:00+00:00")
    repo.git("checkout", "-q", "-b", "change")
    return repo


def loaded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the projects loaded (parsed and checked) from now on."""
    ids: list[str] = []
    load = history.load_project

    def spy(ws: Any, source: Any, as_of: date) -> Any:
        ids.append(source if isinstance(source, str) else source.project_id)
        return load(ws, source, as_of)

    monkeypatch.setattr(history, "load_project", spy)
    return ids


def summary(result: Review) -> list[tuple[str, str, str]]:
    return [(c.project_id, c.kind, c.subject_id) for c in result.diff.changes]


def slip(repo: Repo, pid: str, folder: str = "projects") -> None:
    data = changed(plan(name=f"Rollout {int(pid[1:])}"))
    milestone(data, "m-golive").update(forecast="2020-12-08", reason="Data migration rerun.")
    repo.write(f"{folder}/{pid}/project.yaml", dump(data))


@pytest.mark.parametrize("committed", [False, True], ids=["working-tree", "commit"])
def test_only_the_changed_projects_are_read(repo: Repo, committed: bool,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    slip(repo, "p03")
    repo.write_update("p07", update("2020-W21", health="amber", summary="Data is late."))
    # Settings that shape no diff (the health rules) leave every other project unread.
    repo.write("planforge.yaml", "timezone: Europe/Berlin\nhealth:\n  red_slip_days: 5\n")
    if committed:
        repo.commit("Go-live later, a new update", when="2020-06-02T12:00:00+00:00")
    ids, calls = loaded(monkeypatch), git_calls(monkeypatch)
    result = compare(find_workspace(repo.ws), "main", "HEAD" if committed else None, TODAY)
    assert summary(result) == [("p03", "milestone-moved", "m-golive"),
                               ("p07", "update-added", "2020-W21")]
    assert result.compared == 12
    assert sorted(ids) == ["p03", "p03", "p07", "p07"]  # each side of each changed project
    # The repository, the revisions, one listing of each side, one diff, one read of the files.
    assert calls.count("diff") == 1 and calls.count("cat-file") <= 3


def test_a_moved_projects_folder_is_read_where_each_side_keeps_it(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.git("mv", "projects", "plans")
    repo.write("planforge.yaml", "timezone: Europe/Berlin\npaths:\n  projects: plans\n")
    ws = find_workspace(repo.ws)
    moved = compare(ws, "main", None, TODAY)
    assert summary(moved) == [] and moved.edited == () and moved.compared == 12
    slip(repo, "p05", folder="plans")
    ids = loaded(monkeypatch)
    result = compare(ws, "main", None, TODAY)
    assert summary(result) == [("p05", "milestone-moved", "m-golive")]
    assert result.compared == 12 and sorted(ids) == ["p05", "p05"]
    repo.commit("Plans in their own folder; p05 later", when="2020-06-02T12:00:00+00:00")
    ids.clear()
    committed = compare(find_workspace(repo.ws), "main", "HEAD", TODAY)
    assert summary(committed) == [("p05", "milestone-moved", "m-golive")]
    assert sorted(ids) == ["p05", "p05"]
    # The other way round: the base keeps them in plans/, the head (main) in projects/.
    back = compare(find_workspace(repo.ws), "HEAD", "main", TODAY)
    assert [(pid, kind) for pid, kind, _ in summary(back)] == [("p05", "milestone-moved")]
