"""``planforge init`` and ``planforge close`` on real folders: what they write, what they keep."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml

from planforge.closing import mark_done
from planforge.validate import load_project
from planforge.workspace import find_workspace

from .conftest import RunCli
from .gitplans import dump, milestone, plan, update


def test_init_writes_a_workspace_that_validates(tmp_path: Path, run_cli: RunCli) -> None:
    result = run_cli("init", "--ci", "github", "--timezone", "Europe/Berlin", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "planforge.yaml").read_text("utf-8").startswith("# yaml-language-server")
    assert "timezone: Europe/Berlin" in (tmp_path / "planforge.yaml").read_text("utf-8")
    assert "output/" in (tmp_path / ".gitignore").read_text("utf-8").splitlines()
    assert "planforge validate" in (tmp_path / ".github/workflows/planforge.yml").read_text()
    assert (tmp_path / "schemas/project.schema.json").is_file()
    assert not (tmp_path / ".gitlab-ci.yml").exists()
    result = run_cli("new", "demo", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert run_cli("validate", cwd=tmp_path).exit_code == 0


def test_init_in_a_named_folder_with_the_gitlab_recipe(tmp_path: Path, run_cli: RunCli) -> None:
    result = run_cli("init", "plans", "--ci", "gitlab", "--locale", "zh-CN", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "locale: zh-CN" in (tmp_path / "plans/planforge.yaml").read_text("utf-8")
    assert 'GIT_DEPTH: "0"' in (tmp_path / "plans/.gitlab-ci.yml").read_text("utf-8")


def test_init_overwrites_nothing(tmp_path: Path, run_cli: RunCli) -> None:
    (tmp_path / ".gitignore").write_text("node_modules/\n", "utf-8")
    result = run_cli("init", cwd=tmp_path)
    assert result.exit_code == 1
    assert "this folder already has .gitignore; planforge init does not overwrite" in result.stderr
    assert (tmp_path / ".gitignore").read_text("utf-8") == "node_modules/\n"
    assert not (tmp_path / "planforge.yaml").exists()


def test_init_rejects_an_unknown_time_zone(tmp_path: Path, run_cli: RunCli) -> None:
    result = run_cli("init", "--timezone", "Mars/Base", cwd=tmp_path)
    assert result.exit_code == 1
    assert "--timezone Mars/Base: not a time zone name" in result.stderr


def test_mark_done_keeps_comments_and_layout() -> None:
    text = "name: X   # the name\nstatus: active   # planned | active\nstart: 2020-01-06\n"
    assert mark_done(text, date(2020, 12, 18)) == (
        "name: X   # the name\n# Closed on 2020-12-18 with planforge close.\n"
        "status: done   # planned | active\nstart: 2020-01-06\n"
    )
    assert mark_done("name: X\nstart: 2020-01-06\n", date(2020, 12, 18)) == (
        "name: X\n# Closed on 2020-12-18 with planforge close.\nstatus: done\nstart: 2020-01-06\n"
    )


def workspace(tmp_path: Path) -> Path:
    (tmp_path / "planforge.yaml").write_text("timezone: Europe/Berlin\n", "utf-8")
    data = plan(communication={"coordinator": "pm"})
    milestone(data, "m-demo")["done"] = "2020-03-02"
    milestone(data, "m-internal")["done"] = "2020-04-03"
    data["risks"][0]["status"] = "occurred"
    folder = tmp_path / "projects/demo"
    (folder / "updates").mkdir(parents=True)
    text = "# The demo plan.\n" + dump(data).replace("status: active",
                                                      "status: active  # until go-live")
    (folder / "project.yaml").write_text(text, "utf-8")
    week = update("2020-W50") | {"actuals": {"g-quote": 32}}
    (folder / "updates/2020-W50.yaml").write_text(dump(week), "utf-8")
    return tmp_path


def test_close_sets_done_and_writes_a_prefilled_retrospective(tmp_path: Path,
                                                              run_cli: RunCli) -> None:
    root = workspace(tmp_path)
    result = run_cli("close", "demo", "--as-of", "2020-12-18", cwd=root)
    assert result.exit_code == 0, result.output
    text = (root / "projects/demo/project.yaml").read_text("utf-8")
    assert text.startswith("# The demo plan.\n")
    assert "# Closed on 2020-12-18 with planforge close.\nstatus: done  # until go-live\n" in text
    assert "end: '2020-12-18'" in text or "end: 2020-12-18" in text  # the promise stays
    retro = yaml.safe_load((root / "projects/demo/retrospective.yaml").read_text("utf-8"))
    assert retro["facilitator"] == "pm"
    assert retro["went_well"] == ["Milestone “Demo to the customer” done on time (2020-03-02)"]
    assert retro["to_improve"] == [
        "Milestone “Internal test done” done 2 days late (due 2020-04-01, done 2020-04-03)",
        "Milestone “Go-live” not done (due 2020-12-01)",
        "Risk “Legacy data is poor” occurred: what would have caught it earlier?",
    ]
    assert retro["lessons"][0] == ("Goal “Faster quotes”: target 30 minutes by 2020-12-31, "
                                   "last reported 32 minutes")
    ws = find_workspace(root)
    project, _ = load_project(ws, "demo", date(2020, 12, 18))
    assert project.status == "done" and project.retrospective is not None
    # A second close changes nothing and says so.
    again = run_cli("close", "demo", "--as-of", "2020-12-19", cwd=root)
    assert again.exit_code == 0
    assert "already done" in again.stderr and "retrospective.yaml exists" in again.stderr
    assert (root / "projects/demo/project.yaml").read_text("utf-8") == text


def test_close_of_an_unknown_project_exits_1(tmp_path: Path, run_cli: RunCli) -> None:
    result = run_cli("close", "nope", cwd=workspace(tmp_path))
    assert result.exit_code == 1 and "no project 'nope'" in result.stderr
