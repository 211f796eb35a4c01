"""The addresses ``planforge new`` writes are placeholders: flagged by validate, never sent to."""

from __future__ import annotations

from pathlib import Path

from planforge.audience import brief_recipients, is_placeholder, without_address
from planforge.validate import load_project
from planforge.workspace import find_workspace

from .conftest import RunCli

REPO = Path(__file__).resolve().parents[1]


def test_new_writes_placeholders_that_validate_flags(tmp_path: Path, run_cli: RunCli) -> None:
    assert run_cli("init", cwd=tmp_path).exit_code == 0
    assert run_cli("new", "demo", cwd=tmp_path).exit_code == 0
    result = run_cli("validate", cwd=tmp_path)
    assert result.exit_code == 0  # a skeleton validates; the placeholders are warnings
    assert "people.ae.email: ae@example.invalid is a placeholder: replace it" in result.stdout
    assert "people.pm.email: pm@example.invalid is a placeholder" in result.stdout
    assert run_cli("validate", "--strict", cwd=tmp_path).exit_code == 1
    ws = find_workspace(tmp_path)
    project, _ = load_project(ws, "demo", ws.today())
    assert brief_recipients(project, project.start) == ()
    assert [pid for pid, _ in without_address(project, project.start)] == ["ae"]
    plan = tmp_path / "projects/demo/project.yaml"
    plan.write_text(plan.read_text("utf-8").replace("ae@example.invalid", "ana@acme.test")
                    .replace("pm@example.invalid", "pat@acme.test"), "utf-8")
    result = run_cli("validate", cwd=tmp_path)
    assert "placeholder" not in result.stdout
    project, _ = load_project(ws, "demo", ws.today())
    assert brief_recipients(project, project.start) == ("ana@acme.test",)


def test_example_addresses_of_the_demonstration_workspace_are_real(run_cli: RunCli) -> None:
    result = run_cli("validate", cwd=REPO)
    assert "placeholder" not in result.stdout
    assert not is_placeholder("jonas.weber@example.com")
    assert is_placeholder("AE@Example.INVALID ")
