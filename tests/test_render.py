"""Rendering Markdown and HTML: golden files of every example document, escaping, template
overrides and template errors."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planforge.documents import render_document, render_formats, render_portfolio
from planforge.errors import InvalidFilesError, RenderError, TemplateError
from planforge.model import Project
from planforge.render import escape_markdown, escape_mermaid
from planforge.validate import load_project
from planforge.workspace import Workspace, find_workspace

from .conftest import AS_OF, REPO, CheckGolden, RunCli, copy_examples

GOLDEN = Path(__file__).parent / "golden" / "documents"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """One copy of the example workspace for the whole module: the golden tests only read it."""
    root = tmp_path_factory.mktemp("ws")
    return find_workspace(copy_examples(root))


def _projects() -> list[str]:
    return find_workspace(REPO).project_ids()


def _documents() -> Iterator[tuple[str, str]]:
    ws = find_workspace(REPO)
    for pid in ws.project_ids():
        yield pid, "charter"
        yield pid, "brief"
        if (ws.project_dir(pid) / "retrospective.yaml").is_file():
            yield pid, "retro"


def _recipients() -> list[str]:
    ws = find_workspace(REPO)
    found: set[str] = set()
    for pid in ws.project_ids():
        project, _ = load_project(ws, pid, AS_OF)
        if project.status == "active":
            found |= {p.email.lower() for p in project.people.values() if p.brief and p.email}
    return sorted(found)


_STYLESHEET = re.compile(r"(<style>).*?(</style>)", re.S)


def _content(document: bytes) -> str:
    # Every standalone HTML embeds the same stylesheet: the golden files keep the documents'
    # content, so that a style change does not rewrite each of them (test_stylesheet_embedded
    # checks that the stylesheet is there).
    return _STYLESHEET.sub(r"\1 … \2", document.decode("utf-8"))


@pytest.mark.parametrize(("project_id", "kind"), list(_documents()))
def test_golden_documents(ws: Workspace, project_id: str, kind: str,
                          check_golden: CheckGolden) -> None:
    project, _ = load_project(ws, project_id, AS_OF)
    rendered = render_formats(ws, project, kind, AS_OF, ["md", "html"])
    for fmt, data in rendered.items():
        check_golden(GOLDEN / project_id / f"{kind}.{fmt}", _content(data))


def _mine(ws: Workspace, email: str) -> list[Project]:
    projects = [load_project(ws, pid, AS_OF)[0] for pid in ws.project_ids()]
    return [p for p in projects if p.status == "active"
            and any((x.email or "").lower() == email for x in p.people.values())]


@pytest.mark.parametrize("email", _recipients())
def test_golden_portfolios(ws: Workspace, email: str, check_golden: CheckGolden) -> None:
    projects = _mine(ws, email)
    for fmt in ("md", "html"):
        data = render_portfolio(ws, email, projects, AS_OF, fmt)
        check_golden(GOLDEN / "portfolio" / f"{email}.{fmt}", _content(data))


def test_same_input_same_bytes(ws: Workspace) -> None:
    project, _ = load_project(ws, "xinghe-market-push", AS_OF)
    first = render_formats(ws, project, "charter", AS_OF, ["md", "html"])
    assert render_formats(ws, project, "charter", AS_OF, ["md", "html"]) == first


def test_chinese_documents_are_in_chinese(ws: Workspace) -> None:
    project, _ = load_project(ws, "xinghe-market-push", AS_OF)
    md = render_document(ws, project, "brief", AS_OF, "md").decode()
    assert "# 星河科技华东区下半年市场推广项目 — 销售周报" in md
    assert "截至 2026年11月20日" in md
    for english in ("Summary", "Week", "Health", "as of", "Asked of sales", "days"):
        assert english not in md
    html = render_document(ws, project, "charter", AS_OF, "html").decode()
    assert '<html lang="zh-CN">' in html
    assert "签字确认" in html


def test_watermelon_is_called_out_with_its_reasons(examples: Path) -> None:
    update = examples / "projects" / "acme-crm" / "updates" / "2026-W47.yaml"
    update.write_text(re.sub(r"^health: amber.*$", "health: green", update.read_text("utf-8"),
                             flags=re.M), "utf-8")
    ws = find_workspace(examples)
    project, _ = load_project(ws, "acme-crm", AS_OF)
    out = render_formats(ws, project, "brief", AS_OF, ["md", "html"])
    md, html = out["md"].decode(), out["html"].decode()
    assert "| 🟢 Green | 🟠 Amber |" in md
    assert "> ⚠️ **Reported Green, but the plan says Amber.**" in md
    assert "> - Milestone “Build complete, solution walkthrough with Acme key users” is " \
           "forecast +11 days after its baseline" in md
    assert '<div class="callout red">' in html


def test_brief_without_history_says_so_in_one_line(ws: Workspace) -> None:
    project, _ = load_project(ws, "acme-crm", AS_OF)
    md = render_document(ws, project, "brief", AS_OF, "md").decode()
    assert "Changes since last week are not shown" in md


def test_since_last_week_comes_right_under_the_health(ws: Workspace) -> None:
    project, _ = load_project(ws, "acme-crm", AS_OF)
    out = render_formats(ws, project, "brief", AS_OF, ["md", "html"], [])
    md, html = out["md"].decode(), out["html"].decode()
    assert md.index("| Health reported by the team") < md.index("## Since last week") \
        < md.index("## Summary")
    assert html.index('<div class="cards">') < html.index("The plan has not changed") \
        < html.index("<h2>Summary</h2>")


def test_brief_shows_occurred_risks_as_issues_with_their_customer_message(ws: Workspace) -> None:
    project, _ = load_project(ws, "acme-crm", AS_OF)
    out = render_formats(ws, project, "brief", AS_OF, ["md", "html"])
    md, html = out["md"].decode(), out["html"].decode()
    issues = md.split("## Issues: risks that have happened\n")[1].split("\n## ")[0]
    assert ("| Acme's SAP test system is not available when interface testing starts | "
            "Marco Rossi | Thanks to your IT team the SAP test system is now live; we are testing "
            "with real orders and invoices; go-live follows the walkthrough to 19 February. |"
            ) in issues
    top_risks = md.split("## Top risks\n")[1].split("\n## ")[0]
    assert "SAP test system" not in top_risks
    assert md.index("## Issues") < md.index("## Top risks")
    assert "<h2>Issues: risks that have happened</h2>" in html
    assert "Thanks to your IT team the SAP test system is now live" in html
    # A project where nothing has happened has no such section.
    globex, _ = load_project(ws, "globex-portal", AS_OF)
    assert "Issues" not in render_document(ws, globex, "brief", AS_OF, "md").decode()


def test_asks_carry_over_with_how_long_they_are_open(ws: Workspace) -> None:
    project, _ = load_project(ws, "acme-crm", AS_OF)
    md = render_document(ws, project, "brief", AS_OF, "md").decode()
    asks = md.split("## Asked of sales\n")[1].split("\n## ")[0]
    # Asked in W46 with an id and not repeated in W47: still open, oldest first.
    assert [line.split(" | ")[0] for line in asks.splitlines() if line.startswith("| ")][2:] == [
        "| Ask Acme's works council chair for a date to present the role and visibility concept "
        "before Christmas — _open for 1 week, since 2026-W46_",
        "| Remind the two regional sales managers (North and Benelux) to confirm their cleansing "
        "lists",
        "| Confirm attendance of Dr. Brandt and the regional managers at the walkthrough on 15 "
        "December",
    ]
    # Marked done in W46, and the asks of W45 without an id, are gone.
    assert "still works for Acme's sales kickoff" not in md


@pytest.mark.parametrize(("project_id", "banner", "tile"), [
    ("acme-crm", "> ⚠️ **No update for 2026-W49 — the reported health and summary below are "
                 "from 2026-W47.**", "| 🟠 Amber (as reported in 2026-W47) |"),
    ("xinghe-market-push", "> ⚠️ **2026-W49 的周报尚未提交——以下团队报告的健康状况和摘要来自 "
                           "2026-W47 的周报。**", "（2026-W47 周报所报）"),
])
def test_a_week_without_an_update_says_so_in_the_masthead(ws: Workspace, project_id: str,
                                                          banner: str, tile: str) -> None:
    as_of = date(2026, 12, 4)  # 2026-W49: the last update is of 2026-W47
    project, _ = load_project(ws, project_id, as_of)
    out = render_formats(ws, project, "brief", as_of, ["md", "html"])
    md, html = out["md"].decode(), out["html"].decode()
    assert banner in md and tile in md
    assert md.index(banner) < md.index("| --- |")  # above the health tiles
    header = html.split("</header>")[0]
    assert f'<p class="alert" role="alert">⚠ {banner.split("**")[1]}</p>' in header
    this_week, _ = load_project(ws, project_id, AS_OF)
    for fmt, data in render_formats(ws, this_week, "brief", AS_OF, ["md", "html"]).items():
        assert "2026-W47" in data.decode() and 'class="alert"' not in data.decode(), fmt
        assert "⚠️ **No update" not in data.decode(), fmt


def test_a_project_without_any_update_says_so_in_the_masthead(examples: Path) -> None:
    for update in (examples / "projects" / "globex-portal" / "updates").iterdir():
        update.unlink()
    ws = find_workspace(examples)
    project, _ = load_project(ws, "globex-portal", AS_OF)
    md = render_document(ws, project, "brief", AS_OF, "md").decode()
    assert "> ⚠️ **No update for 2026-W47 — the team has not posted a weekly update yet.**" in md


class _Change:
    """Shaped like planforge.changes.Change: the documents accept any such object."""

    def __init__(self, kind: str, subject: str, old: object, new: object, days: int | None,
                 customer_facing: bool, note: str | None = None, internal: bool = False) -> None:
        self.kind, self.project_id, self.subject_id = kind, "acme-crm", "x"
        self.subject, self.old, self.new, self.days = subject, old, new, days
        self.customer_facing, self.note, self.unit = customer_facing, note, None
        self.internal = internal


def test_brief_lists_changes_customer_facing_first(ws: Workspace) -> None:
    project, _ = load_project(ws, "acme-crm", AS_OF)
    changes = [
        _Change("risk-added", "Key user on leave | *January*", None, None, None, False),
        _Change("milestone-moved", "Go-live", date(2027, 2, 8), date(2027, 2, 15), 7, True,
                "Agreed with Dr. Brandt"),
        _Change("something-new", "Budget", 1, 2, None, False),
    ]
    md = render_document(ws, project, "brief", AS_OF, "md", changes).decode()
    section = md.split("## Since last week")[1].split("## ")[0]
    lines = [line for line in section.splitlines() if line.startswith("- ")]
    assert lines == [
        "- ★ “Go-live” moved from 8 Feb 2027 to 15 Feb 2027 (+7 days) — Agreed with Dr. Brandt",
        "- New risk: “Key user on leave \\| \\*January\\*”",
        "- Budget: 1 → 2",
    ]
    empty = render_document(ws, project, "brief", AS_OF, "md", []).decode()
    assert "The plan has not changed since last week." in empty


def test_portfolio_bundles_the_projects_of_one_person(ws: Workspace) -> None:
    md = render_portfolio(ws, "jonas.weber@example.com", _mine(ws, "jonas.weber@example.com"),
                          AS_OF, "md").decode()
    assert md.startswith("# Portfolio brief — Jonas Weber\n")
    assert "[Acme CRM rollout](#project-acme-crm)" in md
    assert "[Globex trade portal refresh](#project-globex-portal)" in md
    assert md.count("— Weekly sales brief\n") == 2
    with pytest.raises(RenderError, match="no active project"):
        render_portfolio(ws, "nobody@example.com", [], AS_OF, "md")


# --- escaping: text from YAML is data ----------------------------------------------------


EVIL = '<img src="file:///etc/passwd"> {{ 7*7 }} {% raw %} | *bold* [x](http://e.test)'


def _with_evil_summary(root: Path) -> None:
    update = root / "projects" / "acme-crm" / "updates" / "2026-W47.yaml"
    text = update.read_text("utf-8")
    text = re.sub(r"summary: >-\n(?:  .*\n)+", f"summary: '{EVIL}'\n", text)
    update.write_text(text, "utf-8")


def test_yaml_text_is_escaped_never_markup_nor_template(examples: Path) -> None:
    _with_evil_summary(examples)
    ws = find_workspace(examples)
    project, _ = load_project(ws, "acme-crm", AS_OF)
    out = render_formats(ws, project, "brief", AS_OF, ["md", "html"])
    html, md = out["html"].decode(), out["md"].decode()
    assert '&lt;img src=&#34;file:///etc/passwd&#34;&gt; {{ 7*7 }} {% raw %}' in html
    assert "<img" not in html
    assert "49" not in md.split("## Summary")[1].split("##")[0]
    assert ('\\<img src="file:///etc/passwd"\\> {{ 7\\*7 }} {% raw %} \\| \\*bold\\* '
            '\\[x\\](http://e.test)') in md


def test_markdown_escaping() -> None:
    assert escape_markdown("a|b") == "a\\|b"
    assert escape_markdown("line\nbreak") == "line break"
    assert escape_markdown("# not a heading") == "\\# not a heading"
    assert escape_markdown("1. not a list") == "1\\. not a list"
    assert escape_markdown("6.5 days") == "6.5 days"
    assert escape_markdown("[a](b) `c` _d_ <e>") == "\\[a\\](b) \\`c\\` \\_d\\_ \\<e\\>"
    # An entity's '&' is itself written as an entity, so "&amp;" reads as those five characters.
    assert escape_markdown("R&D &amp; Q&A &#38; &#x26;") == "R&D &amp;amp; Q&A &amp;#38; &amp;#x26;"


def test_mermaid_escaping() -> None:
    assert escape_mermaid("Sprint 1: accounts #1; go") == "Sprint 1#58; accounts #35;1#59; go"


# --- template overrides and errors ---------------------------------------------------------


def test_override_extends_the_builtin_and_changes_one_block(examples: Path) -> None:
    (examples / "templates").mkdir()
    (examples / "templates" / "brief.html.j2").write_text(
        '{% extends "builtin:brief.html.j2" %}\n'
        "{% block title %}Our brief {{ v.project.name }}{% endblock %}\n", "utf-8")
    (examples / "templates" / "brief.md.j2").write_text(
        '{% include "builtin:brief.md.j2" %}\n'
        "Custom footer for {{ v.project.customer | md }}\n", "utf-8")
    ws = find_workspace(examples)
    project, _ = load_project(ws, "acme-crm", AS_OF)
    out = render_formats(ws, project, "brief", AS_OF, ["md", "html"])
    html, md = out["html"].decode(), out["md"].decode()
    assert "<title>Our brief Acme CRM rollout</title>" in html
    assert "What to tell the customer" in html  # the rest is the built-in
    assert md.endswith("Custom footer for Acme Manufacturing GmbH\n")
    # Other documents still use the built-ins.
    charter = render_document(ws, project, "charter", AS_OF, "html").decode()
    assert "<title>Acme CRM rollout — Kickoff charter</title>" in charter


def test_workspace_labels_override_the_builtin_ones(examples: Path) -> None:
    (examples / "templates" / "labels").mkdir(parents=True)
    (examples / "templates" / "labels" / "en.yaml").write_text(
        "brief:\n  asks: What we need from you\n", "utf-8")
    ws = find_workspace(examples)
    project, _ = load_project(ws, "acme-crm", AS_OF)
    md = render_document(ws, project, "brief", AS_OF, "md").decode()
    assert "## What we need from you" in md


@pytest.mark.parametrize(("source", "message"), [
    ("line one\n{% if %}\n", r"brief\.md\.j2:2: template syntax error"),
    ("line one\nline two\n{{ no_such_thing.at_all }}\n", r"brief\.md\.j2:3: undefined in template"),
    ("{% include 'partials/nope.md.j2' %}\n", "template not found: partials/nope.md.j2"),
])
def test_template_errors_name_the_template_and_line(examples: Path, source: str,
                                                    message: str) -> None:
    (examples / "templates").mkdir(exist_ok=True)
    (examples / "templates" / "brief.md.j2").write_text(source, "utf-8")
    ws = find_workspace(examples)
    project, _ = load_project(ws, "acme-crm", AS_OF)
    with pytest.raises(TemplateError, match=message):
        render_document(ws, project, "brief", AS_OF, "md")


def test_bad_accent_colour_is_refused(examples: Path) -> None:
    config = examples / "planforge.yaml"
    config.write_text(config.read_text("utf-8").replace(
        'accent: "#1f4e79"', 'accent: "red; } body { display: none"'), "utf-8")
    # Refused with the settings, by validate and every other command, before any document.
    with pytest.raises(InvalidFilesError, match=r"planforge\.yaml:9:11: error: brand\.accent: "
                       r"'red; } body { display: none': expected a CSS colour"):
        find_workspace(examples)


def test_retrospective_needs_its_file(ws: Workspace) -> None:
    project, _ = load_project(ws, "acme-crm", AS_OF)
    with pytest.raises(RenderError, match=r"no retrospective\.yaml"):
        render_document(ws, project, "retro", AS_OF, "md")


# --- the CLI --------------------------------------------------------------------------------


def test_cli_render_markdown_to_stdout(examples: Path, run_cli: RunCli) -> None:
    result = run_cli("render", "brief", "acme-crm", "--week", "2026-W47", cwd=examples)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Acme CRM rollout — Weekly sales brief\n")
    assert "as of 20 Nov 2026" in result.stdout


def test_cli_render_html_to_file_and_portfolio(examples: Path, run_cli: RunCli) -> None:
    out = examples / "charter.html"
    result = run_cli("render", "charter", "acme-crm", "--as-of", "2026-11-20", "--format",
                     "html", "-o", str(out), cwd=examples)
    assert result.exit_code == 0, result.output
    assert out.read_text("utf-8").startswith("<!DOCTYPE html>")
    result = run_cli("render", "portfolio", "Jonas.Weber@example.com", "--week", "2026-W47",
                     cwd=examples)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Portfolio brief — Jonas Weber")


@pytest.mark.parametrize(("args", "code", "message"), [
    (["render", "brief", "no-such-project", "--week", "2026-W47"], 1, "no project 'no-such"),
    (["render", "retro", "acme-crm", "--week", "2026-W47"], 1, "no retrospective.yaml"),
    (["render", "brief", "acme-crm", "--week", "2026-W60"], 2, "not an ISO week"),
    (["render", "portfolio", "acme-crm"], 2, "not an email address"),
    (["render", "portfolio", "nobody@example.com"], 2, "no active project"),
])
def test_cli_render_errors(examples: Path, run_cli: RunCli, args: list[str], code: int,
                           message: str) -> None:
    result = run_cli(*args, cwd=examples)
    assert result.exit_code == code
    assert message in result.output


def test_signoff_names_the_phase_owners_when_no_one_else_answers_for_the_plan(
    tmp_path: Path,
) -> None:
    root = tmp_path / "ws"
    shutil.copytree(Path(__file__).parent / "data" / "base", root)
    plan = root / "projects" / "demo" / "project.yaml"
    text = plan.read_text("utf-8")
    text = re.sub(r"responsibilities:\n.*\ncommunication:\n  coordinator: pm\n  channels: .*\n",
                  "", text)
    plan.write_text(text, "utf-8")
    ws = find_workspace(root)
    project, _ = load_project(ws, "demo", AS_OF)
    assert project.communication is None and not project.responsibilities
    charter = render_document(ws, project, "charter", AS_OF, "md").decode()
    signoff = charter[charter.rindex("| --- |"):]
    assert "Pat Miller" in signoff  # owner of the Discovery phase
    assert "Alex Evans" in signoff and "Chris Client" in signoff


def test_stylesheet_embedded(ws: Workspace) -> None:
    project, _ = load_project(ws, "acme-crm", AS_OF)
    html = render_document(ws, project, "brief", AS_OF, "html").decode()
    css = (REPO / "templates" / "style.css").read_text("utf-8")
    first_rule = next(line for line in css.splitlines() if line.strip().startswith("@page"))
    assert first_rule in html
    assert "&#34;" not in html[html.index("<style>"):html.index("</style>")]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab 1.#-+*_`|<>[]~\\\n\t中文()!{}&;")), max_size=12))
def test_markdown_escaping_fast_path_changes_nothing_it_skips(text: str) -> None:
    from planforge import render

    if render._MD_PLAIN.fullmatch(text):
        folded = render._WHITESPACE.sub(" ", text).strip()
        slow = render._MD_ORDERED.sub(r"\1\\\2", render._MD_LINE_START.sub(
            r"\\\1", render._MD_SPECIAL.sub(r"\\\1", render._MD_ENTITY.sub("&amp;", folded))))
        assert slow == text
