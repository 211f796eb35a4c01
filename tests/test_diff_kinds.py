"""The plan-wide changes of a real repository with dated commits, as ``diff`` shows them in
Markdown and JSON and as the brief's "since last week" tells them in English and Chinese."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from planforge.documents import render_document
from planforge.history import changes_since_last_week
from planforge.validate import load_project
from planforge.workspace import find_workspace

from .conftest import RunCli
from .gitplans import Repo, changed, isolate_git, item, milestone, plan

pytestmark = pytest.mark.slow  # real git repositories and commits

AS_OF = date(2020, 3, 13)  # Friday of 2020-W11


def kickoff(locale: str = "en") -> dict[str, Any]:
    data = plan(budget={"currency": "EUR", "planned": 180000}, communication={"coordinator": "pm"},
                locale=locale)
    data["phases"][0]["tasks"] = [{"id": "t-specs", "name": "Write the specs", "owner": "pm",
                                   "end": "2020-02-14"}]
    return data


def closing(data: dict[str, Any]) -> dict[str, Any]:
    """Every project-wide kind of change at once."""
    new = changed(data)
    new.update(status="done", end="2021-01-15", budget={"currency": "EUR", "planned": 192000})
    new["communication"]["coordinator"] = "ae"
    milestone(new, "m-demo")["owner"] = "ae"
    new["phases"][0]["milestones"] = [milestone(new, "m-demo")]  # m-internal removed
    new["phases"][1]["milestones"].append(
        {"id": "m-training", "name": "Training", "due": "2020-11-20", "customer_facing": True})
    new["goals"] = [item(new, "goals", "g-share"),
                    {"id": "g-nps", "title": "Happy users", "metric": "NPS", "target": 40,
                     "due": "2020-12-31", "owner": "pm"}]
    new["phases"][0]["tasks"] = [{"id": "t-train", "name": "Train the key users",
                                  "owner": "pm", "end": "2020-03-20"}]
    item(new, "risks", "r-data")["status"] = "occurred"
    return new


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    home = isolate_git(monkeypatch, tmp_path)
    repo = Repo.create(tmp_path / "plans", home)
    repo.write_project("demo", kickoff())
    repo.write_project("demo-zh", kickoff("zh-CN"))
    repo.commit("Kickoff", when="2020-03-03T10:00:00+01:00")  # W10
    repo.write_project("demo", closing(kickoff()))
    repo.write_project("demo-zh", closing(kickoff("zh-CN")))
    repo.commit("Close the project", when="2020-03-10T10:00:00+01:00")  # W11
    return repo


NEW_KINDS = ["project-status", "project-end-moved", "budget-changed", "milestone-added",
             "milestone-removed", "goal-added", "goal-removed", "risk-occurred",
             "coordinator-changed", "owner-changed", "task-added", "task-removed"]


def test_diff_markdown_shows_every_kind(repo: Repo, run_cli: RunCli) -> None:
    result = run_cli("diff", "HEAD~1", "HEAD", cwd=repo.ws)
    assert result.exit_code == 0, result.output
    md = result.stdout
    assert md.startswith("## Plan changes: 2 projects done, 2 project ends move later, "
                         "2 budgets changed, ")
    for row in [
        "| Status changed | the project | active | done |  |  |",
        "| **Project end moved** | the project | 2020-12-18 | 2021-01-15 | **28 days later** |  |",
        "| Budget changed | the project | 180,000 EUR | 192,000 EUR |  |  |",
        "| Milestone added | Training (`m-training`), customer-facing |  | 2020-11-20 |  |  |",
        "| Milestone removed | Internal test done (`m-internal`) | 2020-04-01 |  |  |  |",
        "| Goal added | Happy users (`g-nps`) |  | 40 |  |  |",
        "| Goal removed | Faster quotes (`g-quote`) | 30 minutes |  |  |  |",
        "| ⚠️ **Risk occurred** | Legacy data is poor (`r-data`) | open | occurred |  |",
        "| Coordinator changed | the project | Pat Manager | Alex Seller |  |  |",
        "| Owner changed | Demo to the customer (`m-demo`), customer-facing | Pat Manager | "
        "Alex Seller |  |  |",
        "| Task added | Train the key users (`t-train`) |  | 2020-03-20 |  |  |",
        "| Task removed | Write the specs (`t-specs`) | 2020-02-14 |  |  |  |",
    ]:
        assert row in md, md


def test_diff_json_carries_every_kind(repo: Repo, run_cli: RunCli) -> None:
    result = run_cli("diff", "HEAD~1", "HEAD", "--format", "json", cwd=repo.ws)
    assert result.exit_code == 0, result.output
    [demo, _zh] = json.loads(result.stdout)["projects"]
    changes = demo["changes"]
    assert [c["kind"] for c in changes] == [
        "project-status", "project-end-moved", "budget-changed", "milestone-added",
        "milestone-removed", "goal-added", "goal-removed", "risk-occurred", "coordinator-changed",
        "owner-changed", "task-added", "task-removed",
    ]
    budget = changes[2]
    assert (budget["old"], budget["new"], budget["unit"]) == (180000, 192000, "EUR")
    assert (changes[1]["old"], changes[1]["new"], changes[1]["days"]) == (
        "2020-12-18", "2021-01-15", 28)


def test_since_last_week_tells_every_kind(repo: Repo) -> None:
    ws = find_workspace(repo.ws)
    project = load_project(ws, "demo", AS_OF)[0]
    found = changes_since_last_week(ws, project, AS_OF)
    assert found is not None
    assert sorted(c.kind for c in found) == sorted(NEW_KINDS)
    md = render_document(ws, project, "brief", AS_OF, "md", found).decode()
    for line in [
        "Project status changed from Active to Done",
        "Project end moved from 18 Dec 2020 to 15 Jan 2021 (+28 days)",
        "Budget changed from €180,000 to €192,000",
        "New milestone: “Training”, due 20 Nov 2020",
        "Milestone removed: “Internal test done” (was due 1 Apr 2020)",
        "New goal: “Happy users”, target 40",
        "Goal removed: “Faster quotes”",
        "Risk occurred: “Legacy data is poor”",
        "Coordinator changed from Pat Manager to Alex Seller",
        "“Demo to the customer” handed over from Pat Manager to Alex Seller",
        "New task: “Train the key users”, ends 20 Mar 2020",
        "Task removed: “Write the specs”",
    ]:
        assert line in md


def test_since_last_week_in_chinese(repo: Repo) -> None:
    ws = find_workspace(repo.ws)
    project = load_project(ws, "demo-zh", AS_OF)[0]
    found = changes_since_last_week(ws, project, AS_OF)
    assert found is not None
    md = render_document(ws, project, "brief", AS_OF, "md", found).decode()
    assert "项目状态由“进行中”变更为“已完成”" in md
    assert "预算由 €180,000 调整为 €192,000" in md
    assert "风险已发生：“Legacy data is poor”" in md
    assert "协调人由 Pat Manager 变更为 Alex Seller" in md
