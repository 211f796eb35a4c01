"""history: the plan at a revision, merge bases, changed projects and "since last week", each in a
throwaway repository with real commits."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from planforge import history
from planforge.errors import GitError
from planforge.history import Review, changed_projects, changes_since_last_week, compare, plan_at
from planforge.model import Project
from planforge.timeline import plan_as_of
from planforge.validate import load_project
from planforge.workspace import Workspace, find_workspace

from .gitplans import Repo, changed, dump, isolate_git, item, milestone, plan, update

pytestmark = pytest.mark.slow  # real git repositories and commits

TODAY = date(2020, 11, 20)  # only used to check files; nothing here depends on the clock


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate_git(monkeypatch, tmp_path)


@pytest.fixture
def repo(tmp_path: Path, home: Path) -> Repo:
    repo = Repo.create(tmp_path / "repo", home)
    repo.write_project("demo", plan())
    repo.write_project("other", plan(name="Other rollout"))
    repo.commit("The plans as agreed at kickoff")
    return repo


def ws_of(repo: Repo) -> Workspace:
    return find_workspace(repo.ws)


def review(repo: Repo, base: str | None = None, head: str | None = None) -> Review:
    return compare(ws_of(repo), base, head, TODAY)


def summary(result: Review) -> list[tuple[str, str, str, int | None]]:
    return [(c.project_id, c.kind, c.subject_id, c.days) for c in result.diff.changes]


def test_working_tree_against_the_merge_base_customer_facing_first(repo: Repo) -> None:
    repo.git("checkout", "-q", "-b", "slip")
    data = changed(plan())
    milestone(data, "m-internal").update(forecast="2020-04-08")
    milestone(data, "m-golive").update(forecast="2020-12-15", reason="Data migration rerun.")
    repo.write_project("demo", data)
    result = review(repo)
    assert summary(result) == [
        ("demo", "milestone-moved", "m-golive", 14),
        ("demo", "milestone-moved", "m-internal", 7),
    ]
    assert result.base.rev == "main" and result.base.merge_base
    assert result.base.commit == repo.git("rev-parse", "main")
    assert result.head.commit is None
    assert result.compared == 2 and result.edited == ()
    assert result.diff.headline == "1 customer-facing date moves later, 1 internal date moves"


def test_committed_revisions_rebaseline_risks_and_people(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    data = changed(plan())
    milestone(data, "m-demo")["due"] = "2020-03-09"
    item(data, "risks", "r-data")["impact"] = 5
    data["risks"] = [r for r in data["risks"] if r["id"] != "r-staff"]
    data["risks"].append({"id": "r-scope", "title": "Scope creep", "category": "scope",
                          "likelihood": 3, "impact": 3, "owner": "ae", "mitigation": "Triage"})
    data["people"]["qa"] = {"name": "Quinn Tester", "role": "Tester", "team": "delivery"}
    data["people"]["pm"]["role"] = "Delivery lead"
    repo.write_project("demo", data)
    repo.commit("Re-plan")
    repo.write_project("demo", plan())  # the working tree is not compared when HEAD is named
    result = review(repo, base, "HEAD")
    assert summary(result) == [
        ("demo", "milestone-rebaselined", "m-demo", 7),
        ("demo", "risk-added", "r-scope", None),
        ("demo", "risk-rescored", "r-data", None),
        ("demo", "risk-removed", "r-staff", None),
        ("demo", "person-added", "qa", None),
        ("demo", "role-changed", "pm", None),
    ]
    assert (result.base.rev, result.head.rev) == (base, "HEAD")
    assert not result.base.merge_base


def test_a_renamed_project_folder(repo: Repo) -> None:
    repo.git("mv", "projects/demo", "projects/demo-crm")
    data = changed(plan())
    milestone(data, "m-demo")["forecast"] = "2020-03-03"
    repo.write_project("demo-crm", data)
    result = review(repo, "main")
    [p] = result.diff.projects
    assert (p.project_id, p.renamed_from) == ("demo-crm", "demo")
    assert [c.kind for c in p.changes] == ["milestone-moved", "project-removed", "project-added"]
    assert result.compared == 3


def test_deleted_files(repo: Repo) -> None:
    repo.write_update("demo", update("2020-W10"))
    repo.commit("Weekly update")
    repo.git("rm", "-q", "-r", "projects/other")
    (repo.ws / "projects/demo/updates/2020-W10.yaml").unlink()
    result = review(repo, "main")
    assert summary(result) == [("other", "project-removed", "other", None)]
    assert result.edited == ("demo",)  # an update removed: edited, with nothing to summarise


def test_new_untracked_project_and_update(repo: Repo) -> None:
    repo.write_project("fresh", plan(name="Fresh"))
    repo.write_update("demo", update("2020-W12", "red", "Blocked."))
    assert summary(review(repo, "main")) == [
        ("demo", "update-added", "2020-W12", None),
        ("fresh", "project-added", "fresh", None),
    ]


def test_invalid_yaml_on_either_side_is_reported_not_raised(repo: Repo) -> None:
    repo.write("projects/demo/project.yaml", dump(plan()) + "risks: [\n")
    repo.write("projects/other/project.yaml", dump(plan(name="Other rollout")) + "nme: typo\n")
    result = review(repo, "main")
    assert [(p.project_id, p.errors_old, p.errors_new) for p in result.diff.projects] == [
        ("demo", None, 1),
        ("other", None, 1),
    ]
    repo.commit("Broken")
    repo.write_project("demo", plan())
    result = review(repo, "HEAD")
    assert [(p.project_id, p.errors_old, p.errors_new) for p in result.diff.projects] == [
        ("demo", 1, None),
    ]
    assert result.diff.headline == "1 project invalid before the change"


def test_merge_commit_the_merge_base_leaves_out_what_came_from_main(repo: Repo) -> None:
    repo.git("checkout", "-q", "-b", "feature")
    feature = changed(plan())
    milestone(feature, "m-demo")["forecast"] = "2020-03-06"
    repo.write_project("demo", feature)
    repo.commit("Demo slips")
    repo.git("checkout", "-q", "main")
    other = changed(plan(name="Other rollout"))
    item(other, "risks", "r-staff")["likelihood"] = 5
    repo.write_project("other", other)
    repo.commit("Other: staff risk up")
    repo.git("checkout", "-q", "feature")
    repo.git("merge", "-q", "--no-edit", "main")
    assert len(repo.git("rev-list", "--parents", "-1", "HEAD").split()) == 3  # a merge commit
    result = review(repo)
    assert result.base.commit == repo.git("rev-parse", "main")
    assert summary(result) == [("demo", "milestone-moved", "m-demo", 4)]
    # Against the branch point instead, the change merged from main shows too.
    fork = repo.git("rev-parse", "HEAD^1~1")
    assert [k for _, k, _, _ in summary(review(repo, fork, "HEAD"))] == [
        "milestone-moved", "risk-rescored"
    ]


def test_missing_revision_is_named(repo: Repo) -> None:
    with pytest.raises(GitError, match="unknown revision 'no-such-branch'"):
        review(repo, "no-such-branch")
    with pytest.raises(GitError, match="fetch it: `git fetch origin release`"):
        review(repo, "origin/release")
    with pytest.raises(GitError, match="'--output=x' is not a revision"):
        review(repo, "--output=x")


def test_shallow_clone_says_what_to_fetch(repo: Repo, tmp_path: Path, home: Path) -> None:
    repo.git("checkout", "-q", "-b", "feature")
    data = changed(plan())
    milestone(data, "m-demo")["forecast"] = "2020-03-04"
    repo.write_project("demo", data)
    repo.commit("On the branch")
    repo.git("checkout", "-q", "main")
    repo.write_project("other", plan(name="Other, later"))
    repo.commit("Main moves on")
    # As CI checks out a pull request: one commit of one branch, no origin/HEAD.
    clone = Repo(tmp_path / "shallow", home)
    repo.git("clone", "-q", "--depth", "1", "--branch", "feature",
             f"file://{repo.path}", str(clone.path))
    clone.git("remote", "set-head", "origin", "--delete")
    with pytest.raises(GitError, match=r"unknown revision 'HEAD~1'.*git fetch --unshallow"):
        review(clone, "HEAD~1")
    with pytest.raises(GitError, match=r"default branch.*shallow clone.*fetch-depth: 0"):
        review(clone)
    # Both branch tips fetched, but not the commit where they parted.
    clone.git("fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    with pytest.raises(GitError, match=r"origin/main and HEAD share no history: this is a sha"):
        review(clone)
    clone.git("fetch", "-q", "--unshallow", "origin")
    assert summary(review(clone)) == [("demo", "milestone-moved", "m-demo", 2)]


def test_default_branch_prefers_origin_head(repo: Repo, tmp_path: Path, home: Path) -> None:
    clone = Repo(tmp_path / "clone", home)
    repo.git("clone", "-q", str(repo.path), str(clone.path))
    clone.git("branch", "-q", "-m", "main", "topic")  # no local main: only origin/HEAD tells
    assert history.default_branch(history.repository(ws_of(clone))) == "origin/main"
    clone.write_project("demo", plan(name="Changed"))
    assert review(clone).base.rev == "origin/main"


def test_no_default_branch(tmp_path: Path, home: Path) -> None:
    repo = Repo.create(tmp_path / "trunk", home)
    repo.git("checkout", "-q", "-b", "trunk")
    repo.write_project("demo", plan())
    repo.commit("Plan")
    with pytest.raises(GitError, match=r"cannot tell the default branch.*planforge diff"):
        review(repo)
    assert review(repo, "trunk").diff.projects == ()


def test_outside_a_repository(tmp_path: Path, home: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    ws = find_workspace(folder)
    with pytest.raises(GitError, match="is not inside a git repository"):
        compare(ws, None, None, TODAY)
    with pytest.raises(GitError, match="is not inside a git repository"):
        changed_projects(ws, "main")


def test_git_not_installed(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(repo.path / "nowhere"))
    with pytest.raises(GitError, match="git is not installed"):
        review(repo)


def test_workspace_in_a_subfolder_of_the_repository(tmp_path: Path, home: Path) -> None:
    repo = Repo.create(tmp_path / "mono", home, workspace="plans/sales")
    repo.write("README.md", "not a plan\n")
    repo.write_project("demo", plan())
    repo.commit("Plans in a subfolder")
    data = changed(plan())
    milestone(data, "m-golive")["forecast"] = "2020-11-24"
    repo.write_project("demo", data)
    (repo.path / "README.md").write_text("changed\n", "utf-8")
    assert summary(review(repo)) == [("demo", "milestone-moved", "m-golive", -7)]
    assert changed_projects(ws_of(repo), "main") == {"demo"}
    projects, errors = plan_at(ws_of(repo), "main", TODAY)
    assert list(projects) == ["demo"] and errors == {}
    assert projects["demo"] is not None and projects["demo"].milestones[2].forecast is None


def test_changed_projects(repo: Repo) -> None:
    ws = ws_of(repo)
    assert changed_projects(ws, "HEAD") == set()
    repo.write_update("other", update("2020-W20"))  # untracked
    assert changed_projects(ws, "HEAD") == {"other"}
    repo.git("rm", "-q", "-r", "projects/demo")  # deleted: nothing to build
    assert changed_projects(ws, "HEAD") == {"other"}
    repo.write("planforge.yaml", "timezone: Europe/Paris\n")  # shapes every document
    assert changed_projects(ws_of(repo), "HEAD") == {"other"}  # demo is gone
    repo.git("checkout", "-q", "HEAD", "--", "projects/demo")
    assert changed_projects(ws_of(repo), "HEAD") == {"demo", "other"}


def test_plan_at_reports_invalid_projects(repo: Repo) -> None:
    repo.write("projects/demo/project.yaml", "name: [\n")
    repo.commit("Broken")
    projects, errors = plan_at(ws_of(repo), "HEAD", TODAY)
    assert projects["demo"] is None and errors == {"demo": 1}
    assert projects["other"] is not None
    working, _ = plan_at(ws_of(repo), None, TODAY)
    assert set(working) == {"demo", "other"}


# "Since last week": 2020-W10 runs from Monday 2 March to Sunday 8 March; Europe/Berlin is UTC+1.
W09 = "2020-02-27T10:00:00+01:00"
W10_SUNDAY_LATE = "2020-03-08T23:30:00+01:00"  # 22:30 UTC: still W10 in Berlin
W11_MONDAY_EARLY = "2020-03-09T00:30:00+01:00"  # still Sunday in UTC: W11 in Berlin
W11 = "2020-03-11T10:00:00+01:00"


@pytest.fixture
def weekly(tmp_path: Path, home: Path) -> Repo:
    """A plan committed in W09, changed late on Sunday of W10 and early on Monday of W11."""
    repo = Repo.create(tmp_path / "weekly", home)
    repo.write_project("demo", plan())
    repo.commit("Kickoff", when=W09)
    w10 = changed(plan())
    milestone(w10, "m-golive")["forecast"] = "2020-12-08"
    repo.write_project("demo", w10)
    repo.commit("Go-live slips a week", when=W10_SUNDAY_LATE)
    w11 = changed(w10)
    item(w11, "risks", "r-staff")["status"] = "closed"
    milestone(w11, "m-demo")["done"] = "2020-03-02"
    repo.write_project("demo", w11)
    repo.write_update("demo", update("2020-W11"))
    repo.commit("Staff risk closed, demo done", when=W11_MONDAY_EARLY)
    return repo


def working_project(repo: Repo) -> tuple[Workspace, Project]:
    ws = ws_of(repo)
    return ws, load_project(ws, "demo", TODAY)[0]


def test_since_last_week_in_past_weeks_reads_commits(weekly: Repo) -> None:
    ws = ws_of(weekly)
    # The plan of the document is the plan as of its date: Friday 6 March still has kickoff's.
    friday = plan_as_of(ws, date(2020, 3, 6)).load(ws, "demo")[0]
    assert changes_since_last_week(ws, friday, date(2020, 3, 6)) == []
    sunday = plan_as_of(ws, date(2020, 3, 8)).load(ws, "demo")[0]
    found = changes_since_last_week(ws, sunday, date(2020, 3, 8))
    assert found is not None
    assert [(c.kind, c.subject_id) for c in found] == [("milestone-moved", "m-golive")]
    project = plan_as_of(ws, date(2020, 3, 13)).load(ws, "demo")[0]
    found = changes_since_last_week(ws, project, date(2020, 3, 13))
    assert found is not None  # the weekly update is left out: the brief shows it anyway
    assert [(c.kind, c.subject_id) for c in found] == [
        ("milestone-done", "m-demo"), ("risk-closed", "r-staff")
    ]


def test_since_last_week_without_a_commit_that_old(weekly: Repo) -> None:
    ws, project = working_project(weekly)
    assert changes_since_last_week(ws, project, date(2020, 2, 28)) is None


def test_since_last_week_in_the_current_week_uses_the_working_tree(weekly: Repo) -> None:
    data = changed(plan())
    milestone(data, "m-golive")["forecast"] = "2020-12-22"
    weekly.write_project("demo", data)
    ws = ws_of(weekly)
    project = load_project(ws, "demo", TODAY)[0]
    found = changes_since_last_week(ws, project, ws.today())
    assert found is not None
    assert [(c.kind, c.subject_id, c.old, c.new) for c in found] == [
        ("milestone-moved", "m-golive", date(2020, 12, 8), date(2020, 12, 22)),
    ]


def test_since_last_week_outside_git_is_none(tmp_path: Path, home: Path) -> None:
    folder = tmp_path / "plain"
    (folder / "projects/demo").mkdir(parents=True)
    (folder / "projects/demo/project.yaml").write_text(dump(plan()), "utf-8")
    ws = find_workspace(folder)
    assert changes_since_last_week(ws, load_project(ws, "demo", TODAY)[0], TODAY) is None
