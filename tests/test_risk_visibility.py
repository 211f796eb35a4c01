"""Internal risks: kept from everything a sales person or the customer reads, kept (and marked)
in the charter and the retrospective."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from planforge.audience import sales_changes, sales_facts
from planforge.changes import diff_projects
from planforge.documents.pipeline import render_document, render_email, render_portfolio
from planforge.facts import compute_facts
from planforge.feeds import sales_calendar
from planforge.i18n import translator
from planforge.model import Project
from planforge.notify import summarize
from planforge.sendpolicy import brief_content
from planforge.validate import load_project
from planforge.workspace import Workspace, find_workspace

from .conftest import REPO

AS_OF = date(2026, 11, 20)
INTERNAL = "Only one front-end developer"


@pytest.fixture
def ws() -> Workspace:
    return find_workspace(REPO)


@pytest.fixture
def globex(ws: Workspace) -> Project:
    return load_project(ws, "globex-portal", AS_OF)[0]


def test_sales_documents_leave_the_internal_risk_out(ws: Workspace, globex: Project) -> None:
    facts = compute_facts(globex, AS_OF, ws.settings)
    assert facts.top_risks[0].risk.title.startswith(INTERNAL)  # the highest score of the plan
    for fmt in ("md", "html"):
        brief = render_document(ws, globex, "brief", AS_OF, fmt).decode()
        assert INTERNAL not in brief
        assert "refreshed every 15 minutes, so it stays fast" in brief  # the next risk's message
    portfolio = render_portfolio(ws, "jonas.weber@example.com",
                                 [globex, load_project(ws, "acme-crm", AS_OF)[0]], AS_OF, "md")
    assert INTERNAL not in portfolio.decode()
    text, html = render_email(ws, [facts], facts.week, "en", "brief.pdf")
    assert INTERNAL not in text and INTERNAL not in html
    assert INTERNAL not in sales_calendar(ws, "jonas.weber@example.com", AS_OF).decode()
    # The chat post names the top risk sales may see, as the brief does.
    post = summarize(facts, translator("en"), facts.week, link=None)
    assert INTERNAL not in post.risk and "ERP" in post.risk


def test_editing_an_internal_risk_is_no_reason_to_send_the_brief_again(globex: Project) -> None:
    week = "2026-W47"
    edited = replace(globex, risks=tuple(
        replace(r, mitigation="Second developer from the pool") if r.internal else r
        for r in globex.risks))
    assert brief_content(edited, week) == brief_content(globex, week)
    shared = replace(globex, risks=tuple(
        replace(r, mitigation="Weekly check with the ERP team") if not r.internal else r
        for r in globex.risks))
    assert brief_content(shared, week)["risks"] != brief_content(globex, week)["risks"]


def test_charter_keeps_the_internal_risk_marked(ws: Workspace, globex: Project) -> None:
    md = render_document(ws, globex, "charter", AS_OF, "md").decode()
    assert f"**{INTERNAL}; an absence in December stops release 3** (Personnel · Internal)" in md
    html = render_document(ws, globex, "charter", AS_OF, "html").decode()
    assert INTERNAL in html and "<strong>Internal</strong>" in html


def test_retrospective_keeps_the_internal_risk_marked(ws: Workspace) -> None:
    project, _ = load_project(ws, "northwind-pipeline-revamp", AS_OF)
    risks = tuple(replace(r, visibility="internal") if r.id == "r-quarter-end" else r
                  for r in project.risks)
    md = render_document(ws, replace(project, risks=risks), "retro", AS_OF, "md").decode()
    assert "Quarter-end closing takes managers away from the rollout (Internal)" in md


def critical(project: Project, risk_id: str) -> Project:
    """The project with one risk internal, open and critical."""
    return replace(project, risks=tuple(
        replace(r, visibility="internal", likelihood=5, impact=4, status="open")
        if r.id == risk_id else r for r in project.risks))


def test_a_critical_internal_risk_keeps_health_but_is_not_named(
    ws: Workspace, globex: Project
) -> None:
    project = critical(globex, "r-one-frontend-dev")
    facts = compute_facts(project, AS_OF, ws.settings)
    seen = sales_facts(facts)
    assert seen.health.level == facts.health.level == "amber"
    assert [r.code for r in seen.health.reasons] == ["internal-risk-open"]
    assert all(not r.risk.internal for r in seen.risks)
    assert not any("r-one-frontend-dev" in cell for row in seen.heatmap.cells for cell in row)
    assert any(r.id == "r-one-frontend-dev" for r in facts.project.risks)
    assert all(r.id != "r-one-frontend-dev" for r in seen.project.risks)
    brief = render_document(ws, project, "brief", AS_OF, "md", facts=facts).decode()
    assert "An internal critical risk is open" in brief and INTERNAL not in brief


def test_since_last_week_leaves_internal_risks_out(ws: Workspace, globex: Project) -> None:
    before = replace(globex, risks=tuple(r for r in globex.risks
                                         if r.id != "r-one-frontend-dev"))
    changes = diff_projects(before, globex)
    added = [c for c in changes if c.kind == "risk-added"]
    assert [c.subject_id for c in added] == ["r-one-frontend-dev"] and added[0].internal
    assert not any(c.kind.startswith("risk-") for c in sales_changes(changes))
    brief = render_document(ws, globex, "brief", AS_OF, "md", changes=changes).decode()
    assert INTERNAL not in brief
    removed = diff_projects(globex, before)
    assert [c.internal for c in removed if c.kind == "risk-removed"] == [True]


def test_the_validate_warning_looks_past_internal_risks(ws: Workspace, globex: Project) -> None:
    # The top risk sales reads in globex is the ERP one, which has a customer message: no warning
    # about the internal risk above it, which has none.
    _, warnings = load_project(ws, "globex-portal", AS_OF)
    assert not any("customer_message" in w.message for w in warnings)
