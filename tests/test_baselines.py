"""Baselines that cannot be lost: a project's life in dated commits, and the retrospective that
reads the kickoff baseline and every re-baseline from them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from planforge.history import plan_revisions
from planforge.timeline import project_history
from planforge.workspace import find_workspace

from .conftest import RunCli
from .gitplans import Repo, changed, dump, git_calls, isolate_git, item, milestone, plan, update

pytestmark = pytest.mark.slow  # real git repositories and commits

CLOSED = "2021-01-08"
ASK = "Introduce us to the customer's finance director"
RETRO = {"held": CLOSED, "went_well": ["The demo."], "to_improve": ["The migration."]}


def _kickoff() -> dict[str, Any]:
    data = plan(budget={"currency": "EUR", "planned": 180000, "spent": 0})
    milestone(data, "m-demo")["forecast"] = "2020-03-02"
    return data


def _with_ask(week: str, health: str = "green") -> dict[str, Any]:
    data = update(week, health)
    data["sales_asks"] = [{"ask": ASK, "owner": "ae"}]
    return data


def _hand_over(data: Any, old: str, new: str, on: str) -> None:
    """Every item owned by ``old`` is now owned by ``new``, who took it over on ``on``."""
    if isinstance(data, dict):
        if data.get("owner") == old and "id" in data:
            data["owner"] = new
            data["handed_over"] = [{"from": old, "on": on}]
        for value in data.values():
            _hand_over(value, old, new, on)
    elif isinstance(data, list):
        for value in data:
            _hand_over(value, old, new, on)


@pytest.fixture
def lived(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """Planned, kickoff, a slip, a risk that occurs and is closed, an ask raised in W10 and gone
    from W12's update, a re-baseline of go-live, end and budget, the project manager leaving,
    then the project closed."""
    home = isolate_git(monkeypatch, tmp_path)
    repo = Repo.create(tmp_path / "repo", home)
    draft = plan(status="planned", budget={"currency": "EUR", "planned": 150000})
    milestone(draft, "m-demo")["due"] = "2020-02-28"
    repo.write_project("demo", draft)
    repo.commit("Draft plan", when="2020-02-20T10:00:00+01:00")

    data = _kickoff()
    repo.write_project("demo", data)
    repo.commit("Kickoff", when="2020-03-02T10:00:00+01:00")

    repo.write_update("demo", _with_ask("2020-W10"))
    repo.commit("W10 update", when="2020-03-06T17:00:00+01:00")

    data = changed(data)
    milestone(data, "m-demo").update(due="2020-03-23", forecast="2020-03-23",
                                     reason="The customer moved the demo.")
    item(data, "risks", "r-data")["status"] = "occurred"
    repo.write_project("demo", data)
    repo.write_update("demo", _with_ask("2020-W11", "amber"))
    repo.commit("W11 update", when="2020-03-13T17:00:00+01:00")

    repo.write("projects/demo/project.yaml", "name: [unclosed\n")
    repo.commit("Work in progress", when="2020-03-18T09:00:00+01:00")

    repo.write_project("demo", data)
    repo.write_update("demo", update("2020-W12"))
    repo.commit("W12 update", when="2020-03-20T17:00:00+01:00")

    data = changed(data)
    milestone(data, "m-demo")["done"] = "2020-03-23"
    item(data, "risks", "r-data")["status"] = "closed"
    repo.write_project("demo", data)
    repo.commit("Demo held, data risk closed", when="2020-04-03T16:00:00+02:00")

    data = changed(data)
    milestone(data, "m-golive")["due"] = "2020-12-30"
    data["phases"][1]["end"] = "2020-12-30"
    data["end"] = "2020-12-30"
    data["budget"]["planned"] = 192000
    repo.write_project("demo", data)
    repo.commit("Re-baseline go-live: the data migration is run twice\n\nAgreed with the "
                "customer.", when="2020-06-15T10:00:00+02:00")

    # Pat leaves; Robin takes over what Pat owned. Pat stays in people, so old updates and the
    # demo Pat delivered still name them.
    data = changed(data)
    data["people"]["pm"]["left"] = "2020-08-31"
    data["people"]["robin"] = {"name": "Robin Lead", "role": "Project manager",
                               "team": "delivery", "joined": "2020-09-01"}
    _hand_over(data, "pm", "robin", "2020-09-01")
    repo.write_project("demo", data)
    repo.commit("Pat hands the project over to Robin", when="2020-09-01T10:00:00+02:00")

    data = changed(data)
    data["status"] = "done"
    milestone(data, "m-internal")["done"] = "2020-04-01"
    milestone(data, "m-golive")["done"] = "2020-12-30"
    data["budget"]["spent"] = 190000
    repo.write_project("demo", data)
    repo.write("projects/demo/retrospective.yaml", dump(RETRO))
    repo.commit("Project closed", when=f"{CLOSED}T10:00:00+01:00")
    return repo


def test_history_is_read_with_one_log_and_one_cat_file(
    lived: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = git_calls(monkeypatch)
    revisions = plan_revisions(find_workspace(lived.ws), "demo")
    assert revisions is not None
    assert [r.subject for r in revisions] == [
        "Draft plan", "Kickoff", "W11 update", "Work in progress", "W12 update",
        "Demo held, data risk closed", "Re-baseline go-live: the data migration is run twice",
        "Pat hands the project over to Robin", "Project closed"]
    assert calls.count("log") == 1 and calls.count("cat-file") == 1


def test_kickoff_rebaselines_and_occurred_risks(lived: Repo) -> None:
    found = project_history(find_workspace(lived.ws), "demo", date(2021, 1, 8))
    assert found is not None and found.kickoff is not None
    assert found.kickoff.day == date(2020, 3, 2)
    assert found.versions == 8  # the invalid one is skipped
    seen = [(r.day, r.kind, r.subject_id, r.old, r.new, r.reason) for r in found.rebaselines]
    golive = "Re-baseline go-live: the data migration is run twice"
    # The draft's demo date moved at kickoff: planning, not a re-baseline.
    assert seen == [
        (date(2020, 3, 13), "milestone", "m-demo", date(2020, 3, 2), date(2020, 3, 23),
         "The customer moved the demo."),
        (date(2020, 6, 15), "milestone", "m-golive", date(2020, 12, 1), date(2020, 12, 30),
         golive),
        (date(2020, 6, 15), "end", "demo", date(2020, 12, 18), date(2020, 12, 30), golive),
        (date(2020, 6, 15), "budget", "demo", 180000, 192000, golive),
    ]
    assert [(o.risk_id, o.first) for o in found.occurred] == [("r-data", date(2020, 3, 13))]
    # As of a date, only what was committed by then.
    earlier = project_history(find_workspace(lived.ws), "demo", date(2020, 3, 13))
    assert earlier is not None and len(earlier.rebaselines) == 1


def test_the_retrospective_tells_the_real_project(lived: Repo, run_cli: RunCli) -> None:
    result = run_cli("render", "retro", "demo", "--as-of", CLOSED, cwd=lived.ws)
    assert result.exit_code == 0, result.output
    md = result.stdout
    assert "_Kickoff baseline: the plan as committed on 2 Mar 2020 (" in md
    assert "| 1 / 3 Done on time | 1 / 2 Occurred | €10,000 over budget (6%) |" in md
    assert ("| ★ Demo to the customer | 2 Mar 2020 | 23 Mar 2020 | 23 Mar 2020 | +21 days | "
            "On time | Done late |") in md
    assert ("| ★ Go-live | 1 Dec 2020 | 30 Dec 2020 | 30 Dec 2020 | +29 days | On time | "
            "Done late |") in md
    assert ("- **13 Mar 2020** · Milestone: Demo to the customer · 2 Mar 2020 → 23 Mar 2020 "
            "(+21 days) — The customer moved the demo.") in md
    assert ("- **15 Jun 2020** · Milestone: Go-live · 1 Dec 2020 → 30 Dec 2020 (+29 days) — "
            "Re-baseline go-live: the data migration is run twice") in md
    assert "· Planned budget · €180,000 → €192,000 — Re-baseline go-live" in md
    assert "28 Feb 2020" not in md  # the draft before kickoff is no baseline
    assert "| **Legacy data is poor** | 13 Mar 2020 | Closed |" in md
    assert "| €180,000 | €192,000 | €190,000 | **€10,000 over budget (6%)** |" in md
    assert f"| {ASK} | Alex Seller | 2020-W10 | 2020-W12 | 2 weeks |" in md
    assert "history is not available" not in md


def test_outside_git_the_retrospective_says_so_in_one_line(
    lived: Repo, run_cli: RunCli, tmp_path: Path
) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(lived.ws, copy, ignore=shutil.ignore_patterns(".git"))
    result = run_cli("render", "retro", "demo", "--as-of", CLOSED, cwd=copy)
    md = result.stdout
    assert "_The plan's git history is not available: milestones are compared" in md
    assert "| ★ Go-live | 30 Dec 2020 | 30 Dec 2020 | On time | Done on time |" in md
    assert f"| {ASK} | Alex Seller | 2020-W10 | 2020-W12 | 2 weeks |" in md


def test_build_writes_the_same_retrospective(lived: Repo, run_cli: RunCli) -> None:
    rendered = run_cli("render", "retro", "demo", "--as-of", CLOSED, cwd=lived.ws).stdout
    result = run_cli("build", "--as-of", CLOSED, "--formats", "md", "--jobs", "1",
                     cwd=lived.ws)
    assert result.exit_code == 0, result.output
    built = (lived.ws / "output" / "demo" / "retrospective.md").read_text("utf-8")
    assert built == rendered
    assert "· Planned budget · €180,000 → €192,000" in built


def test_who_left_stays_named_for_what_they_did(lived: Repo, run_cli: RunCli) -> None:
    result = run_cli("validate", "--as-of", CLOSED, "--strict", cwd=lived.ws)
    assert result.exit_code == 0, result.output
    retro = run_cli("render", "retro", "demo", "--as-of", CLOSED, cwd=lived.ws).stdout
    assert "Former members: Pat Manager (Project manager, left 31 Aug 2020)" in retro
    charter = run_cli("render", "charter", "demo", "--as-of", CLOSED, cwd=lived.ws).stdout
    people = charter.split("## 3.")[1].split("## 4.")[0]
    # The charter is the kickoff version: Pat was the project manager then, Robin not yet there.
    assert "| Pat Manager | Project manager |" in people and "Robin" not in people


def test_without_history_handovers_say_who_owned_what_when(
    lived: Repo, run_cli: RunCli, tmp_path: Path
) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(lived.ws, copy, ignore=shutil.ignore_patterns(".git"))
    before = run_cli("render", "charter", "demo", "--as-of", "2020-06-01", cwd=copy).stdout
    after = run_cli("render", "charter", "demo", "--as-of", CLOSED, cwd=copy).stdout
    goal = "| **Faster quotes** | minutes per quote | 45 minutes | 30 minutes | 31 Dec 2020 |"
    assert f"{goal} Pat Manager |" in before and "Robin" not in before.split("## 4.")[0]
    assert f"{goal} Robin Lead |" in after
    # The demo was done before the handover: it stays Pat's.
    assert "| **★ Demo to the customer** | Build | Pat Manager |" in after
    assert "Former members: Pat Manager (Project manager, left 31 Aug 2020)" in after
