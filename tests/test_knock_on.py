"""Knock-on slips: planforge's dates against TaskJuggler's on the same small plans.

The plans live in tests/data/knockon/<case>/: ``project.yaml`` (the planforge plan), ``plan.tjp``
(the same plan as a TaskJuggler project, see tests/taskjuggler.py) and ``taskjuggler.csv`` (the
dates ``tj3`` computed for it, recorded so that the comparison needs no TaskJuggler).
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from planforge.facts import KnockOn, ScheduleItem, compute_facts, knock_on, schedule_items
from planforge.model import Project, Settings, build_project
from planforge.yamlio import load_text

from .taskjuggler import REPORT, read_schedule, to_tjp

DATA = Path(__file__).parent / "data" / "knockon"
#: The as-of date of each plan: before its done dates would be in its future.
CASES = {"chain": date(2020, 3, 20), "diamond": date(2020, 1, 20), "floors": date(2020, 1, 31)}


def _project(case: str) -> Project:
    doc, findings = load_text((DATA / case / "project.yaml").read_text("utf-8"), "project.yaml")
    assert doc is not None, findings
    return build_project(case, doc.data)


@pytest.mark.parametrize("case", sorted(CASES))
def test_dates_match_taskjuggler(case: str) -> None:
    project = _project(case)
    reference = read_schedule((DATA / case / "taskjuggler.csv").read_text("utf-8"), project)
    ours = knock_on(schedule_items(project, CASES[case]))
    assert {i: k.expected for i, k in ours.items()} == reference


@pytest.mark.parametrize("case", sorted(CASES))
def test_recorded_plan_is_the_plan(case: str) -> None:
    """The recorded TaskJuggler project is what the plan translates to today."""
    assert to_tjp(_project(case), CASES[case]) == (DATA / case / "plan.tjp").read_text("utf-8")


@pytest.mark.skipif(shutil.which("tj3") is None, reason="TaskJuggler (tj3) is not installed")
@pytest.mark.parametrize("case", sorted(CASES))
def test_taskjuggler_still_agrees(case: str, tmp_path: Path) -> None:
    """With tj3 installed, TaskJuggler recomputes the recorded dates."""
    project = _project(case)
    (tmp_path / "plan.tjp").write_text(to_tjp(project, CASES[case]), "utf-8")
    subprocess.run(["tj3", "--no-color", "--silent", "plan.tjp"], cwd=tmp_path, check=True,
                   capture_output=True, timeout=120)
    fresh = read_schedule((tmp_path / f"{REPORT}.csv").read_text("utf-8"), project)
    recorded = read_schedule((DATA / case / "taskjuggler.csv").read_text("utf-8"), project)
    assert fresh == recorded


def test_the_critical_path_names_the_root_cause_first() -> None:
    facts = compute_facts(_project("diamond"), CASES["diamond"], Settings())
    by_id = {m.milestone.id: m for m in facts.milestones}
    golive = by_id["m-golive"]
    # A tie between training and integration: the first listed dependency names the path.
    assert golive.driven_by == ("m-spec", "t-data", "m-integrated", "t-train")
    assert (golive.expected, golive.state, golive.days) == (date(2020, 4, 24), "slipping", 21)
    assert golive.knock_on_days == 21
    assert by_id["m-integrated"].driven_by == ("m-spec", "t-data")
    # The root cause is late by its own forecast: nothing drives it.
    assert by_id["m-spec"].driven_by == () and by_id["m-spec"].knock_on_days == 0
    assert facts.schedule["t-train"] == KnockOn(date(2020, 4, 17),
                                                ("m-spec", "t-data", "m-integrated"), "m-spec")
    # Documents name the first milestone on the path, the one a reader knows.
    assert golive.driver == "m-spec" and by_id["m-spec"].driver is None
    # A path of tasks only names its root task.
    tasks = {"a": ScheduleItem("a", date(2020, 3, 2), date(2020, 3, 9), False, ()),
             "b": ScheduleItem("b", date(2020, 3, 16), date(2020, 3, 16), False, ("a",)),
             "m": ScheduleItem("m", date(2020, 3, 20), date(2020, 3, 20), False, ("b",), True)}
    assert knock_on(tasks)["m"].driver == "a"


def test_own_forecast_later_than_the_dependencies_wins() -> None:
    facts = compute_facts(_project("floors"), CASES["floors"], Settings())
    by_id = {m.milestone.id: m for m in facts.milestones}
    assert (by_id["m-beta"].expected, by_id["m-beta"].driven_by) == (date(2020, 4, 24), ())
    # The release is pushed by beta's own date, two weeks after it as planned.
    assert (by_id["m-release"].expected, by_id["m-release"].driven_by) == (
        date(2020, 5, 8), ("m-beta",))
    assert by_id["m-review"].state == "on-track"


def test_a_forecast_already_at_the_knock_on_date_still_names_its_driver() -> None:
    items = {
        "a": ScheduleItem("a", date(2020, 3, 2), date(2020, 3, 9), False, ()),
        "b": ScheduleItem("b", date(2020, 3, 16), date(2020, 3, 23), False, ("a",)),
    }
    assert knock_on(items)["b"] == KnockOn(date(2020, 3, 23), ("a",), "a")


def test_done_items_keep_their_date_and_cycles_do_not_hang() -> None:
    items = {
        "a": ScheduleItem("a", date(2020, 3, 2), date(2020, 4, 1), False, ("c",)),
        "b": ScheduleItem("b", date(2020, 3, 9), date(2020, 3, 9), True, ("a",)),
        "c": ScheduleItem("c", date(2020, 3, 16), date(2020, 3, 16), False, ("a", "zzz")),
    }
    result = knock_on(items)
    assert result["b"] == KnockOn(date(2020, 3, 9), ())
    # a → c → a: the edge that closes the cycle (found from a, the first listed) is ignored;
    # c then keeps its own date and a its forecast, which is later than c allows anyway.
    assert result["a"] == KnockOn(date(2020, 4, 1), ())
    assert result["c"] == KnockOn(date(2020, 3, 16), ())


def test_a_long_chain_needs_no_recursion() -> None:
    start = date(2020, 1, 1)
    items = {f"m{i}": ScheduleItem(f"m{i}", start, start, False, (f"m{i - 1}",) if i else ())
             for i in range(5000)}
    items["m0"] = ScheduleItem("m0", start, date(2020, 1, 8), False, ())
    assert knock_on(items)["m4999"].expected == date(2020, 1, 8)


def test_an_open_overdue_dependency_pushes_from_today() -> None:
    items = {
        "a": ScheduleItem("a", date(2020, 3, 9), date(2020, 3, 9), False, ()),
        "b": ScheduleItem("b", date(2020, 3, 16), date(2020, 3, 16), False, ("a",), True),
    }
    # Task a ended on 9 March on paper and is still open on 20 March: b keeps its week after it.
    assert knock_on(items, date(2020, 3, 20))["b"] == KnockOn(date(2020, 3, 27), ("a",), "a")
    # Without a date only the plan's own dates count, as in TaskJuggler's schedule.
    assert knock_on(items)["b"] == KnockOn(date(2020, 3, 16), ())
    # Before a is due, today changes nothing; once a is done its done date counts.
    assert knock_on(items, date(2020, 3, 2))["b"].expected == date(2020, 3, 16)
    done = {**items, "a": ScheduleItem("a", date(2020, 3, 9), date(2020, 3, 10), True, ())}
    assert knock_on(done, date(2020, 3, 20))["b"].expected == date(2020, 3, 17)


def test_the_email_names_what_pushes_the_next_customer_date() -> None:
    from planforge.dates import iso_week
    from planforge.documents import email_project
    from planforge.documents.pipeline import render_email
    from planforge.i18n import translator
    from planforge.workspace import find_workspace

    from .conftest import REPO

    as_of = CASES["chain"]
    facts = compute_facts(_project("chain"), as_of, Settings())
    week = iso_week(as_of)
    shown = email_project(facts, translator("en"), week)
    assert shown.next_milestone == "Customer acceptance"
    assert shown.next_driver == "Ready for acceptance"
    text, html = render_email(find_workspace(REPO), [facts], week, "en", "brief.pdf")
    assert "It is at risk through Ready for acceptance." in text
    assert "It is at risk through Ready for acceptance." in html
    zh, _ = render_email(find_workspace(REPO), [facts], week, "zh-CN", "brief.pdf")
    assert "该日期受“Ready for acceptance”延误影响。" in zh
