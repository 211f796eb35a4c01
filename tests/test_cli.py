"""The command line as a user meets it: help, new, schema, errors and start-up cost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from planforge.cli import cli

from .conftest import REPO, RunCli


def _commands() -> list[str]:
    assert isinstance(cli, click.Group)
    return sorted(cli.commands)


def test_spec_commands_exist() -> None:
    assert {"validate", "new", "schema"} <= set(_commands())


@pytest.mark.parametrize("name", _commands())
def test_every_command_has_help_with_an_example(name: str, run_cli: RunCli) -> None:
    result = run_cli(name, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output, f"'{name} --help' shows no example"
    assert cli.commands[name].help, f"{name} has no help text"


@pytest.mark.parametrize("args", [["--help"], ["validate", "--workspace", str(REPO), "--as-of",
                                                "2026-11-20"]])
def test_help_and_validate_do_not_import_the_render_stack(args: list[str]) -> None:
    code = (
        "import sys\n"
        "from planforge.cli import main\n"
        f"sys.argv = ['planforge', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('jinja2', 'weasyprint', 'babel') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


def test_new_writes_a_project_that_validates(tmp_path: Path, run_cli: RunCli) -> None:
    result = run_cli("new", "acme-crm", "--customer", 'Acme: "Ltd" #1', "--locale", "zh-CN",
                     cwd=tmp_path)
    assert result.exit_code == 0, result.output
    plan = tmp_path / "projects" / "acme-crm" / "project.yaml"
    text = plan.read_text("utf-8")
    assert text.startswith("# yaml-language-server: $schema=../../schemas/project.schema.json\n")
    assert "locale: zh-CN" in text
    assert (tmp_path / "schemas" / "project.schema.json").is_file()
    updates = list((tmp_path / "projects" / "acme-crm" / "updates").iterdir())
    assert len(updates) == 1
    assert updates[0].read_text("utf-8").startswith(
        "# yaml-language-server: $schema=../../../schemas/update.schema.json\n")
    check = run_cli("validate", cwd=tmp_path)
    assert check.exit_code == 0, check.output
    # Strict, only the placeholder addresses stand out: they are there to be replaced.
    strict = run_cli("validate", "--strict", cwd=tmp_path)
    assert strict.stdout.count("error:") == strict.stdout.count("is a placeholder") == 2

    from planforge.validate import load_project
    from planforge.workspace import find_workspace

    ws = find_workspace(tmp_path)
    project, _ = load_project(ws, "acme-crm", ws.today())
    assert project.customer == 'Acme: "Ltd" #1'


def test_new_never_overwrites(tmp_path: Path, run_cli: RunCli) -> None:
    assert run_cli("new", "demo", cwd=tmp_path).exit_code == 0
    plan = tmp_path / "projects" / "demo" / "project.yaml"
    plan.write_text("name: mine\n", "utf-8")
    result = run_cli("new", "demo", cwd=tmp_path)
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert plan.read_text("utf-8") == "name: mine\n"


def test_new_refuses_a_bad_id(tmp_path: Path, run_cli: RunCli) -> None:
    result = run_cli("new", "../escape", cwd=tmp_path)
    assert result.exit_code == 1
    assert "is not a project id" in result.output
    assert not (tmp_path / "projects").exists() or not any((tmp_path / "projects").iterdir())


@pytest.mark.parametrize("name", ["project", "update", "retrospective", "workspace"])
def test_schema_prints_the_shipped_schema(name: str, run_cli: RunCli) -> None:
    result = run_cli("schema", name)
    assert result.exit_code == 0
    assert json.loads(result.output) == json.loads(
        (REPO / "schemas" / f"{name}.schema.json").read_text("utf-8"))


def test_workspace_found_by_walking_up(examples: Path, run_cli: RunCli) -> None:
    result = run_cli("validate", "--as-of", "2026-11-20", cwd=examples / "projects" / "acme-crm")
    assert result.exit_code == 0, result.output
    assert "files checked" in result.output


def test_broken_workspace_config_is_a_message_not_a_traceback(tmp_path: Path,
                                                              run_cli: RunCli) -> None:
    (tmp_path / "planforge.yaml").write_text("timezone: Mars/Olympus\n", "utf-8")
    result = run_cli("validate", cwd=tmp_path)
    assert result.exit_code == 1
    assert "planforge.yaml:1:11: error: timezone: unknown time zone 'Mars/Olympus'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["validate", "build"])
def test_outside_a_workspace_is_an_error(command: str, tmp_path: Path, run_cli: RunCli) -> None:
    result = run_cli(command, cwd=tmp_path)
    assert result.exit_code == 1
    assert "no projects/ folder in" in result.output
    assert not (tmp_path / "output").exists()


def test_render_into_a_folder_is_a_usage_error(examples: Path, run_cli: RunCli) -> None:
    (examples / "out").mkdir()
    result = run_cli("render", "brief", "acme-crm", "--week", "2026-W47", "-o", "out",
                     cwd=examples)
    assert result.exit_code == 2
    assert "is a folder" in result.output
    assert sorted(p.name for p in examples.iterdir() if p.name.startswith(".")) == []
