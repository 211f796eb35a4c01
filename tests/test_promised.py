"""A customer date keeps its first promise: after a re-baseline the brief and the email show
"first promised → now", read from the plan's git history; a build reads that history with as
many git processes for many projects as for a few."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from planforge.build import BuildOptions, build_workspace
from planforge.mail import plan_messages
from planforge.workspace import find_workspace

from .conftest import RunCli
from .gitplans import Repo, changed, git_calls, isolate_git, milestone, plan, update

pytestmark = pytest.mark.slow  # real git repositories and commits

WEEK = "2020-W46"
FRIDAY = date(2020, 11, 13)
PROMISED = "first promised 1 Dec 2020 → now 15 Dec 2020, +14 days"


def _with_email(**overrides: Any) -> dict[str, Any]:
    data = plan(**overrides)
    data["people"]["ae"]["email"] = "alex@example.com"
    milestone(data, "m-demo")["done"] = "2020-03-02"  # go-live is the next customer date
    return data


def _lived(repo: Repo, pids: list[str], rebaseline: bool = True) -> None:
    """Kickoff in June, a weekly update each week, go-live re-baselined in October."""
    for pid in pids:
        repo.write_project(pid, _with_email())
    repo.commit("Kickoff", when="2020-06-01T10:00:00+02:00")
    for week, when in (("2020-W41", "2020-10-09T17:00:00+02:00"),
                       ("2020-W45", "2020-11-06T17:00:00+01:00"),
                       ("2020-W46", "2020-11-13T17:00:00+01:00")):
        for pid in pids:
            repo.write_update(pid, update(week))
            if rebaseline and week == "2020-W41":
                data = changed(_with_email())
                milestone(data, "m-golive")["due"] = "2020-12-15"
                repo.write_project(pid, data)
        repo.commit(f"{week} update", when=when)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate_git(monkeypatch, tmp_path)


def test_a_rebaselined_customer_date_shows_its_first_promise(
    tmp_path: Path, home: Path, run_cli: RunCli
) -> None:
    repo = Repo.create(tmp_path / "repo", home)
    _lived(repo, ["demo"])
    result = run_cli("build", "--week", WEEK, "--formats", "md", cwd=repo.ws)
    assert result.exit_code == 0, result.output
    brief = (repo.ws / "output/demo/briefs" / f"{WEEK}.md").read_text("utf-8")
    next_dates = brief.split("**Next customer-facing dates**")[1].split("##")[0]
    assert f"Go-live ({PROMISED})" in next_dates
    assert next_dates.count("first promised") == 1

    ws = find_workspace(repo.ws)
    [message] = plan_messages(ws, WEEK, FRIDAY, render=lambda *_: b"").messages
    assert ("Next customer-facing date: Go-live, first promised 1 Dec 2020 → now 15 Dec 2020 "
            "(+14 days)") in message.text


def test_a_date_never_moved_shows_no_first_promise(
    tmp_path: Path, home: Path, run_cli: RunCli
) -> None:
    repo = Repo.create(tmp_path / "repo", home)
    _lived(repo, ["demo"], rebaseline=False)
    assert run_cli("build", "--week", WEEK, "--formats", "md", cwd=repo.ws).exit_code == 0
    brief = (repo.ws / "output/demo/briefs" / f"{WEEK}.md").read_text("utf-8")
    assert "first promised" not in brief
    ws = find_workspace(repo.ws)
    [message] = plan_messages(ws, WEEK, FRIDAY, render=lambda *_: b"").messages
    assert "Next customer-facing date: 1 Dec 2020, Go-live" in message.text


def _git_processes(calls: list[str], root: Path, week: str, as_of: date) -> int:
    """The git processes one build of the workspace at ``root`` runs, in this process."""
    calls.clear()
    ws = find_workspace(root)
    report = build_workspace(ws, BuildOptions(as_of, week, formats=("md",), force=True))
    assert not report.failed, [r.error for r in report.failed]
    return len(calls)


@pytest.mark.parametrize(("week", "as_of"), [(WEEK, FRIDAY), ("2020-W47", date(2020, 11, 20))])
def test_the_git_processes_of_a_build_do_not_grow_with_its_projects(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch, week: str, as_of: date
) -> None:
    few, many = Repo.create(tmp_path / "few", home), Repo.create(tmp_path / "many", home)
    _lived(few, ["p-1", "p-2"])
    _lived(many, [f"p-{n}" for n in range(1, 9)])
    # A past week, and one read from the working tree as the current week is.
    monkeypatch.setattr("planforge.workspace.Workspace.today",
                        lambda self: date(2020, 11, 20))
    calls = git_calls(monkeypatch)
    assert (_git_processes(calls, few.ws, week, as_of)
            == _git_processes(calls, many.ws, week, as_of))
