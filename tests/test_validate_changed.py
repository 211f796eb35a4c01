"""``validate --changed-since``: a pull-request check reads the projects the change touches, and
every project when a file that shapes every check changed, in real repositories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planforge.history import projects_to_validate
from planforge.workspace import find_workspace

from .conftest import RunCli
from .gitplans import Repo, changed, isolate_git, milestone, plan, update

pytestmark = pytest.mark.slow  # real git repositories and commits

AS_OF = ("--as-of", "2020-11-20")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """main holds a valid project and one broken long ago; a branch starts from it."""
    repo = Repo.create(tmp_path / "plans", isolate_git(monkeypatch, tmp_path))
    repo.write_project("demo", plan())
    repo.write_project("other", plan(name="Other rollout"))
    repo.write("projects/broken/project.yaml", "name: [\n")
    repo.commit("Plans, one broken", when="2020-06-01T12:00:00+00:00")
    repo.git("checkout", "-q", "-b", "change")
    return repo


def findings(run_cli: RunCli, repo: Repo, *args: str) -> tuple[int, set[str]]:
    """The exit code and the files of the findings of a JSON validate in the workspace."""
    result = run_cli("validate", "--format", "json", *AS_OF, *args, cwd=repo.ws)
    return result.exit_code, {f["file"] for f in json.loads(result.stdout)}


def test_only_the_changed_projects_are_checked(repo: Repo, run_cli: RunCli) -> None:
    assert findings(run_cli, repo)[0] == 1  # the whole workspace: the old breakage fails it
    data = changed(plan())
    milestone(data, "m-golive").update(forecast="2020-12-08", reason="Data migration rerun.")
    repo.write_project("demo", data)
    repo.commit("Go-live a week later", when="2020-06-02T12:00:00+00:00")
    result = run_cli("validate", "--changed-since", "main", *AS_OF, cwd=repo.ws)
    assert result.exit_code == 0, result.output
    assert "note: 1 project with files changed since main" in result.stderr
    assert "0 errors, 3 warnings in 1 file" in result.stderr
    # An untracked file counts, as with build --changed-since: the working tree is checked.
    repo.write("projects/other/updates/2020-W20.yaml", "week: 2020-W20\nhealth: purple\n")
    code, files = findings(run_cli, repo, "--changed-since", "main")
    assert code == 1 and "projects/other/updates/2020-W20.yaml" in files
    assert {f.split("/")[1] for f in files} == {"demo", "other"}  # never the broken one
    assert projects_to_validate(find_workspace(repo.ws), "main") == ["demo", "other"]


def test_a_change_outside_the_projects_checks_every_project(repo: Repo,
                                                            run_cli: RunCli) -> None:
    repo.write("output/demo/charter.md", "# built\n")  # written by planforge, never read
    repo.write("projects/README.md", "How we keep plans.\n")  # in no project
    repo.commit("Notes", when="2020-06-02T12:00:00+00:00")
    repo.write("findings.json", "[]\n")  # untracked, what a CI job leaves: no check reads it
    repo.write(".cache/pip/wheel", "")
    assert projects_to_validate(find_workspace(repo.ws), "main") == []
    for changed_file in ("planforge.yaml", "schemas/project.schema.json", "requirements.txt"):
        repo.git("reset", "-q", "--hard", "main")
        repo.git("clean", "-q", "-fd")
        target = repo.ws / changed_file
        old = target.read_text("utf-8") if target.exists() else ""
        repo.write(changed_file, old + "\n# planforge==0.1.0\n")
        repo.git("add", changed_file)  # tracked: committed with the change
        assert projects_to_validate(find_workspace(repo.ws), "main") is None, changed_file
        result = run_cli("validate", "--changed-since", "main", *AS_OF, cwd=repo.ws)
        assert result.exit_code == 1, changed_file
        assert "every project is checked" in result.stderr
        assert "projects/broken/project.yaml:2:1: error" in result.stdout


def test_a_deleted_project_is_nothing_to_check(repo: Repo, run_cli: RunCli) -> None:
    repo.git("rm", "-q", "-r", "projects/broken")
    repo.commit("Retire the broken plan", when="2020-06-02T12:00:00+00:00")
    result = run_cli("validate", "--changed-since", "main", *AS_OF, cwd=repo.ws)
    assert result.exit_code == 0, result.output
    assert "note: 0 projects with files changed since main" in result.stderr
    assert findings(run_cli, repo, "--changed-since", "main") == (0, set())


def test_a_workspace_in_a_subfolder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    run_cli: RunCli) -> None:
    repo = Repo.create(tmp_path / "mono", isolate_git(monkeypatch, tmp_path), "plans")
    repo.write_project("demo", plan())
    repo.write_update("demo", update("2020-W20"))
    repo.commit("Plans in a subfolder")
    (repo.path / "README.md").write_text("outside the workspace: no check reads it\n", "utf-8")
    repo.write_update("demo", update("2020-W20", health="amber", summary="Late data."))
    assert projects_to_validate(find_workspace(repo.ws), "main") == ["demo"]


def test_refused_usage(repo: Repo, run_cli: RunCli) -> None:
    both = run_cli("validate", "projects/demo", "--changed-since", "main", cwd=repo.ws)
    assert both.exit_code == 2 and "give paths or --changed-since, not both" in both.output
    unknown = run_cli("validate", "--changed-since", "nosuch", cwd=repo.ws)
    assert unknown.exit_code == 1 and "unknown revision 'nosuch'" in unknown.output
    # A finding like any other, so that the JSON a CI job reads stays well formed.
    as_json = run_cli("validate", "--changed-since", "nosuch", "--format", "json", cwd=repo.ws)
    [finding] = json.loads(as_json.stdout)
    assert as_json.exit_code == 1 and "unknown revision 'nosuch'" in finding["message"]
