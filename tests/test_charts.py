"""The SVG charts: well-formed, escaped, labelled in words, and naming the Chinese font."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date

import pytest

from planforge import charts
from planforge.facts import ProjectFacts, compute_facts
from planforge.i18n import translator
from planforge.model import Project
from planforge.validate import load_project
from planforge.workspace import find_workspace

from .conftest import AS_OF, REPO

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def acme() -> tuple[Project, ProjectFacts]:
    ws = find_workspace(REPO)
    project, _ = load_project(ws, "acme-crm", AS_OF)
    return project, compute_facts(project, AS_OF, ws.settings)


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_gantt_has_phases_milestones_today_and_a_legend(
        acme: tuple[Project, ProjectFacts]) -> None:
    project, facts = acme
    svg = charts.gantt(facts.phases, AS_OF, translator("en"), "#1f4e79", project.start,
                       project.end)
    words = texts(svg)
    assert "Build" in words
    assert "Today, 20 Nov" in words
    # The slipped milestone carries its day count in words beside its colour.
    assert "+11 days" in words
    assert "Baseline (agreed date)" in words and "Forecast or actual" in words


def test_every_chart_is_xml_and_escapes_text(acme: tuple[Project, ProjectFacts]) -> None:
    project, facts = acme
    phase = facts.phases[0]
    evil = replace(phase, phase=replace(phase.phase, name='<script>alert("x")</script> & co'))
    tr = translator("en")
    svgs = [
        charts.gantt((evil, *facts.phases[1:]), AS_OF, tr, "#1f4e79", project.start, project.end),
        charts.heatmap(facts.heatmap, {"r-legacy-data": "R2"}, tr),
        charts.goal_bars(facts.goals, tr),
        charts.health_strip([charts.HealthWeek("2026-W46", "amber"),
                             charts.HealthWeek("2026-W47", None)], tr),
        charts.variance(facts.milestones, tr),
    ]
    for svg in svgs:
        ET.fromstring(svg)  # well-formed
        assert "<script>" not in svg
    assert "&lt;script&gt;" in svgs[0]


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_font_list_names_the_simplified_chinese_face_unquoted(locale: str) -> None:
    svg = charts.health_strip([charts.HealthWeek("2026-W47", "green")], translator(locale))
    family = ET.fromstring(svg).get("font-family") or ""
    assert "Noto Sans CJK SC" in family
    # WeasyPrint's SVG renderer does not unquote names inside a list.
    assert "'" not in family and '"' not in family
    if locale == "zh-CN":
        assert family.startswith("Noto Sans CJK SC")


def test_heatmap_shows_risk_numbers_scores_and_level_names(
        acme: tuple[Project, ProjectFacts]) -> None:
    _, facts = acme
    numbers = {r.risk.id: f"R{i}" for i, r in enumerate(facts.risks, start=1)}
    words = texts(charts.heatmap(facts.heatmap, numbers, translator("zh-CN")))
    assert "R2 R3" in words  # legacy data and UAT window share likelihood 4, impact 4
    assert {"极高", "高", "中", "低"} <= set(words)
    assert "25" in words  # every cell is lettered with its score


def test_health_strip_letters_each_cell() -> None:
    weeks = [charts.HealthWeek(f"2026-W{n}", h) for n, h in
             ((44, "green"), (45, "amber"), (46, None), (47, "red"))]
    words = texts(charts.health_strip(weeks, translator("en")))
    assert words == ["G", "W44", "A", "W45", "–", "W46", "R", "W47"]
    assert "绿" in texts(charts.health_strip(weeks, translator("zh-CN")))


def test_goal_bars_say_state_and_expected(acme: tuple[Project, ProjectFacts]) -> None:
    _, facts = acme
    words = texts(charts.goal_bars(facts.goals, translator("en")))
    assert any(w.startswith("On track · ") and w.endswith("expected") for w in words)
    # Case times are measured from go-live: the chart says when, not how far behind.
    assert "Measured from 19 Feb 2027" in words  # go-live, moved by the build slip


def test_variance_writes_days_beside_bars(acme: tuple[Project, ProjectFacts]) -> None:
    _, facts = acme
    words = texts(charts.variance(facts.milestones, translator("en")))
    assert "+4 days" in words  # the design sign-off, four days late
    assert "−1 day" in words
    assert "On time" in words


def test_fit_shortens_by_width_counting_wide_characters() -> None:
    assert charts.fit("short", 100, 10) == "short"
    assert charts.fit("a" * 100, 60, 10).endswith("…")
    long_zh = charts.fit("星河科技华东区下半年市场推广项目", 60, 10)
    assert long_zh.endswith("…") and charts.text_width(long_zh, 10) <= 60


def test_dates_do_not_break_the_month_axis() -> None:
    assert charts._months(date(2026, 11, 20), date(2027, 2, 3)) == [
        date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]
