"""``planforge new`` with its options, in both languages: the files written on disk validate
(warnings only for the placeholders left), pass the JSON Schemas alone, keep hostile option
values as text, and a wrong option is a one-line message with exit 1."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from planforge.yamlio import load_text

from .conftest import REPO, RunCli

TODAY = date(2026, 9, 9)  # a Wednesday in ISO week 2026-W37


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("planforge.workspace.today_in", lambda zone: TODAY)


def _workspace(root: Path, run_cli: RunCli, *init: str) -> Path:
    result = run_cli("init", str(root), *init)
    assert result.exit_code == 0, result.output
    return root


def _load(path: Path) -> Any:
    doc, findings = load_text(path.read_text("utf-8"), str(path))
    assert doc is not None, findings
    return doc.data


def _schema_errors(path: Path, name: str) -> list[str]:
    schema = json.loads((REPO / "schemas" / f"{name}.schema.json").read_text("utf-8"))
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(_load(path))]


def _findings(run_cli: RunCli, root: Path) -> list[str]:
    result = run_cli("validate", "--format", "json", cwd=root)
    return [f"{f['file']}: {f['severity']}: {f['message']}" for f in json.loads(result.stdout)]


HOSTILE = {
    "name": 'Phase 2: "go-live" # rush & {braces} [x], *star, !tag, %pct, @at, `tick`',
    "customer": "- Acme: Ltd. #1 ' \\ |",
    "coordinator": '"Martin, Alice: PM #1" <alice.martin@example.com>',
    "sales": "Bob 'B' Lee # sales <bob+brief@example.com>",
}


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_every_option_lands_in_a_plan_that_validates(locale: str, tmp_path: Path,
                                                     run_cli: RunCli) -> None:
    root = _workspace(tmp_path / "ws", run_cli, "--locale", locale, "--currency", "USD")
    result = run_cli("new", "acme", "--name", HOSTILE["name"], "--customer", HOSTILE["customer"],
                     "--start", "2026-09-07", "--end", "2026-12-18",
                     "--coordinator", HOSTILE["coordinator"], "--sales", HOSTILE["sales"],
                     cwd=root)
    assert result.exit_code == 0, result.output
    folder = root / "projects" / "acme"
    plan = _load(folder / "project.yaml")
    assert plan["name"] == HOSTILE["name"]
    assert plan["customer"] == HOSTILE["customer"]
    assert (plan["start"], plan["end"]) == ("2026-09-07", "2026-12-18")
    assert plan["locale"] == locale and plan["status"] == "active"
    assert plan["budget"]["currency"] == "USD"  # the workspace's, in either language
    pm, ae = plan["people"]["pm"], plan["people"]["ae"]
    assert (pm["name"], pm["email"]) == ("Martin, Alice: PM #1", "alice.martin@example.com")
    assert (ae["name"], ae["email"]) == ("Bob 'B' Lee # sales", "bob+brief@example.com")
    assert plan["communication"]["coordinator"] == "pm"
    update = folder / "updates" / "2026-W37.yaml"
    assert _load(update)["week"] == "2026-W37"
    # Every address is real: nothing is left to warn about, not even with --strict.
    strict = run_cli("validate", "--strict", cwd=root)
    assert strict.exit_code == 0, strict.output
    assert _schema_errors(folder / "project.yaml", "project") == []
    assert _schema_errors(update, "update") == []
    assert _schema_errors(root / "planforge.yaml", "workspace") == []


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_placeholders_are_the_only_warnings(locale: str, tmp_path: Path,
                                            run_cli: RunCli) -> None:
    root = _workspace(tmp_path, run_cli, "--locale", locale)
    assert run_cli("new", "demo", cwd=root).exit_code == 0
    note = "is a placeholder: replace it with the real address (nothing is sent to it until then)"
    assert _findings(run_cli, root) == [
        f"projects/demo/project.yaml: warning: pm@example.invalid {note}",
        f"projects/demo/project.yaml: warning: ae@example.invalid {note}",
    ]
    folder = root / "projects" / "demo"
    assert _schema_errors(folder / "project.yaml", "project") == []
    assert _schema_errors(folder / "updates" / "2026-W37.yaml", "update") == []
    # The address given replaces its placeholder, and only its warning goes.
    assert run_cli("new", "demo2", "--sales", "li.na@example.cn", cwd=root).exit_code == 0
    assert [m for m in _findings(run_cli, root) if m.startswith("projects/demo2/")] == [
        f"projects/demo2/project.yaml: warning: pm@example.invalid {note}"]


def test_a_chinese_skeleton_is_chinese_with_the_workspace_currency(tmp_path: Path,
                                                                   run_cli: RunCli) -> None:
    root = _workspace(tmp_path, run_cli)  # an English workspace in euros
    (root / "planforge.yaml").write_text(
        (root / "planforge.yaml").read_text("utf-8").replace("currency: EUR", "currency: CNY"),
        "utf-8")
    assert run_cli("new", "xinghe", "--locale", "zh-CN", cwd=root).exit_code == 0
    text = (root / "projects" / "xinghe" / "project.yaml").read_text("utf-8")
    plan = _load(root / "projects" / "xinghe" / "project.yaml")
    assert plan["locale"] == "zh-CN" and plan["budget"]["currency"] == "CNY"
    assert plan["people"]["pm"]["name"] == "项目经理"
    assert plan["phases"][0]["milestones"][0]["name"] == "项目启动会召开"
    # Comments and every text a reader sees are Chinese; keys and enum values stay English.
    comments = [line.split("#", 1)[1] for line in text.splitlines()[1:] if "#" in line]
    assert comments and all(re.search(r"[\u4e00-\u9fff]", c) for c in comments[:3])
    assert not re.search(r"\b(What|Customer|Delivery|Kickoff)\b", text)
    update = next((root / "projects" / "xinghe" / "updates").iterdir()).read_text("utf-8")
    assert "本周完成的工作" in update and "What was finished" not in update
    # The English default is unchanged: English texts, the workspace's euros.
    assert run_cli("new", "acme", cwd=root).exit_code == 0
    english = _load(root / "projects" / "acme" / "project.yaml")
    assert english["people"]["pm"]["name"] == "Project Manager"
    assert english["budget"]["currency"] == "CNY"


def test_without_a_currency_setting_the_locale_decides(tmp_path: Path, run_cli: RunCli) -> None:
    (tmp_path / "projects").mkdir()  # a workspace without planforge.yaml
    assert run_cli("new", "a", "--locale", "zh-CN", cwd=tmp_path).exit_code == 0
    assert run_cli("new", "b", cwd=tmp_path).exit_code == 0
    assert _load(tmp_path / "projects" / "a" / "project.yaml")["budget"]["currency"] == "CNY"
    assert _load(tmp_path / "projects" / "b" / "project.yaml")["budget"]["currency"] == "EUR"


def test_a_project_starting_later_is_planned_with_its_first_week(tmp_path: Path,
                                                                 run_cli: RunCli) -> None:
    root = _workspace(tmp_path, run_cli)
    result = run_cli("new", "later", "--start", "2027-01-04", "--coordinator", "Ann <a@x.org>",
                     "--sales", "Ben <b@x.org>", cwd=root)
    assert result.exit_code == 0, result.output
    plan = _load(root / "projects" / "later" / "project.yaml")
    assert plan["status"] == "planned"
    assert plan["end"] == "2027-04-02"  # twelve weeks after the start, a Friday
    assert (root / "projects" / "later" / "updates" / "2027-W01.yaml").is_file()
    assert run_cli("validate", "--strict", cwd=root).exit_code == 0


def test_a_short_project_keeps_every_date_inside_it(tmp_path: Path, run_cli: RunCli) -> None:
    root = _workspace(tmp_path, run_cli)
    result = run_cli("new", "sprint", "--start", "2026-09-10", "--end", "2026-09-11",
                     "--coordinator", "Ann <a@x.org>", "--sales", "Ben <b@x.org>", cwd=root)
    assert result.exit_code == 0, result.output
    strict = run_cli("validate", "--strict", cwd=root)
    assert strict.exit_code == 0, strict.output


@pytest.mark.parametrize(("args", "message"), [
    (["--start", "2026-02-30"], "--start 2026-02-30: no such day"),
    (["--start", "1.2.2026"], "--start '1.2.2026': write the date as YYYY-MM-DD"),
    (["--end", "2026-13-01"], "--end 2026-13-01: no such day"),
    (["--start", "1850-01-01"], "--start 1850-01-01 is outside the years planforge handles"),
    (["--start", "2026-10-01", "--end", "2026-09-30"],
     "--end 2026-09-30 is not after --start 2026-10-01"),
    (["--end", "2026-09-01"], "is not after the start (2026-09-07, this week's Monday; give "
                              "--start)"),
    (["--start", "2026-09-07", "--end", "2026-09-07"], "is not after --start 2026-09-07"),
    (["--coordinator", "Alice <not an address>"], "'not an address' is not an email address"),
    (["--sales", "Bob <bob@example.com"], "write \"Name <name@example.com>\""),
    (["--sales", "x@"], "'x@' is not an email address"),
    (["--name", "   "], "--name: empty"),
    (["--customer", "Acme\nLtd"], "--customer: a line break or control character"),
    (["--name", "x" * 201], "--name: 201 characters, at most 200"),
])
def test_a_wrong_option_is_a_message(args: list[str], message: str, tmp_path: Path,
                                     run_cli: RunCli) -> None:
    root = _workspace(tmp_path, run_cli)
    result = run_cli("new", "demo", *args, cwd=root)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert list((root / "projects").iterdir()) == []  # nothing written, not even a half


def test_init_refuses_a_currency_that_is_no_code(tmp_path: Path, run_cli: RunCli) -> None:
    result = run_cli("init", str(tmp_path), "--currency", "euro")
    assert result.exit_code == 1
    assert "--currency euro: not an ISO 4217 code" in result.output
    assert not (tmp_path / "planforge.yaml").exists()


def test_the_workspace_currency_is_checked_by_validate(tmp_path: Path, run_cli: RunCli) -> None:
    (tmp_path / "projects").mkdir()
    (tmp_path / "planforge.yaml").write_text("currency: euro\n", "utf-8")
    result = run_cli("validate", cwd=tmp_path)
    assert result.exit_code == 1
    assert "planforge.yaml:1:" in result.output and "currency" in result.output
