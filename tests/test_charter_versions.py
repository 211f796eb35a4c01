"""The charter as agreed at kickoff, and every change since, read from dated commits."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from planforge.baselines import PlanVersion, plan_history
from planforge.model import build_project
from planforge.timeline import project_history
from planforge.workspace import find_workspace

from .conftest import RunCli
from .gitplans import Repo, changed, isolate_git, item, milestone, plan, update

pytestmark = pytest.mark.slow  # real git repositories and commits

SCOPE = ["Lead and opportunity management", "Quotes"]
ADDED = "Partner portal"
AGREED = "_Agreed at kickoff on 2 Mar 2020 (commit "
SCOPE_LINE = f"- **20 Mar 2020** · Added to the scope: {ADDED} — Partner portal in scope"
GOAL_LINE = ("- **15 Apr 2020** · Goal “Pipeline in the CRM” re-targeted: 95% → 98% — "
             "The board asks for the whole pipeline")
MOVE_LINE = ("- **15 Jun 2020** · Milestone “Go-live” re-baselined: 1 Dec 2020 → 30 Dec 2020 "
             "(+29 days) — The data migration is run twice.")
ADD_LINE = ("- **1 Jul 2020** · Milestone “Training done” added, due 15 Nov 2020 — "
            "Training before go-live")


@pytest.fixture
def lived(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """A draft, kickoff, a scope item added, a goal target raised, go-live re-baselined with a
    reason, a milestone added, then a forecast moved (a change the charter does not list)."""
    home = isolate_git(monkeypatch, tmp_path)
    repo = Repo.create(tmp_path / "repo", home)
    draft = plan(status="planned", scope={"in": SCOPE[:1], "out": ["Marketing"]})
    repo.write_project("demo", draft)
    repo.commit("Draft plan", when="2020-02-20T10:00:00+01:00")

    data = plan(scope={"in": SCOPE, "out": ["Marketing"]},
                budget={"currency": "EUR", "planned": 180000, "spent": 0})
    repo.write_project("demo", data)
    repo.commit("Kickoff", when="2020-03-02T10:00:00+01:00")

    data = changed(data)
    data["scope"]["in"].append(ADDED)
    repo.write_project("demo", data)
    repo.commit("Partner portal in scope", when="2020-03-20T10:00:00+01:00")

    data = changed(data)
    item(data, "goals", "g-share")["target"] = 98
    repo.write_project("demo", data)
    repo.commit("The board asks for the whole pipeline", when="2020-04-15T10:00:00+02:00")

    data = changed(data)
    milestone(data, "m-golive").update(due="2020-12-30", reason="The data migration is run twice.")
    repo.write_project("demo", data)
    repo.commit("Re-baseline go-live", when="2020-06-15T10:00:00+02:00")

    data = changed(data)
    data["phases"][1]["milestones"].append(
        {"id": "m-training", "name": "Training done", "due": "2020-11-15"})
    repo.write_project("demo", data)
    repo.commit("Training before go-live", when="2020-07-01T10:00:00+02:00")
    return repo


def _charter(run_cli: RunCli, repo: Repo, *args: str) -> str:
    result = run_cli("render", "charter", "demo", *args, cwd=repo.ws)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_history_lists_every_change_since_kickoff(lived: Repo) -> None:
    found = project_history(find_workspace(lived.ws), "demo", date(2020, 7, 31))
    assert found is not None and found.agreed is not None
    assert found.agreed.day == date(2020, 3, 2)
    assert [(c.kind, c.subject_id, c.old, c.new) for c in found.changes] == [
        ("scope-in-added", ADDED, None, ADDED),
        ("goal-target", "g-share", "95%", "98%"),
        ("milestone", "m-golive", date(2020, 12, 1), date(2020, 12, 30)),
        ("milestone-added", "m-training", None, date(2020, 11, 15)),
    ]
    # The retrospective's re-baselines stay the due, end and budget changes only.
    assert [r.subject_id for r in found.rebaselines] == ["m-golive"]


def test_the_charter_shows_the_kickoff_version_and_the_changes_since(
    lived: Repo, run_cli: RunCli
) -> None:
    md = _charter(run_cli, lived, "--as-of", "2020-07-31")
    assert AGREED in md
    # The body is the plan as agreed: kickoff's scope, target and go-live date.
    assert ADDED not in md.split("## 10.")[0]
    assert "| 10% | 95% |" in md and "98%" not in md.split("## 10.")[0]
    assert "| **★ Go-live** | Launch | – | 1 Dec 2020 |" in md
    assert "Training done | Launch" not in md
    assert "## 10. Changes since kickoff" in md
    changes = md.split("## 10. Changes since kickoff")[1]
    assert [line for line in changes.splitlines() if line.startswith("- ")] == [
        SCOPE_LINE, GOAL_LINE, MOVE_LINE, ADD_LINE]
    assert "Draft plan" not in md and "kickoff version is not known" not in md


def test_as_of_a_date_lists_only_the_changes_committed_by_then(
    lived: Repo, run_cli: RunCli
) -> None:
    md = _charter(run_cli, lived, "--as-of", "2020-04-14")
    assert AGREED in md
    assert SCOPE_LINE in md
    assert "re-targeted" not in md and "re-baselined" not in md and "added, due" not in md
    html = _charter(run_cli, lived, "--as-of", "2020-04-14", "--format", "html")
    assert "Added to the scope: Partner portal" in html and "re-targeted" not in html


def test_before_kickoff_the_charter_is_the_current_plan_marked_draft(
    lived: Repo, run_cli: RunCli
) -> None:
    md = _charter(run_cli, lived, "--as-of", "2020-02-25")
    assert "_Draft: no committed version of the plan is active yet" in md
    assert "Quotes" not in md  # the draft's scope, not kickoff's
    assert "Changes since kickoff" not in md and "Agreed at kickoff" not in md


def test_a_later_commit_that_changes_no_agreement_leaves_the_charter_as_it_was(
    lived: Repo, run_cli: RunCli
) -> None:
    past = _charter(run_cli, lived, "--as-of", "2020-07-31")
    today = _charter(run_cli, lived)
    assert MOVE_LINE in today and ADD_LINE in today
    data = plan(scope={"in": [*SCOPE, ADDED], "out": ["Marketing"]},
                budget={"currency": "EUR", "planned": 180000, "spent": 0})
    item(data, "goals", "g-share")["target"] = 98
    milestone(data, "m-golive").update(due="2020-12-30", reason="The data migration is run twice.")
    data["phases"][1]["milestones"].append(
        {"id": "m-training", "name": "Training done", "due": "2020-11-15"})
    milestone(data, "m-internal")["forecast"] = "2020-04-20"  # a forecast: no re-baseline
    data["budget"]["spent"] = 40000
    lived.write_project("demo", data)
    lived.write_update("demo", update("2020-W34", "amber"))
    lived.commit("W34 update", when="2020-08-21T17:00:00+02:00")
    assert _charter(run_cli, lived, "--as-of", "2020-07-31") == past
    assert _charter(run_cli, lived) == today


def test_build_writes_the_charter_render_shows(lived: Repo, run_cli: RunCli) -> None:
    rendered = _charter(run_cli, lived, "--as-of", "2020-07-31")
    result = run_cli("build", "--as-of", "2020-07-31", "--formats", "md", "--jobs", "1",
                     cwd=lived.ws)
    assert result.exit_code == 0, result.output
    built = (lived.ws / "output" / "demo" / "charter.md").read_text("utf-8")
    assert built == rendered


def test_outside_git_the_charter_says_in_one_line_that_kickoff_is_not_known(
    lived: Repo, run_cli: RunCli, tmp_path: Path
) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(lived.ws, copy, ignore=shutil.ignore_patterns(".git"))
    result = run_cli("render", "charter", "demo", "--as-of", "2020-07-31", cwd=copy)
    md = result.stdout
    assert ("_The kickoff version is not known (no git history): this is today's plan._"
            in md.splitlines())
    assert "| **★ Go-live** | Launch | – | 30 Dec 2020 |" in md
    assert "Changes since kickoff" not in md


def _version(day: date, status: str = "active", **changes: object) -> PlanVersion:
    return PlanVersion(day, f"c{day:%m%d}", f"On {day}",
                       build_project("demo", {**plan(status=status), **changes}))


def test_removed_items_and_a_goal_due_moved_are_changes_too() -> None:
    kickoff = _version(date(2020, 3, 2), scope={"in": ["A"], "out": ["B"]})
    data = plan(scope={"in": ["A"], "out": []})
    data["phases"][0]["milestones"].pop()  # m-internal
    item(data, "goals", "g-quote")["due"] = "2021-01-31"
    later = _version(date(2020, 5, 4), **{k: data[k] for k in ("scope", "phases", "goals")})
    found = plan_history([kickoff, later])
    assert [(c.kind, c.subject_id, c.old, c.new, c.reason) for c in found.changes] == [
        ("milestone-removed", "m-internal", date(2020, 4, 1), None, "On 2020-05-04"),
        ("scope-out-removed", "B", "B", None, "On 2020-05-04"),
        ("goal-due", "g-quote", date(2020, 12, 31), date(2021, 1, 31), "On 2020-05-04"),
    ]
    assert found.rebaselines == ()
    assert plan_history([_version(date(2020, 3, 2), "planned")]).agreed is None


def test_committing_an_edit_rebuilds_the_charter(lived: Repo, run_cli: RunCli) -> None:
    data = yaml.safe_load((lived.ws / "projects/demo/project.yaml").read_text("utf-8"))
    item(data, "goals", "g-share")["target"] = 99
    lived.write_project("demo", data)
    first = run_cli("build", "--formats", "md", "--jobs", "1", cwd=lived.ws)
    assert first.exit_code == 0, first.output
    charter = lived.ws / "output" / "demo" / "charter.md"
    assert "99" not in charter.read_text("utf-8").split("Changes since kickoff")[-1]
    # Committed this week: "since last week" reads nothing new, only the charter's history does.
    lived.commit("Whole pipeline and more", when=datetime.now(UTC).isoformat())
    again = run_cli("build", "--formats", "md", "--jobs", "1", cwd=lived.ws)
    assert "projects: 1 built" in again.output  # the files are the same; the history is not
    assert "99" in charter.read_text("utf-8").split("Changes since kickoff")[-1]
