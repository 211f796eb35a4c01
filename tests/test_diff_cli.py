"""``planforge diff`` as a reviewer meets it: golden Markdown and JSON of a pull request that
touches every kind of change, invalid sides, errors, and what it must not import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import CheckGolden, RunCli
from .gitplans import Repo, changed, dump, isolate_git, item, milestone, plan, update

pytestmark = pytest.mark.slow  # real git repositories and commits

GOLDEN = Path(__file__).parent / "golden" / "diff"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate_git(monkeypatch, tmp_path)


@pytest.fixture
def pull_request(tmp_path: Path, home: Path) -> Repo:
    """main holds five projects; the branch's working tree changes each in a different way."""
    repo = Repo.create(tmp_path / "plans", home)
    alpha = plan(name="Alpha CRM | phase 1", customer="Alpha AG")
    repo.write_project("alpha", alpha)
    repo.write_update("alpha", update("2020-W10"))
    repo.write_project("beta", plan(name="Beta portal"))
    repo.write_project("delta", plan(name="Delta data"))
    repo.write_project("old-name", plan(name="Renamed rollout", customer="Rename Ltd"))
    repo.write_project("retired", plan(name="Retired project"))
    repo.commit("Plans at kickoff")
    repo.git("checkout", "-q", "-b", "replan")

    new = changed(alpha)
    milestone(new, "m-golive").update(
        forecast="2020-12-15",
        reason="The *data* migration | reruns <b>twice</b>; ask @sales-team for the date.",
    )
    milestone(new, "m-internal")["forecast"] = "2020-03-30"
    milestone(new, "m-demo").update(due="2020-03-09", done="2020-03-10")
    item(new, "goals", "g-quote").update(target=25)
    item(new, "risks", "r-data")["impact"] = 5
    item(new, "risks", "r-staff")["status"] = "closed"
    new["risks"].append({
        "id": "r-budget", "title": "Budget freeze", "category": "financial", "likelihood": 2,
        "impact": 4, "owner": "ae", "mitigation": "Phase the licences",
        "customer_message": "Licences can be phased over two quarters.",
    })
    new["people"]["qa"] = {"name": "Quinn Tester", "role": "Tester", "team": "delivery"}
    new["people"]["cx"]["role"] = "Project sponsor"
    new["phases"][0]["end"] = "2020-07-14"
    new["phases"][1]["start"] = "2020-07-15"
    repo.write_project("alpha", new)
    repo.write_update("alpha", update("2020-W11", "amber", "Go-live moves by two weeks."))

    repo.write("projects/beta/project.yaml", dump(plan(name="Beta portal")) + "goals: [\n")
    repo.write_project("delta", plan(name="Delta data", summary="A summary, nothing else."))
    repo.write_project("gamma", plan(name="Gamma launch", customer="Gamma SA"))
    repo.git("mv", "projects/old-name", "projects/new-name")
    repo.git("rm", "-q", "-r", "projects/retired")
    return repo


def normalised(text: str, repo: Repo) -> str:
    """Commit hashes differ with git's version and the machine; the rest must not."""
    main = repo.git("rev-parse", "main")
    return text.replace(main, "<main>").replace(main[:7], "<main7>")


def test_markdown_golden(pull_request: Repo, run_cli: RunCli, check_golden: CheckGolden) -> None:
    result = run_cli("diff", cwd=pull_request.ws)
    assert result.exit_code == 0, result.output
    check_golden(GOLDEN / "pull-request.md", normalised(result.stdout, pull_request))


def test_json_golden(pull_request: Repo, run_cli: RunCli, check_golden: CheckGolden) -> None:
    result = run_cli("diff", "main", "--format", "json", cwd=pull_request.ws)
    assert result.exit_code == 0, result.output
    text = normalised(result.stdout, pull_request)
    check_golden(GOLDEN / "pull-request.json", text)
    data = json.loads(text)
    assert data["base"] == {"rev": "main", "commit": "<main>", "merge_base": False}
    assert [p["id"] for p in data["projects"]] == [
        "alpha", "beta", "gamma", "new-name", "retired"
    ]


def test_markdown_is_inert_and_warns_of_the_rebaseline(pull_request: Repo, run_cli: RunCli) -> None:
    out = run_cli("diff", cwd=pull_request.ws).stdout
    assert "> [!WARNING]" in out and "**Re-baseline**" in out
    assert "<b>" not in out and "\\<b\\>" in out
    assert "@sales" not in out  # no notification from a pull-request comment
    assert "Alpha CRM \\| phase 1" in out
    assert out.index("**Customer-facing date moved**") < out.index("| Date moved")
    assert "invalid on the working tree" in out.lower() and "see `planforge validate`" in out


def test_committed_head_and_nothing_changed(pull_request: Repo, run_cli: RunCli) -> None:
    result = run_cli("diff", "main", "HEAD", cwd=pull_request.ws)
    assert result.exit_code == 0
    assert result.stdout.startswith(
        "## Plan changes: no change to dates, goals, risks, people or phases\n"
    )
    assert "5 projects, 0 changed." in result.stdout
    short = pull_request.git("rev-parse", "--short=7", "main")
    head = pull_request.git("rev-parse", "--short=7", "HEAD")
    result = run_cli("diff", short, "HEAD", cwd=pull_request.ws)
    assert f"From `{short}` to `HEAD` (`{head}`): " in result.stdout


def test_unknown_revision_exits_1_with_its_name(pull_request: Repo, run_cli: RunCli) -> None:
    result = run_cli("diff", "nope", cwd=pull_request.ws)
    assert result.exit_code == 1
    assert "unknown revision 'nope'" in result.stderr
    assert "Traceback" not in result.output


def test_outside_git_exits_1(tmp_path: Path, home: Path, run_cli: RunCli) -> None:
    result = run_cli("diff", cwd=tmp_path)
    assert result.exit_code == 1
    assert "not inside a git repository" in result.stderr


def test_diff_does_not_import_the_render_stack(pull_request: Repo) -> None:
    code = (
        "import sys\n"
        "from planforge.cli import main\n"
        "sys.argv = ['planforge', 'diff']\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "heavy = sorted(m for m in ('jinja2', 'weasyprint') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=pull_request.ws)
    assert "HEAVY []" in out.stdout, out.stderr


def test_entity_text_reads_as_written(tmp_path: Path, home: Path, run_cli: RunCli) -> None:
    repo = Repo.create(tmp_path / "plans", home)
    repo.write_project("rd", plan(name="R&D &amp; QA"))
    repo.commit("Plan at kickoff")
    new = changed(plan(name="R&D &amp; QA"))
    milestone(new, "m-golive").update(forecast="2020-12-15", reason="Waits for &lt;legal&gt;")
    repo.write_project("rd", new)

    md = run_cli("diff", "main", cwd=repo.ws).stdout
    # Markdown shows "&amp;amp;" as "&amp;": every '&' is written as an entity of itself.
    assert "### R&amp;D &amp;amp; QA (`rd`)" in md
    assert "Waits for &amp;lt;legal&amp;gt;" in md
    data = json.loads(run_cli("diff", "main", "--format", "json", cwd=repo.ws).stdout)
    assert data["projects"][0]["name"] == "R&D &amp; QA"
    assert "Waits for &lt;legal&gt;" in json.dumps(data, ensure_ascii=False)
