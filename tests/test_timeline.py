"""The plan as of a date: documents of past weeks are made from the plan committed then, in a
throwaway repository whose commits carry the dates of a project's life."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from planforge import mail
from planforge.model import Project
from planforge.timeline import plan_as_of
from planforge.workspace import find_workspace

from .conftest import RunCli
from .gitplans import Repo, changed, isolate_git, milestone, plan, update
from .test_mail import tiny_pdf

pytestmark = pytest.mark.slow  # real git repositories and commits

# Europe/Berlin: UTC+1 until 29 March 2020, UTC+2 after.
KICKOFF = "2020-03-02T10:00:00+01:00"  # Monday of W10
W10_UPDATE = "2020-03-06T17:00:00+01:00"  # Friday of W10
W11_LATE = "2020-03-16T09:00:00+01:00"  # Monday of W12: W11's update, and a slip
W12_EDIT = "2020-03-17T11:00:00+01:00"
SECOND_STARTS = "2020-03-25T10:00:00+01:00"  # W13
W14_UPDATES = "2020-04-03T16:00:00+02:00"  # Friday of W14
CLOSED = "2020-05-20T10:00:00+02:00"

ALEX = {"name": "Alex Seller", "role": "Account executive", "team": "sales",
        "email": "alex@example.com"}
SAM = {"name": "Sam Seller", "role": "Account executive", "team": "sales",
       "email": "sam@example.com"}
SLIPPED = "2020-12-15"


def demo() -> dict[str, Any]:
    data = plan()
    data["people"]["ae"] = ALEX
    return data


def second() -> dict[str, Any]:
    data = plan(name="Second rollout", customer="Second AG", start="2020-03-23")
    data["people"]["ae"] = ALEX
    data["people"]["sam"] = SAM
    data["phases"][0]["start"] = "2020-03-23"
    return data


@pytest.fixture
def life(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """Kickoff, weekly updates, W11's update committed the Monday after with a slip, a second
    project from W13, then both closed: demo done, the second one's folder removed."""
    home = isolate_git(monkeypatch, tmp_path)
    repo = Repo.create(tmp_path / "repo", home)
    (repo.ws / "planforge.yaml").write_text(
        'timezone: Europe/Berlin\nemail:\n  from: "PMO <pmo@example.com>"\n', "utf-8")
    repo.write_project("demo", demo())
    repo.commit("Kickoff", when=KICKOFF)
    repo.write_update("demo", update("2020-W10", summary="Kickoff held."))
    repo.commit("W10 update", when=W10_UPDATE)
    repo.write_update("demo", update("2020-W11", "amber", "Data migration behind."))
    slipped = changed(demo())
    milestone(slipped, "m-golive").update(forecast=SLIPPED, reason="Migration rerun.")
    repo.write_project("demo", slipped)
    repo.commit("W11 update (late), go-live slips", when=W11_LATE)
    return repo


def later_life(repo: Repo) -> None:
    """Everything after the late update."""
    slipped = changed(demo())
    milestone(slipped, "m-golive").update(forecast=SLIPPED, reason="Migration rerun.")
    renamed = changed(slipped)
    renamed["name"] = "Demo rollout, phase one"
    repo.write_project("demo", renamed)
    repo.commit("Rename", when=W12_EDIT)
    repo.write_project("second", second())
    repo.commit("Second project starts", when=SECOND_STARTS)
    repo.write_update("demo", update("2020-W14", summary="Demo W14."))
    repo.write_update("second", update("2020-W14", summary="Second W14."))
    repo.commit("W14 updates", when=W14_UPDATES)
    renamed["status"] = "done"
    for phase in renamed["phases"]:
        for m in phase["milestones"]:
            m["done"] = m["due"]
    repo.write_project("demo", renamed)
    shutil.rmtree(repo.ws / "projects" / "second")
    repo.commit("Both closed", when=CLOSED)


def render(run_cli: RunCli, repo: Repo, *args: str) -> tuple[str, str]:
    result = run_cli("render", *args, cwd=repo.ws)
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def test_a_past_week_shows_the_plan_of_then_with_its_late_update(
    life: Repo, run_cli: RunCli
) -> None:
    brief, notes = render(run_cli, life, "brief", "demo", "--week", "2020-W11")
    assert notes == ""
    assert "Data migration behind." in brief  # committed on the Monday after: still W11's
    assert "15 Dec 2020" not in brief  # the slip of the same Monday commit is not the plan then
    week10, _ = render(run_cli, life, "brief", "demo", "--week", "2020-W10")
    assert "Kickoff held." in week10 and "Data migration behind." not in week10


def test_an_uncommitted_late_update_is_named_and_not_used(life: Repo, run_cli: RunCli) -> None:
    life.write_update("demo", update("2020-W11", "red", "Not committed yet."))
    brief, notes = render(run_cli, life, "brief", "demo", "--week", "2020-W11")
    assert "Data migration behind." in brief and "Not committed yet." not in brief
    assert notes == ("note: updates/2020-W11.yaml of demo has changes not committed: a past "
                     "week is read from commits (commit them to use them)\n")


def test_a_past_week_renders_the_same_bytes_after_later_commits(
    life: Repo, run_cli: RunCli
) -> None:
    before = [render(run_cli, life, doc, "demo", "--week", "2020-W11", "--format", "html")[0]
              for doc in ("brief", "charter")]
    later_life(life)
    life.write("projects/demo/project.yaml", "name: [uncommitted, broken\n")
    after = [render(run_cli, life, doc, "demo", "--week", "2020-W11", "--format", "html")[0]
             for doc in ("brief", "charter")]
    assert after == before


def test_the_current_week_uses_the_working_tree(life: Repo, run_cli: RunCli) -> None:
    data = changed(demo())
    data["name"] = "Uncommitted name"
    life.write_project("demo", data)
    ws = find_workspace(life.ws)
    assert plan_as_of(ws, ws.today()).commit is None
    brief, notes = render(run_cli, life, "brief", "demo")
    assert brief.startswith("# Uncommitted name") and notes == ""


def test_membership_recipients_and_status_are_those_of_the_week(
    life: Repo, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    later_life(life)
    sent: list[tuple[str, tuple[str, ...]]] = []

    def fake(address: str, projects: Sequence[Project]) -> bytes:
        sent.append((address, tuple(p.id for p in projects)))
        return tiny_pdf()

    monkeypatch.setattr(mail, "_default_render", lambda *args: fake)
    for week in ("2020-W11", "2020-W14"):
        result = run_cli("send", "--week", week, "--dry-run", "--outbox",
                         str(life.path.parent / "outbox"), cwd=life.ws)
        assert result.exit_code == 0, result.output
    assert sorted(sent) == [("alex@example.com", ("demo",)),  # W11: before the second began
                            ("alex@example.com", ("demo", "second")),
                            ("sam@example.com", ("second",))]

    # Both projects have closed since (one removed): their portfolio of W14 is as it was.
    portfolio, _ = render(run_cli, life, "portfolio", "alex@example.com", "--week", "2020-W14")
    assert portfolio.startswith("# Portfolio brief — Alex Seller")
    assert "Second W14." in portfolio and "Demo W14." in portfolio
    missing = run_cli("render", "brief", "second", "--week", "2020-W11", cwd=life.ws)
    assert missing.exit_code == 1
    assert "no project 'second'" in missing.stderr and "at the end of 2020-W11" in missing.stderr


def test_build_of_a_past_week_matches_render_and_is_kept_after_later_commits(
    life: Repo, run_cli: RunCli
) -> None:
    built = run_cli("build", "--week", "2020-W11", "--formats", "md", "--jobs", "1",
                    cwd=life.ws)
    assert built.exit_code == 0, built.output
    brief = (life.ws / "output/demo/briefs/2020-W11.md").read_text("utf-8")
    assert brief == render(run_cli, life, "brief", "demo", "--week", "2020-W11")[0]
    later_life(life)  # the content of W11 is unchanged: nothing to build again
    again = run_cli("build", "--week", "2020-W11", "--formats", "md", "--jobs", "1",
                    cwd=life.ws)
    assert again.exit_code == 0, again.output
    assert "projects: 0 built, 1 unchanged" in again.stderr
    week14 = run_cli("build", "--week", "2020-W14", "--formats", "md", "--jobs", "1",
                     cwd=life.ws)
    assert week14.exit_code == 0, week14.output
    assert (life.ws / "output/second/briefs/2020-W14.md").is_file()  # removed since
    assert (life.ws / "output/portfolio/alex@example.com/2020-W14.md").is_file()


def test_outside_git_a_past_week_says_so_and_uses_the_working_tree(
    life: Repo, run_cli: RunCli, tmp_path: Path
) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(life.ws, plain, ignore=shutil.ignore_patterns(".git"))
    result = run_cli("render", "brief", "demo", "--week", "2020-W11", cwd=plain)
    assert result.exit_code == 0, result.output
    assert result.stderr == ("note: no git history at the end of 2020-W11 (not a git "
                             "repository): using the working tree\n")
    assert "15 Dec 2020" in result.stdout  # the slip, as the working tree has it


def test_before_the_first_commit_says_so(life: Repo) -> None:
    ws = find_workspace(life.ws)
    found = plan_as_of(ws, date(2020, 2, 28), "2020-W09")
    assert found.commit is None and found.notice == (
        "no git history at the end of 2020-W09 (the first commit is later): using the working "
        "tree")
    assert plan_as_of(ws, date(2020, 3, 2)).project_ids() == ["demo"]
