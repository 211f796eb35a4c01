"""The portfolio dashboard (output/index.html): each project's row as recorded in the manifest,
the page made from the manifest alone, and the health trend read from the plan's history."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from planforge.build import BuildOptions, build_workspace, write_index
from planforge.dashboard import (
    CustomerDate,
    DashboardRow,
    TrendPoint,
    dashboard_row,
    row_from_json,
    row_json,
)
from planforge.documents.index import index_view
from planforge.facts import compute_facts
from planforge.i18n import translator
from planforge.outputs import FileRecord, Manifest, ProjectRecord
from planforge.validate import load_project
from planforge.workspace import Workspace, find_workspace

from .conftest import AS_OF, REPO, WEEK
from .gitplans import Repo, changed, isolate_git, milestone, plan, update


@pytest.fixture
def ws() -> Workspace:
    return find_workspace(REPO)


def _row(ws: Workspace, pid: str) -> DashboardRow:
    project = load_project(ws, pid, AS_OF)[0]
    facts = compute_facts(project, AS_OF, ws.settings)
    return dashboard_row(facts, [TrendPoint(WEEK, facts.health.level, facts.health.reported)])


def test_a_row_shows_what_sales_may_see(ws: Workspace) -> None:
    globex = _row(ws, "globex-portal")
    # Its highest open risk is internal (staffing): the row names the next one instead.
    assert globex.top_risk == "Globex's ERP order API throttles order-history requests"
    assert globex.top_risk_level == "medium"
    assert globex.sales == ("Jonas Weber",) and globex.coordinator == "Maya Chen"
    acme = _row(ws, "acme-crm")
    assert acme.next_date == CustomerDate(
        "Build complete, solution walkthrough with Acme key users", date(2026, 12, 15), 11,
        "slipping")
    assert len(acme.asks) == 3
    # Six weeks ahead: 15 December is in, nothing past 1 January.
    assert [d.expected for d in acme.upcoming] == [date(2026, 12, 15)]
    assert all(d.expected <= date(2027, 1, 1) for d in _row(ws, "xinghe-market-push").upcoming)


def test_a_row_survives_the_manifest_and_a_damaged_one_is_dropped(ws: Workspace) -> None:
    row = _row(ws, "acme-crm")
    assert row_from_json(json.loads(json.dumps(row_json(row)))) == row
    broken = row_json(row)
    del broken["trend"]
    assert row_from_json(broken) is None
    assert row_from_json("not a row") is None


def _manifest() -> Manifest:
    def row(sales: str, computed: str, upcoming: tuple[CustomerDate, ...]) -> DashboardRow:
        return DashboardRow(
            "active", computed == "red", (sales,), "Cora Ordinator",
            (TrendPoint("2026-W46", "green", "green"), TrendPoint(WEEK, computed, "green")),
            upcoming[0] if upcoming else None, upcoming, ("Call the customer",),
            "Data is late", "high")

    soon = CustomerDate("Go-live", date(2026, 12, 1), 5, "slipping")
    late = CustomerDate("Training", date(2027, 3, 1), 0)  # beyond six weeks
    files = {name: FileRecord(source, "x", "y", 1, 1) for name, source in (
        ("alpha/charter.md", "alpha"), (f"alpha/briefs/{WEEK}.md", "alpha"),
        (f"alpha/briefs/{WEEK}.pdf", "alpha"), ("alpha/briefs/2026-W46.md", "alpha"),
        ("alpha/calendar.ics", "alpha"), ("beta/charter.md", "beta"),
        (f"portfolio/sam@example.com/{WEEK}.md", "portfolio/sam@example.com"),
        ("calendars/sam@example.com.ics", "calendars/sam@example.com.ics"))}
    return Manifest(files, {
        "alpha": ProjectRecord("h", "Alpha", "Acme", "red", "green", True,
                               dashboard=row("Sam Seller", "red", (soon, late))),
        "beta": ProjectRecord("h", "Beta", "Beta Ltd", "green", "green", True,
                              dashboard=row("Sue Seller", "green", ()))})


def test_the_view_comes_from_the_manifest_alone() -> None:
    view = index_view(["alpha", "beta", "gamma"], _manifest(), WEEK, AS_OF,
                      translator("en"))
    assert view.sales == ("Sam Seller", "Sue Seller")
    assert view.customers == ("Acme", "Beta Ltd")
    assert [(d.project_id, d.milestone) for d in view.upcoming] == [("alpha", "Go-live")]
    alpha, _, gamma = view.projects
    assert alpha.watermelon and alpha.next_slip == 5
    assert [w.week for w in alpha.weeks] == ["", WEEK, "2026-W46"]
    assert [d.kind for d in alpha.weeks[0].documents] == ["charter", "calendar"]
    assert [link.href for link in alpha.weeks[1].documents[0].links] == [
        f"alpha/briefs/{WEEK}.md", f"alpha/briefs/{WEEK}.pdf"]
    assert alpha.trend_text == "2026-W46: Green, 2026-W47: Red"
    assert "<svg" in alpha.trend and 'stroke="#b3261e"' in alpha.trend  # a red dot
    assert gamma.computed is None and gamma.weeks == ()  # never built: shown as such
    (sam,) = view.portfolios
    assert [w.week for w in sam.weeks] == ["", WEEK]


def _page(tmp_path: Path, locale: str = "en") -> str:
    root = tmp_path / "ws"
    (root / "projects").mkdir(parents=True)
    for pid in ("alpha", "beta"):
        (root / "projects" / pid).mkdir()
        (root / "projects" / pid / "project.yaml").write_text("# not read\n", "utf-8")
    (root / "planforge.yaml").write_text(f"locale: {locale}\n", "utf-8")
    ws = find_workspace(root)
    write_index(ws, _manifest(), AS_OF, WEEK)
    return (ws.output_dir / "index.html").read_text("utf-8")


def test_the_page_filters_in_itself_and_fetches_nothing(tmp_path: Path) -> None:
    page = _page(tmp_path)
    assert "<h1>Portfolio dashboard</h1>" in page
    assert '<option>Sam Seller</option>' in page and '<option>Acme</option>' in page
    assert ('data-sales="Sam Seller" data-coordinator="Cora Ordinator" data-health="red" '
            'data-watermelon="1" data-next="2026-12-01" data-slip="5"') in page
    assert "2 of 2 projects" in page and "Customer dates until 1 Jan 2027" in page
    assert '<a href="#p-alpha">Alpha</a>' in page  # the upcoming date links to its row
    assert "Training" not in page  # more than six weeks ahead
    assert '<span class="badge slipping">Slipping</span>' in page
    # No server, nothing from elsewhere: one inline script, no external address.
    assert page.count("<script") == 1 and "<script src" not in page
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', page)


def test_the_page_speaks_the_workspace_language(tmp_path: Path) -> None:
    page = _page(tmp_path, "zh-CN")
    assert "<h1>项目组合看板</h1>" in page
    assert "显示 2 / 2 个项目" in page and "首要风险" in page
    assert "Portfolio dashboard" not in page and "Top risk" not in page


@pytest.mark.slow
def test_the_index_is_remade_from_the_manifest_with_the_same_bytes(examples: Path) -> None:
    ws = find_workspace(examples)
    build_workspace(ws, BuildOptions(as_of=AS_OF, week=WEEK, formats=("md", "html")))
    out = examples / "output"
    built = (out / "index.html").read_bytes()
    links = re.findall(r'href="([^"#][^"]*)"', built.decode())
    assert len(links) > 20
    assert all((out / link).is_file() for link in links)
    # What a merge of shards does: the manifest alone, moved elsewhere, makes the same page.
    copy = examples.parent / "copy"
    shutil.copytree(examples / "projects", copy / "projects")
    shutil.copy(examples / "planforge.yaml", copy)
    (copy / "output").mkdir()
    shutil.copy(out / "manifest.json", copy / "output")
    other = find_workspace(copy)
    write_index(other, Manifest.load(other.output_dir), AS_OF, WEEK)
    assert (copy / "output" / "index.html").read_bytes() == built


@pytest.mark.slow
def test_the_trend_reads_past_weeks_from_the_plan_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = isolate_git(monkeypatch, tmp_path)
    repo = Repo.create(tmp_path / "repo", home)
    first = plan()
    repo.write_project("demo", first)
    repo.write_update("demo", update("2020-W07", "green"))
    repo.commit("kickoff", when="2020-02-14T12:00:00+01:00")
    slipped = changed(first)
    milestone(slipped, "m-demo")["forecast"] = "2020-04-06"  # customer-facing, five weeks late
    repo.write_project("demo", slipped)
    repo.write_update("demo", update("2020-W09", "green"))
    repo.commit("the demo moves", when="2020-02-28T12:00:00+01:00")
    ws = find_workspace(repo.ws)
    report = build_workspace(ws, BuildOptions(as_of=date(2020, 3, 13), week="2020-W11",
                                              formats=("md",)))
    assert report.failed == []
    record = Manifest.load(ws.output_dir).projects["demo"]
    assert record.dashboard is not None
    trend = [(p.week, p.computed, p.reported) for p in record.dashboard.trend]
    # Nothing before the first commit; green while the plan was on time, red since the slip.
    assert trend == [("2020-W07", "green", "green"), ("2020-W08", "green", "green"),
                     ("2020-W09", "red", "green"), ("2020-W10", "red", "green"),
                     ("2020-W11", "red", "green")]
