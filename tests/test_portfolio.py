"""The portfolio brief: its one-page overview (what it says, in both languages) and its pages
(the overview and the briefs take no more paper than the briefs alone)."""

from __future__ import annotations

import io
import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from planforge.audience import recipients
from planforge.documents import render_document, render_portfolio
from planforge.model import Project
from planforge.outputs import portfolio_stem
from planforge.validate import load_project
from planforge.workspace import Workspace, find_workspace

from .conftest import AS_OF, copy_examples


def _workspace(root: Path) -> Workspace:
    return find_workspace(copy_examples(root))


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The example workspace, only read."""
    return _workspace(tmp_path_factory.mktemp("ws"))


@pytest.fixture(scope="module")
def zh_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The example workspace with a second Chinese project of the same sales person, so that
    she receives a Chinese portfolio brief."""
    root = tmp_path_factory.mktemp("zh")
    _workspace(root)
    shutil.copytree(root / "projects" / "xinghe-market-push", root / "projects" / "xinghe-west")
    plan = root / "projects" / "xinghe-west" / "project.yaml"
    text = plan.read_text("utf-8")
    text = text.replace("name: 星河科技华东区下半年市场推广项目",
                        "name: 星河科技华西区订货小程序推广", 1)
    text = text.replace("customer: 华东区重点经销商联盟", "customer: 华西区经销商协会", 1)
    plan.write_text(text, "utf-8")
    return find_workspace(root)


def _projects(ws: Workspace, *ids: str) -> list[Project]:
    return [load_project(ws, pid, AS_OF)[0] for pid in ids]


def _overview(md: str) -> list[str]:
    """The overview table's rows, header and rule left out."""
    part = md.split("\n## ", 1)[1].split("<a id=", 1)[0]
    return [line for line in part.splitlines() if line.startswith("| ")][2:]


# --- the overview -------------------------------------------------------------------------


def test_overview_has_one_row_per_project_with_what_sales_needs(ws: Workspace) -> None:
    md = render_portfolio(ws, "jonas.weber@example.com",
                          _projects(ws, "acme-crm", "globex-portal"), AS_OF, "md").decode()
    assert "| Project · customer | Health | Next customer date | Asked of sales | Top risk |" in md
    acme, globex = _overview(md)
    assert acme.startswith("| [Acme CRM rollout](#project-acme-crm) · Acme Manufacturing GmbH |")
    assert "| Reported 🟠 Amber · Computed 🟠 Amber |" in acme
    # The next customer date, and how far it slips.
    assert ("**15 Dec 2026** Build complete, solution walkthrough with Acme key users · "
            "Slipping (+11 days)") in acme
    # The oldest two of the three open asks, the one carried over marked; the third is counted.
    assert ("Ask Acme's works council chair for a date to present the role and visibility "
            "concept before Christmas (Due 20 Nov 2026 · open for 1 week, since 2026-W46); "
            "Remind the two regional sales managers") in acme
    assert acme.count("; ") == 2 and "; and 1 more in the brief |" in acme
    assert ("| Legacy customer data is in worse shape than the sample suggested · 🟠 High 16 · "
            "Sofia Lind |") in acme
    assert "· On track |" in globex
    assert "and 1 more" not in globex


def test_overview_html_links_each_row_to_its_brief(ws: Workspace) -> None:
    html = render_portfolio(ws, "jonas.weber@example.com",
                            _projects(ws, "acme-crm", "globex-portal"), AS_OF, "html").decode()
    overview = html.split('<table class="overview">', 1)[1].split("</table>", 1)[0]
    for pid in ("acme-crm", "globex-portal"):
        assert f'<a href="#project-{pid}">' in overview
        assert f'<section class="project-brief" id="project-{pid}"' in html
    assert overview.count('<th scope="col">') == 5
    assert '<span class="badge high">High</span>' in overview
    # No forced page break: the briefs follow the overview and each other.
    assert '<div class="page-break">' not in html


def test_a_stale_update_is_dated_in_the_overview(ws: Workspace) -> None:
    # A week later nobody has written the W48 update yet: the health reported is W47's.
    later = AS_OF + timedelta(days=7)
    projects = [load_project(ws, pid, later)[0] for pid in ("acme-crm", "globex-portal")]
    md = render_portfolio(ws, "jonas.weber@example.com", projects, later, "md").decode()
    for row in _overview(md):
        assert "Reported 🟢" in row or "Reported 🟠" in row
        assert "(as reported in 2026-W47)" in row
    current = render_portfolio(ws, "jonas.weber@example.com",
                               _projects(ws, "acme-crm", "globex-portal"), AS_OF, "md").decode()
    assert "as reported in" not in "".join(_overview(current))


def test_chinese_overview_is_all_chinese(zh_ws: Workspace) -> None:
    projects = _projects(zh_ws, "xinghe-market-push", "xinghe-west")
    md = render_portfolio(zh_ws, "zhao.min@example.cn", projects, AS_OF, "md").decode()
    assert "| 项目 · 客户 | 健康状况 | 下一个客户日期 | 需要销售支持的事项 | 首要风险 |" in md
    rows = _overview(md)
    assert len(rows) == 2
    assert rows[0].startswith("| [星河科技华东区下半年市场推广项目](#project-xinghe-market-push) · "
                              "华东区重点经销商联盟 | 报告 🟢 绿色 · 计算 🟢 绿色 |")
    assert "（截止日期 2026年11月20日 · 自 2026-W46 起待处理，已 1 周）" in rows[0]
    assert "另有 1 项，详见周报" in rows[0]
    assert re.search(r"[A-Za-z]{4,}", re.sub(r"\(#project-[\w-]+\)|\d{4}-W\d\d", "",
                                             "".join(rows))) is None


def test_mixed_languages_overview_speaks_the_portfolio_language(ws: Workspace) -> None:
    # An English and a Chinese project: the portfolio is in the workspace's language, and so
    # is every sentence of its overview, while each brief keeps its project's language.
    projects = _projects(ws, "acme-crm", "xinghe-market-push")
    md = render_portfolio(ws, "jonas.weber@example.com", projects, AS_OF, "md").decode()
    _acme, xinghe = _overview(md)
    assert "(Due 20 Nov 2026 · open for 1 week, since 2026-W46)" in xinghe
    assert "Reported 🟢 Green" in xinghe
    assert "# 星河科技华东区下半年市场推广项目 — 销售周报" in md


# --- pages --------------------------------------------------------------------------------


def _pages(data: bytes) -> list[str]:
    pypdf = pytest.importorskip("pypdf")
    reader: Any = pypdf.PdfReader(io.BytesIO(data))
    return [page.extract_text() or "" for page in reader.pages]


def _brief_pages(ws: Workspace, projects: list[Project]) -> int:
    return sum(len(_pages(render_document(ws, p, "brief", AS_OF, "pdf"))) for p in projects)


@pytest.mark.pdf
def test_every_portfolio_takes_no_more_pages_than_its_briefs(ws: Workspace) -> None:
    projects = [load_project(ws, pid, AS_OF)[0] for pid in ws.project_ids()]
    portfolios = [r for r in recipients(projects, AS_OF) if r.portfolio]
    assert [r.key for r in portfolios] == ["jonas.weber@example.com"]
    for r in portfolios:
        shown = list(r.projects)
        pages = _pages(render_portfolio(ws, r.address, shown, AS_OF, "pdf"))
        assert len(pages) <= _brief_pages(ws, shown) == 4
        # The overview opens the first page, and the first brief starts right under it.
        first = re.sub(r"\s", "", pages[0])  # a name may wrap in its cell
        assert first.index("Yourprojectsataglance") < first.index("Coordinator:AnnaKeller")
        assert "AcmeCRMrollout" in first and "Globextradeportalrefresh" in first


@pytest.mark.pdf
def test_chinese_portfolio_pages(zh_ws: Workspace) -> None:
    projects = _projects(zh_ws, "xinghe-market-push", "xinghe-west")
    pages = _pages(render_portfolio(zh_ws, "zhao.min@example.cn", projects, AS_OF, "pdf"))
    assert len(pages) <= _brief_pages(zh_ws, projects)
    first = re.sub(r"\s", "", pages[0])  # a name may wrap in its cell
    for words in ("您负责的项目概览", "首要风险", "另有1项，详见周报",
                  "星河科技华西区订货小程序推广", "沟通协调人：王立"):
        assert words in first, words


def _portfolio_md(out: Path) -> list[Path]:
    return sorted(out.glob("portfolio/*/*.md"))


def test_a_build_prints_each_brief_body_once(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The portfolio brief prints the body its project's brief rendered, in the same build,
    instead of rendering it again; the result is the portfolio rendered on its own."""
    from planforge import render
    from planforge.build import BuildOptions, build_workspace
    from planforge.dates import iso_week

    ws = _workspace(tmp_path)
    rendered: list[str] = []
    real = render.render_template

    def counted(env: Any, name: str, context: dict[str, Any]) -> str:
        rendered.append(name)
        return real(env, name, context)

    monkeypatch.setattr("planforge.documents.pipeline.render_template", counted)
    report = build_workspace(ws, BuildOptions(as_of=AS_OF, week=iso_week(AS_OF),
                                              formats=("md",), jobs=1))
    assert report.failed == []
    briefs = sorted(ws.output_dir.glob(f"*/briefs/{iso_week(AS_OF)}.md"))
    assert len(briefs) == 4 and rendered.count("brief.md.j2") == 0
    assert rendered.count("partials/brief_body.md.j2") == len(briefs)  # once per project
    people = [r for r in recipients(_projects(ws, *ws.project_ids()), AS_OF) if r.portfolio]
    assert people and len(_portfolio_md(ws.output_dir)) == len(people)
    for person in people:
        built = ws.output_dir / f"{portfolio_stem(person.address, iso_week(AS_OF))}.md"
        alone = render_portfolio(ws, person.address, list(person.projects), AS_OF, "md")
        assert built.read_bytes() == alone


def test_an_overridden_brief_template_stays_out_of_the_portfolio(tmp_path: Path) -> None:
    """A workspace's own brief.md.j2 shapes the project's brief; the portfolio prints the body
    partial, as it always did, and the brief is rendered from the override."""
    from planforge.build import BuildOptions, build_workspace
    from planforge.dates import iso_week

    ws = _workspace(tmp_path)
    ws.templates_dir.mkdir(exist_ok=True)
    (ws.templates_dir / "brief.md.j2").write_text(
        'OVERRIDDEN BRIEF\n\n{% include "partials/brief_body.md.j2" %}\n', "utf-8")
    build_workspace(ws, BuildOptions(as_of=AS_OF, week=iso_week(AS_OF), formats=("md",),
                                     jobs=1))
    brief = ws.output_dir / "acme-crm" / "briefs" / f"{iso_week(AS_OF)}.md"
    assert brief.read_text("utf-8").startswith("OVERRIDDEN BRIEF\n")
    portfolios = _portfolio_md(ws.output_dir)
    assert portfolios and all("OVERRIDDEN" not in p.read_text("utf-8") for p in portfolios)
