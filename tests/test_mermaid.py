"""The Mermaid gantt blocks: names Mermaid cannot read as commands, axes whose labels do not
repeat. The lexer rules below are those of Mermaid's gantt grammar (gantt.jison), in its order."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from planforge.documents import render_formats
from planforge.facts import axis_step
from planforge.model import Project
from planforge.render import MERMAID_TASK_MARK, escape_mermaid, escape_mermaid_task
from planforge.validate import load_project
from planforge.workspace import find_workspace

from .conftest import AS_OF

#: Names that, written plainly at the start of a gantt line, Mermaid reads as a command or a
#: comment.
MISREAD = (
    "Click here to book",
    "click task1 href \"https://e.test\"",
    "Title of the plan",
    "Section 2 rollout",
    "Excludes weekends",
    "excludes 2026-12-25",
    "Includes holidays",
    "axisFormat %Y",
    "tickInterval 1day",
    "todayMarker on",
    "dateFormat x",
    "inclusiveEndDates",
    "topAxis",
    "weekday monday",
    "weekend friday",
    "accTitle: hijacked",
    "accDescr { hijacked }",
    "gantt",
    "href \"x\"",
    "call alert()",
    "2026-10-01 kickoff",
    "5% price uplift",
    "% done",
    "%%{init: {'theme': 'dark'}}%%",
    "%% comment",
)
#: Names with what Mermaid reads as a directive anywhere in the text, or as the end of a name,
#: or as markup.
HOSTILE = (
    *MISREAD,
    "Pilot %%{init}%% wave",
    "Go: live",
    "# 1 priority",
    "Phase A; Phase B",
    "Line<br>break",
    "Ship `v2`",
    "Tab\tand\nnewline",
    "★ Already starred",
)

#: Mermaid's gantt lexer (gantt.jison), the rules that can match at the start of a line, in
#: order: the first that matches wins. JavaScript's \s includes the non-breaking space, as
#: Python's does.
_LEXER = tuple((re.compile(rule, re.IGNORECASE), token) for rule, token in (
    (r"%%\{", "open_directive"),
    (r"accTitle\s*:\s*", "acc_title"),
    (r"accDescr\s*:\s*", "acc_descr"),
    (r"accDescr\s*\{\s*", "acc_descr_multiline"),
    (r"%%(?!\{)*[^\n]*", "comment"),
    (r"[^}]%%*[^\n]*", "comment"),
    (r"%%*[^\n]*[\n]*", "comment"),
    (r"[\n]+", "NL"),
    (r"\s+", "space"),
    (r"href[\s]+\"", "href"),
    (r"call[\s]+", "call"),
    (r"click[\s]+", "click"),
    (r"gantt", "gantt"),
    (r"dateFormat\s[^#\n;]+", "dateFormat"),
    (r"inclusiveEndDates", "inclusiveEndDates"),
    (r"topAxis", "topAxis"),
    (r"axisFormat\s[^#\n;]+", "axisFormat"),
    (r"tickInterval\s[^#\n;]+", "tickInterval"),
    (r"includes\s[^#\n;]+", "includes"),
    (r"excludes\s[^#\n;]+", "excludes"),
    (r"todayMarker\s[^\n;]+", "todayMarker"),
    (r"weekday\s+\w+", "weekday"),
    (r"weekend\s+\w+", "weekend"),
    (r"\d\d\d\d-\d\d-\d\d", "date"),
    (r"title\s[^\n]+", "title"),
    (r"accDescription\s[^#\n;]+", "accDescription"),
    (r"section\s[^\n]+", "section"),
    (r"[^:\n]+", "taskTxt"),
))


def _tokens(line: str) -> list[str]:
    """The tokens Mermaid's lexer reads from one line, whitespace skipped."""
    tokens, at = [], 0
    while at < len(line):
        for rule, token in _LEXER:  # noqa: B007 (the matching rule's token is wanted after)
            match = rule.match(line, at)
            if match and match.end() > at:
                break
        else:
            match, token = re.compile(r":[^#\n;]+").match(line, at), "taskData"
            assert match, f"no rule reads {line[at:]!r}"
        if token != "space":
            tokens.append(token)
        at = match.end()
    return tokens


def _unescape(text: str) -> str:
    """A name as the chart shows it: Mermaid's #code; entities decoded."""
    return html.unescape(re.sub(r"#(\d+);", r"&#\1;", text))


def _gantt_block(markdown: str) -> list[str]:
    block = markdown.split("```mermaid\n", 1)[1].split("```", 1)[0]
    return block.splitlines()


def _with_names(project: Project, names: tuple[str, ...]) -> Project:
    """The project with one phase per name, each with one milestone of the same name."""
    first = project.phases[0]
    milestone = replace(first.milestones[0], customer_facing=False, depends_on=())
    phases = tuple(
        replace(first, id=f"ph-{i}", name=name, tasks=(),
                milestones=(replace(milestone, id=f"m-{i}", name=name),))
        for i, name in enumerate(names))
    return replace(project, phases=phases)


def test_hostile_names_are_each_one_task_line_mermaid_reads_as_a_task(examples: Path) -> None:
    ws = find_workspace(examples)
    project, _ = load_project(ws, "globex-portal", AS_OF)
    markdown = render_formats(ws, _with_names(project, HOSTILE), "charter", AS_OF,
                              ["md"])["md"].decode()
    lines = _gantt_block(markdown)
    assert [_tokens(line) for line in lines[:5]] == [
        ["gantt"], ["dateFormat"], ["axisFormat"], ["tickInterval"], ["todayMarker"]]
    body = lines[5:]
    assert len(body) == 3 * len(HOSTILE)  # a section, the phase's bar, its milestone
    block = "\n".join(lines)
    # Mermaid takes directives from anywhere in the text, and drops lines starting with %%.
    assert "%%" not in block
    triples = [body[i:i + 3] for i in range(0, len(body), 3)]
    for name, (section, bar, milestone) in zip(HOSTILE, triples, strict=True):
        shown = " ".join(name.split())
        assert _tokens(section) == ["section"], section
        assert _unescape(section.strip().removeprefix("section ")) == shown
        for line in (bar, milestone):
            assert _tokens(line) == ["taskTxt", "taskData"], line
            text = line.strip().rsplit(" :", 1)[0]
            if name.startswith("★ "):
                assert _unescape(text) == shown
            else:
                assert text.startswith(MERMAID_TASK_MARK)
                assert _unescape(text.removeprefix(MERMAID_TASK_MARK)) == shown


@pytest.mark.parametrize("name", MISREAD)
def test_the_lexer_misreads_each_name_written_plainly_and_none_marked(name: str) -> None:
    data = " :2026-10-01, 2026-10-05"
    assert _tokens(f"    {name}{data}") != ["taskTxt", "taskData"]
    assert _tokens(f"    {escape_mermaid_task(name)}{data}") == ["taskTxt", "taskData"]


def test_mermaid_escaping_keeps_single_percent_signs_readable() -> None:
    assert escape_mermaid("5% uplift, 100%% sure") == "5% uplift, 100%#37; sure"
    assert escape_mermaid_task("Click here") == "• Click here"
    assert escape_mermaid_task("★ Go-live") == "★ Go-live"
    assert escape_mermaid_task("") == "• "


# --- the axis -----------------------------------------------------------------------------------

#: The d3 formats of en.yaml as Python's strftime, and the tick intervals as steps.
_EN_FORMATS = {"day": "%-d %b", "week": "%-d %b", "month": "%b %Y", "quarter": "%b %Y",
               "year": "%Y"}


def _ticks(first: date, last: date, step: str) -> list[date]:
    """The ticks d3 draws from first to last: every day, Sunday, first of a month, of every
    third month, of January."""
    days = [first + timedelta(n) for n in range((last - first).days + 1)]
    if step == "day":
        return days
    if step == "week":
        return [d for d in days if d.weekday() == 6]
    months = {"month": 1, "quarter": 3, "year": 12}[step]
    return [d for d in days if d.day == 1 and (d.month - 1) % months == 0]


@pytest.mark.parametrize("length", [0, 1, 6, 13, 14, 15, 30, 60, 112, 113, 200, 365, 496, 497,
                                    800, 1472, 1473, 2500, 4000])
def test_axis_labels_neither_repeat_nor_crowd(length: int) -> None:
    first = date(2026, 10, 14)
    last = first + timedelta(length)
    step = axis_step(first, last)
    labels = [d.strftime(_EN_FORMATS[step]) for d in _ticks(first, last, step)]
    assert len(labels) == len(set(labels))
    assert len(labels) <= 17


def test_a_short_project_has_weekly_ticks_labelled_by_day(examples: Path) -> None:
    ws = find_workspace(examples)
    project, _ = load_project(ws, "globex-portal", AS_OF)
    short = replace(project, phases=tuple(
        replace(p, start=date(2026, 10, 5), end=date(2026, 10, 30), tasks=(),
                milestones=tuple(replace(m, due=date(2026, 10, 30), forecast=None, done=None,
                                         depends_on=()) for m in p.milestones))
        for p in project.phases))
    lines = _gantt_block(render_formats(ws, short, "charter", AS_OF, ["md"])["md"].decode())
    assert lines[2:4] == ["    axisFormat %-d %b", "    tickInterval 1week"]


# --- the real parser (opt-in) -------------------------------------------------------------------

_MERMAID_PACKAGES = ("mermaid@11", "jsdom@24")


@pytest.fixture(scope="module")
def mermaid_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with Mermaid and jsdom installed from the npm registry, and the script that
    parses a gantt block with them."""
    if not os.environ.get("PLANFORGE_MERMAID_CHECK"):
        pytest.skip("set PLANFORGE_MERMAID_CHECK=1 to parse the gantt blocks with Mermaid")
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("node and npm are needed to run Mermaid")
    folder = tmp_path_factory.mktemp("mermaid")
    done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(folder),
                           *_MERMAID_PACKAGES], capture_output=True, text=True, timeout=600,
                          check=False)
    if done.returncode:
        pytest.skip(f"npm could not install Mermaid: {done.stderr.strip()[-300:]}")
    shutil.copy(Path(__file__).with_name("mermaid_gantt.mjs"), folder / "gantt.mjs")
    return folder


def _mermaid_reads(folder: Path, block: list[str]) -> dict[str, Any]:
    done = subprocess.run(["node", str(folder / "gantt.mjs")], input="\n".join(block),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return cast(dict[str, Any], json.loads(done.stdout))


def _shown(name: str) -> str:
    """A task's name as Mermaid holds it, its entities as the characters they stand for."""
    return re.sub("\ufb02\u00b0\u00b0(\\d+)\u00b6\u00df", lambda m: chr(int(m[1])), name).strip()


@pytest.mark.slow
def test_mermaid_reads_every_hostile_name_as_one_task(mermaid_dir: Path, examples: Path) -> None:
    ws = find_workspace(examples)
    project, _ = load_project(ws, "globex-portal", AS_OF)
    markdown = render_formats(ws, _with_names(project, HOSTILE), "charter", AS_OF,
                              ["md"])["md"].decode()
    read = _mermaid_reads(mermaid_dir, _gantt_block(markdown))
    assert read["title"] == ""
    names = [" ".join(n.split()) for n in HOSTILE]
    assert [_shown(s) for s in read["sections"]] == names
    assert [(_shown(t["section"]), _shown(t["name"]).removeprefix(MERMAID_TASK_MARK.strip())
             .strip()) for t in read["tasks"]] == [(n, n) for n in names for _ in (1, 2)]


@pytest.mark.slow
@pytest.mark.parametrize(("project_id", "kind", "axis"), [
    ("xinghe-market-push", "charter", "%Y年%-m月"),
    ("northwind-pipeline-revamp", "retro", "%b %Y"),
])
def test_mermaid_reads_the_example_blocks_with_their_axis(
        mermaid_dir: Path, examples: Path, project_id: str, kind: str, axis: str) -> None:
    ws = find_workspace(examples)
    project, _ = load_project(ws, project_id, AS_OF)
    block = _gantt_block(render_formats(ws, project, kind, AS_OF, ["md"])["md"].decode())
    read = _mermaid_reads(mermaid_dir, block)
    assert (read["title"], read["axisFormat"], read["tickInterval"]) == ("", axis, "1month")
    assert len(read["tasks"]) == sum(1 for line in block if " :" in line)
