"""Honest goals: measuring from a date or a milestone, stale actuals, and the health warnings
that a done project or a cautious team no longer get."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from planforge.dates import friday_of
from planforge.facts import GoalFacts, compute_facts
from planforge.model import HealthSettings, Settings
from planforge.validate import load_project
from planforge.workspace import Workspace, find_workspace

from .conftest import REPO, RunCli
from .gitplans import Repo, isolate_git, milestone, plan, update

AS_OF = date(2026, 11, 20)


@pytest.fixture
def ws() -> Workspace:
    return find_workspace(REPO)


def goal(ws: Workspace, pid: str, gid: str, as_of: date,
         settings: Settings | None = None) -> GoalFacts:
    project, _ = load_project(ws, pid, as_of)
    facts = compute_facts(project, as_of, settings or ws.settings)
    return next(g for g in facts.goals if g.goal.id == gid)


def test_a_goal_measured_from_go_live_waits_until_go_live_is_done(ws: Workspace) -> None:
    # acme's case times move to the CRM at go-live (m-go-live, forecast 19 February 2027).
    before = goal(ws, "acme-crm", "g-case-days", AS_OF)
    assert before.state == "waiting" and before.expected == 0
    assert before.measure_from == date(2027, 2, 19) and not before.measuring


def test_a_goal_measured_from_a_date_expects_progress_only_from_then(ws: Workspace) -> None:
    project, _ = load_project(ws, "acme-crm", AS_OF)
    g = next(g for g in project.goals if g.id == "g-pipeline-coverage")
    later = replace(g, measure_from=date(2026, 11, 1))
    moved = replace(project, goals=tuple(later if x.id == g.id else x for x in project.goals))
    facts = compute_facts(moved, AS_OF, ws.settings)
    f = next(x for x in facts.goals if x.goal.id == g.id)
    # 19 of the 150 days from 1 November to 31 March have passed.
    assert f.measuring and round(f.expected, 3) == round(19 / 150, 3)
    assert f.state == "on-track"
    before = compute_facts(moved, date(2026, 10, 30), ws.settings)
    assert next(x for x in before.goals if x.goal.id == g.id).state == "waiting"


def test_a_stale_actual_is_flagged_and_not_judged(ws: Workspace) -> None:
    # acme reported g-data-quality last in 2026-W47; five weeks on (W52) it is stale.
    fresh = goal(ws, "acme-crm", "g-data-quality", date(2026, 12, 18))
    assert fresh.actual_age == 4 and fresh.state != "stale"
    old = goal(ws, "acme-crm", "g-data-quality", date(2026, 12, 25))
    assert old.actual_age == 5 and old.stale and old.state == "stale"
    settings = Settings(health=HealthSettings(stale_actual_weeks=8))
    assert goal(ws, "acme-crm", "g-data-quality", date(2026, 12, 25), settings).state != "stale"


def test_the_brief_says_measured_from_and_the_workspace_setting_is_read(
    ws: Workspace, run_cli: RunCli
) -> None:
    result = run_cli("render", "brief", "acme-crm", "--week", "2026-W47", "-o", "-", cwd=REPO)
    measured = "Measured from “Go-live, all users working in the new CRM” (19 Feb 2027)"
    assert measured in result.stdout
    assert "Measuring not started" in result.stdout


# --- in a real repository: an actual of week 41 is stale by week 48 -----------------------------


def _friday(week: str) -> str:
    day = friday_of(week)
    # Berlin: summer time until the last Sunday of October.
    offset = "+02:00" if day < date(2020, 10, 25) else "+01:00"
    return f"{day.isoformat()}T17:00:00{offset}"


@pytest.fixture
def weekly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """A plan whose goal is measured once, in 2020-W41, then updated weekly without actuals."""
    home = isolate_git(monkeypatch, tmp_path)
    repo = Repo.create(tmp_path / "repo", home)
    data = plan()
    for ident in ("m-demo", "m-internal"):
        m = milestone(data, ident)
        m["done"] = m["due"]
    repo.write_project("demo", data)
    repo.commit("Kickoff", when="2020-01-06T10:00:00+01:00")
    for n in range(40, 49):
        week = f"2020-W{n}"
        u = update(week)
        if n == 41:
            u["actuals"] = {"g-quote": 33}  # 80 % of the way from 45 to 30 minutes
        repo.write_update("demo", u)
        repo.commit(f"{week} update", when=_friday(week))
    return repo


@pytest.mark.slow
def test_an_actual_of_week_41_is_stale_by_week_48(weekly: Repo, run_cli: RunCli) -> None:
    w42 = run_cli("render", "brief", "demo", "--week", "2020-W42", "-o", "-", cwd=weekly.ws)
    assert w42.exit_code == 0, w42.output
    assert "Measurement out of date" not in w42.stdout
    w48 = run_cli("render", "brief", "demo", "--week", "2020-W48", "-o", "-", cwd=weekly.ws)
    assert w48.exit_code == 0, w48.output
    assert "Measurement out of date" in w48.stdout
    assert "Last measured in 2020-W41, 7 weeks ago" in w48.stdout
    # Judged on the week-41 number the goal would be behind (90 % of the time gone, 80 % of the
    # way): the team's green would be called a watermelon. Stale, it is not judged.
    checked = run_cli("validate", "--as-of", "2020-11-27", "--strict", cwd=weekly.ws)
    assert checked.exit_code == 0, checked.output
    assert "computed amber" not in checked.output
    project = find_workspace(weekly.ws)
    facts = compute_facts(load_project(project, "demo", date(2020, 11, 27))[0],
                          date(2020, 11, 27), project.settings)
    assert facts.health.level == "green"
    stale = next(g for g in facts.goals if g.goal.id == "g-quote")
    assert stale.actual_week == "2020-W41" and stale.actual_age == 7
