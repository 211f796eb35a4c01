"""The facts computations, hand-checked on small projects built in place."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from planforge.dates import iso_week
from planforge.facts import (
    ask_spans,
    compute_facts,
    compute_health,
    next_meetings,
    open_asks,
    open_customer_milestones,
    risk_level,
    time_elapsed,
)
from planforge.model import (
    AskStatus,
    Budget,
    Goal,
    HealthSettings,
    Meeting,
    Milestone,
    Phase,
    Project,
    Risk,
    SalesAsk,
    Settings,
    Task,
    Update,
)

#: A Friday, ISO week 2026-W47.
AS_OF = date(2026, 11, 20)
HEALTH = HealthSettings()


# --- builders: the smallest valid objects, with keyword overrides -------------------------------


def milestone(id: str = "m1", due: str = "2026-12-01", **kw: Any) -> Milestone:
    fields: dict[str, Any] = dict(
        id=id, name=id.upper(), due=date.fromisoformat(due), forecast=None, done=None,
        customer_facing=False, owner=None, depends_on=(), reason=None,
    )
    fields.update({k: date.fromisoformat(v) if k in ("forecast", "done") and v else v
                   for k, v in kw.items()})
    return Milestone(**fields)


def task(id: str, end: str, start: str | None = None, progress: int | None = None,
         done: str | None = None) -> Task:
    return Task(
        id=id, name=id, owner="pm", start=date.fromisoformat(start) if start else None,
        end=date.fromisoformat(end), progress=progress,
        done=date.fromisoformat(done) if done else None, depends_on=(),
    )


def phase(id: str = "p1", start: str = "2026-09-01", end: str = "2026-12-31",
          milestones: tuple[Milestone, ...] = (), tasks: tuple[Task, ...] = ()) -> Phase:
    return Phase(id=id, name=id, start=date.fromisoformat(start), end=date.fromisoformat(end),
                 owner=None, milestones=milestones, tasks=tasks)


def goal(id: str = "g1", baseline: float | None = 0, target: float = 100,
         due: str = "2026-12-31") -> Goal:
    return Goal(id=id, title=id, metric="m", baseline=baseline, target=target, unit=None,
                due=date.fromisoformat(due), owner="pm", why=None)


def risk(id: str, likelihood: int, impact: int, status: str = "open") -> Risk:
    return Risk(id=id, title=id, category="technical", likelihood=likelihood, impact=impact,
                owner="pm", mitigation="watch", contingency=None, trigger=None, status=status,
                raised=None, customer_message=None)


def meeting(id: str, cadence: str, day: str | int | None = None, time: str = "09:00",
            duration: int = 30, timezone: str | None = None) -> Meeting:
    return Meeting(id=id, name=id, cadence=cadence, day=day, time=time, duration=duration,
                   timezone=timezone, attendees=("pm",), channel=None, purpose=None, agenda=())


def update(week: str, health: str = "green", actuals: dict[str, float] | None = None) -> Update:
    return Update(week=week, health=health, summary="s", done=(), next=(), blockers=(),
                  actuals=actuals or {}, sales_asks=(), customer_feedback=(), talking_points=(),
                  decisions=())


def project(**kw: Any) -> Project:
    fields: dict[str, Any] = dict(
        id="acme", name="Acme", customer="Acme Corp", summary=None, locale=None,
        status="active", start=date(2026, 9, 1), end=date(2026, 12, 31), scope_in=(),
        scope_out=(), acceptance=(), budget=None, people={}, responsibilities=(),
        communication=None, goals=(), phases=(phase(),), risks=(), meetings=(), updates=(),
    )
    fields.update(kw)
    return Project(**fields)


def with_milestones(*ms: Milestone) -> Project:
    return project(phases=(phase(milestones=ms),))


def facts_of(p: Project, as_of: date = AS_OF, **settings: Any) -> Any:
    return compute_facts(p, as_of, Settings(**settings))


# --- small functions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "level"),
    [(1, "low"), (4, "low"), (5, "medium"), (9, "medium"), (10, "high"), (16, "high"),
     (20, "critical"), (25, "critical")],
)
def test_risk_level_boundaries(score: int, level: str) -> None:
    assert risk_level(score) == level


def test_time_elapsed_is_a_clamped_share() -> None:
    start, end = date(2026, 1, 1), date(2026, 1, 21)
    assert time_elapsed(start, end, date(2026, 1, 11)) == 0.5
    assert time_elapsed(start, end, date(2025, 12, 1)) == 0.0
    assert time_elapsed(start, end, date(2026, 3, 1)) == 1.0
    assert time_elapsed(start, start, start) == 1.0


def test_iso_week_uses_the_iso_year() -> None:
    assert iso_week(AS_OF) == "2026-W47"
    assert iso_week(date(2027, 1, 1)) == "2026-W53"
    assert iso_week(date(2026, 1, 5)) == "2026-W02"


# --- milestones --------------------------------------------------------------------------------


def milestone_facts(m: Milestone, as_of: date = AS_OF) -> Any:
    (mf,) = facts_of(with_milestones(m), as_of).milestones
    return mf


def test_milestone_done_on_time() -> None:
    mf = milestone_facts(milestone(due="2026-11-10", done="2026-11-09"))
    assert (mf.state, mf.days, mf.variance_days) == ("done-on-time", 0, -1)
    assert mf.actual == date(2026, 11, 9)
    assert mf.days_until is None
    assert mf.stale is False


def test_milestone_done_late() -> None:
    mf = milestone_facts(milestone(due="2026-11-10", done="2026-11-13"))
    assert (mf.state, mf.days, mf.variance_days) == ("done-late", 3, 3)


def test_milestone_on_track() -> None:
    mf = milestone_facts(milestone(due="2026-12-01"))
    assert (mf.state, mf.days, mf.variance_days) == ("on-track", 0, 0)
    assert mf.expected == date(2026, 12, 1)
    assert mf.days_until == 11


def test_milestone_due_today_is_not_overdue() -> None:
    mf = milestone_facts(milestone(due="2026-11-20"))
    assert (mf.state, mf.days, mf.days_until) == ("on-track", 0, 0)


def test_milestone_forecast_earlier_than_due_is_on_track() -> None:
    mf = milestone_facts(milestone(due="2026-12-10", forecast="2026-12-05"))
    assert (mf.state, mf.days, mf.variance_days) == ("on-track", 0, -5)


def test_milestone_slipping() -> None:
    mf = milestone_facts(milestone(due="2026-12-01", forecast="2026-12-08"))
    assert (mf.state, mf.days, mf.variance_days) == ("slipping", 7, 7)
    assert mf.expected == mf.actual == date(2026, 12, 8)
    assert mf.days_until == 18
    assert mf.stale is False


def test_milestone_overdue_counts_days_since_due() -> None:
    mf = milestone_facts(milestone(due="2026-11-15"))
    assert (mf.state, mf.days) == ("overdue", 5)
    assert mf.stale is False  # no forecast was written: nothing to go stale
    assert mf.days_until == -5


def test_milestone_with_forecast_in_the_past_is_stale() -> None:
    mf = milestone_facts(milestone(due="2026-11-15", forecast="2026-11-18"))
    assert (mf.state, mf.days, mf.stale) == ("overdue", 5, True)


def test_milestone_done_after_as_of_is_still_open_as_of_then() -> None:
    mf = milestone_facts(milestone(due="2026-11-15", done="2026-11-25"))
    assert (mf.state, mf.days) == ("overdue", 5)


def test_milestones_in_schedule_order_by_actual_date() -> None:
    f = facts_of(project(phases=(
        phase("p1", milestones=(milestone("late", due="2026-11-01", forecast="2026-12-20"),
                                milestone("early", due="2026-12-01"))),
        phase("p2", milestones=(milestone("done", due="2026-10-01", done="2026-10-02"),)),
    )))
    assert [m.milestone.id for m in f.milestones] == ["done", "early", "late"]
    assert [m.phase_id for m in f.milestones] == ["p2", "p1", "p1"]


# --- progress and phases -----------------------------------------------------------------------


def test_phase_progress_is_weighted_by_task_duration() -> None:
    p = phase(start="2026-11-01", end="2026-11-30", tasks=(
        task("a", end="2026-11-10", done="2026-11-10"),  # 10 days (from the phase start), done
        task("b", start="2026-11-11", end="2026-11-30", progress=50),  # 20 days, half way
    ))
    f = facts_of(project(phases=(p,)))
    assert f.phases[0].progress == pytest.approx(2 / 3)
    assert f.progress == pytest.approx(2 / 3)
    assert f.phases[0].state == "active"


def test_phase_without_tasks_counts_milestones_done() -> None:
    p = phase(milestones=(milestone("a", due="2026-10-01", done="2026-10-01"),
                          milestone("b", due="2026-12-01")))
    assert facts_of(project(phases=(p,))).phases[0].progress == 0.5


def test_project_progress_spans_phases() -> None:
    p1 = phase("p1", start="2026-09-01", end="2026-09-30",
               tasks=(task("a", end="2026-09-30", done="2026-09-30"),))  # 30 days, done
    p2 = phase("p2", start="2026-10-01", end="2026-12-31",
               tasks=(task("b", end="2026-11-29"),))  # 60 days, not started
    f = facts_of(project(phases=(p1, p2)))
    assert f.progress == pytest.approx(1 / 3)
    assert [ph.state for ph in f.phases] == ["done", "active"]
    assert f.phases[0].progress == 1.0
    assert f.phases[1].progress == 0.0


def test_phase_states_and_elapsed() -> None:
    future = phase("f", start="2026-12-01", end="2026-12-31", tasks=(task("t", "2026-12-31"),))
    started_early = phase("e", start="2026-12-01", end="2026-12-31",
                          tasks=(task("u", "2026-12-31", progress=10),))
    empty_past = phase("x", start="2026-09-01", end="2026-09-30")
    f = facts_of(project(phases=(future, started_early, empty_past)))
    assert [ph.state for ph in f.phases] == ["not-started", "active", "done"]
    assert f.phases[0].elapsed == 0.0
    assert f.phases[2].elapsed == 1.0


# --- goals -------------------------------------------------------------------------------------


def goal_facts(g: Goal, updates: tuple[Update, ...], as_of: date = AS_OF, **kw: Any) -> Any:
    (gf,) = facts_of(project(goals=(g,), updates=updates, **kw), as_of).goals
    return gf


def test_goal_with_target_below_baseline() -> None:
    # Days sales outstanding, 60 → 45: an actual of 50 is two thirds of the way.
    gf = goal_facts(goal(baseline=60, target=45, due="2027-06-30"),
                    (update("2026-W46", actuals={"g1": 50}),))
    assert gf.progress == pytest.approx(2 / 3)
    assert (gf.actual, gf.actual_week) == (50, "2026-W46")
    assert gf.state == "on-track"


def test_goal_latest_actual_and_history_stop_at_the_as_of_week() -> None:
    updates = (update("2026-W45", actuals={"g1": 20}), update("2026-W46"),
               update("2026-W47", actuals={"g1": 30}), update("2026-W48", actuals={"g1": 90}))
    gf = goal_facts(goal(), updates)
    assert gf.history == (("2026-W45", 20), ("2026-W47", 30))
    assert (gf.actual, gf.actual_week) == (30, "2026-W47")


def test_goal_achieved() -> None:
    gf = goal_facts(goal(baseline=60, target=45), (update("2026-W47", actuals={"g1": 45}),))
    assert gf.progress == 1.0
    assert gf.state == "achieved"


def test_goal_missed_when_past_due_and_not_achieved() -> None:
    gf = goal_facts(goal(due="2026-11-19"), (update("2026-W46", actuals={"g1": 80}),))
    assert gf.progress == pytest.approx(0.8)
    assert gf.expected == 1.0
    assert gf.state == "missed"


def test_goal_not_missed_on_its_due_day() -> None:
    gf = goal_facts(goal(due="2026-11-20"), (update("2026-W46", actuals={"g1": 95}),))
    assert gf.state == "on-track"


# Project 2026-01-01 → goal due 2026-01-21, as of 2026-01-11: half the time has elapsed.
HALF = dict(as_of=date(2026, 1, 11), start=date(2026, 1, 1), end=date(2026, 1, 21))


@pytest.mark.parametrize(("actual", "state"), [(40, "on-track"), (39.9, "behind")])
def test_goal_behind_threshold(actual: float, state: str) -> None:
    # Expected 50 %: 40 % trails by exactly 10 points (not behind), 39.9 % by more.
    gf = goal_facts(goal(due="2026-01-21"), (update("2026-W02", actuals={"g1": actual}),), **HALF)
    assert gf.expected == 0.5
    assert gf.state == state


def test_goal_not_measured_without_baseline_or_actual() -> None:
    no_baseline = goal_facts(goal(baseline=None), (update("2026-W47", actuals={"g1": 5}),))
    assert (no_baseline.progress, no_baseline.state) == (None, "not-measured")
    assert no_baseline.actual == 5
    no_actual = goal_facts(goal(), ())
    assert (no_actual.actual, no_actual.progress, no_actual.state) == (None, None, "not-measured")


# --- risks -------------------------------------------------------------------------------------


def test_risks_sorted_heatmap_and_top_risks_of_open_ones() -> None:
    risks = (risk("r-low", 1, 4), risk("r-b", 4, 5), risk("r-a", 5, 4),
             risk("r-closed", 5, 5, "closed"), risk("r-occ", 3, 3, "occurred"),
             risk("r-mit", 2, 3, "mitigated"))
    f = facts_of(project(risks=risks))
    assert [r.risk.id for r in f.risks] == ["r-closed", "r-a", "r-b", "r-occ", "r-mit", "r-low"]
    assert [(r.score, r.level) for r in f.risks[:2]] == [(25, "critical"), (20, "critical")]
    assert [r.risk.id for r in f.top_risks] == ["r-a", "r-b", "r-low"]
    assert [r.risk.id for r in f.occurred_risks] == ["r-occ"]
    cells = f.heatmap.cells
    assert len(cells) == 5 and all(len(row) == 5 for row in cells)
    assert cells[4][3] == ("r-a",)
    assert cells[3][4] == ("r-b",)
    assert cells[0][3] == ("r-low",)
    assert cells[4][4] == ()  # closed
    assert sum(len(c) for row in cells for c in row) == 3
    assert f.heatmap.level(5, 4) == "critical"
    assert f.heatmap.level(1, 4) == "low"


# --- asks of sales -----------------------------------------------------------------------------


def ask(text: str, id: str | None = None, status: AskStatus = "open",
        owner: str | None = None) -> SalesAsk:
    return SalesAsk(ask=text, owner=owner, due=None, id=id, status=status)


def asking(week: str, *asks: SalesAsk) -> Update:
    return replace(update(week), sales_asks=asks)


def open_in(week: str, *updates: Update) -> list[tuple[str, str, int]]:
    return [(o.ask.ask, o.raised, o.open_weeks) for o in open_asks(updates, week)]


def test_ask_with_an_id_carries_over_until_marked_done() -> None:
    updates = (
        asking("2026-W44", ask("Book the demo room", "room")),
        asking("2026-W45"),  # not repeated: still open
        asking("2026-W46", ask("Book the demo room", "room", "done")),
    )
    assert open_in("2026-W44", *updates) == [("Book the demo room", "2026-W44", 0)]
    assert open_in("2026-W45", *updates) == [("Book the demo room", "2026-W44", 1)]
    assert open_in("2026-W46", *updates) == []
    assert open_in("2026-W47", *updates) == []


def test_ask_with_an_id_takes_its_newest_wording_and_a_dropped_one_leaves() -> None:
    updates = (
        asking("2026-W44", ask("Book a room", "room"), ask("Call the CIO", "cio")),
        asking("2026-W46", ask("Book the large room for 20", "room", owner="ae"),
               ask("Call the CIO", "cio", "dropped")),
    )
    [room] = open_asks(updates, "2026-W47")
    assert (room.ask.ask, room.ask.owner, room.raised, room.open_weeks) == (
        "Book the large room for 20", "ae", "2026-W44", 3)


def test_ask_without_an_id_is_open_while_each_update_lists_it() -> None:
    updates = (
        asking("2026-W44", ask("Send the contract"), ask("Book a room")),
        asking("2026-W45", ask("Send  the contract")),  # spacing does not make a new ask
        asking("2026-W46", ask("Send the contract"), ask("Book a room")),
    )
    assert open_in("2026-W45", *updates) == [("Send  the contract", "2026-W44", 1)]
    # Left out in W45, asked again in W46: a new stretch.
    assert open_in("2026-W46", *updates) == [("Send the contract", "2026-W44", 2),
                                            ("Book a room", "2026-W46", 0)]


def test_a_week_without_an_update_keeps_the_asks_of_the_last_one() -> None:
    updates = (asking("2026-W45", ask("Send the contract")),)
    assert open_in("2026-W47", *updates) == [("Send the contract", "2026-W45", 2)]


def test_ask_without_an_id_closed_by_its_text_or_by_an_id_given_later() -> None:
    updates = (
        asking("2026-W44", ask("Send the contract"), ask("Book a room")),
        asking("2026-W45", ask("Send the contract", status="done"),
               ask("Book a room", "room")),  # gains an id: still asked since W44
        asking("2026-W46"),
    )
    assert open_in("2026-W45", *updates) == [("Book a room", "2026-W44", 1)]
    assert open_in("2026-W46", *updates) == [("Book a room", "2026-W44", 2)]


def test_asks_after_the_week_are_not_read_and_facts_carry_them() -> None:
    updates = (asking("2026-W46", ask("Old", "old")), asking("2026-W48", ask("Old", "old", "done"),
                                                        ask("New")))
    f = facts_of(project(updates=updates))
    assert [(o.ask.ask, o.raised, o.open_weeks) for o in f.open_asks] == [("Old", "2026-W46", 1)]


def test_ask_spans_follow_the_same_rules_as_the_open_asks() -> None:
    updates = (
        asking("2026-W44", ask("Book the demo room", "room"), ask("Send the contract")),
        asking("2026-W45"),
        asking("2026-W46", ask("Book the demo room", "room", "done"), ask("Send the contract")),
        asking("2026-W47"),
    )
    spans = [(s.ask.ask, s.raised, s.closed, s.weeks) for s in ask_spans(updates, "2026-W47")]
    assert spans == [
        ("Book the demo room", "2026-W44", "2026-W46", 2),  # carried by its id until done
        ("Send the contract", "2026-W44", "2026-W45", 1),  # left out of W45: dealt with
        ("Send the contract", "2026-W46", "2026-W47", 1),  # asked again: a second stretch
    ]


def test_open_weeks_count_across_the_new_year() -> None:
    updates = (asking("2026-W52", ask("Sign the order", "po")),)
    assert open_in("2027-W02", *updates) == [("Sign the order", "2026-W52", 3)]


# --- budget ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("spent", "ahead", "over"), [(650, 15.0, False), (651, 15.1, True)])
def test_budget_ahead_threshold(spent: float, ahead: float, over: bool) -> None:
    p = project(start=date(2026, 1, 1), end=date(2026, 1, 21),
                budget=Budget("EUR", 1000, spent), phases=(phase(start="2026-01-01",
                                                                 end="2026-01-21"),))
    f = facts_of(p, date(2026, 1, 11))
    assert f.budget is not None
    assert f.budget.elapsed == 0.5
    assert f.budget.spent_share == pytest.approx(spent / 1000)
    assert f.budget.ahead_points == pytest.approx(ahead)
    assert f.budget.over is over
    assert f.health.level == ("amber" if over else "green")
    assert [r.code for r in f.health.reasons] == (["budget-ahead"] if over else [])


def test_budget_without_spent_or_at_all() -> None:
    f = facts_of(project(budget=Budget("EUR", 1000, None)))
    assert f.budget is not None
    assert (f.budget.spent_share, f.budget.ahead_points, f.budget.over) == (None, None, False)
    assert facts_of(project()).budget is None


# --- health ------------------------------------------------------------------------------------


def health_of(p: Project, as_of: date = AS_OF) -> Any:
    return compute_health(p, as_of, HEALTH)


def test_health_green_when_nothing_is_wrong() -> None:
    h = health_of(with_milestones(milestone(due="2026-12-01")))
    assert (h.level, h.reasons, h.reported, h.watermelon) == ("green", (), None, False)


@pytest.mark.parametrize(("forecast", "level", "code"), [
    ("2026-12-15", "amber", "milestone-slipping"),  # exactly 14 days
    ("2026-12-16", "red", "customer-milestone-slipping"),  # 15 days
])
def test_customer_milestone_slip_threshold(forecast: str, level: str, code: str) -> None:
    h = health_of(with_milestones(
        milestone(due="2026-12-01", forecast=forecast, customer_facing=True)))
    assert h.level == level
    assert [(r.level, r.code, r.subject_id) for r in h.reasons] == [(level, code, "m1")]


def test_internal_milestone_slipping_a_month_is_amber() -> None:
    h = health_of(with_milestones(milestone(due="2026-12-01", forecast="2026-12-31")))
    assert h.level == "amber"
    assert [(r.code, r.days) for r in h.reasons] == [("milestone-slipping", 30)]


def test_customer_milestone_overdue() -> None:
    red = health_of(with_milestones(milestone(due="2026-11-05", customer_facing=True)))
    assert [(r.level, r.code, r.days) for r in red.reasons] == [
        ("red", "customer-milestone-overdue", 15)]
    amber = health_of(with_milestones(milestone(due="2026-11-06", customer_facing=True)))
    assert [(r.level, r.code, r.days) for r in amber.reasons] == [
        ("amber", "milestone-overdue", 14)]


def test_overdue_milestone_is_as_late_as_its_forecast() -> None:
    # Three days past due, but re-forecast 20 days after the baseline: a 20-day slip.
    h = health_of(with_milestones(
        milestone(due="2026-11-17", forecast="2026-12-07", customer_facing=True)))
    assert [(r.level, r.code, r.days) for r in h.reasons] == [
        ("red", "customer-milestone-overdue", 20)]


def test_red_slip_days_is_configurable() -> None:
    p = with_milestones(milestone(due="2026-12-01", forecast="2026-12-08", customer_facing=True))
    assert compute_health(p, AS_OF, HealthSettings(red_slip_days=6)).level == "red"
    assert compute_health(p, AS_OF, HealthSettings(red_slip_days=7)).level == "amber"


def test_critical_risks() -> None:
    occurred = health_of(project(risks=(risk("r1", 5, 4, "occurred"),)))
    assert [(r.level, r.code, r.subject_id) for r in occurred.reasons] == [
        ("red", "critical-risk-occurred", "r1")]
    still_open = health_of(project(risks=(risk("r1", 4, 5),)))
    assert [(r.level, r.code) for r in still_open.reasons] == [("amber", "critical-risk-open")]
    high = health_of(project(risks=(risk("r1", 4, 4), risk("r2", 4, 4, "occurred"))))
    mitigated = health_of(project(risks=(risk("r1", 5, 5, "mitigated"),)))
    assert (high.level, mitigated.level) == ("green", "green")


def test_goal_behind_makes_health_amber() -> None:
    p = project(goals=(goal(due="2026-01-21"),),
                updates=(update("2026-W02", actuals={"g1": 30}),), **{
                    k: v for k, v in HALF.items() if k != "as_of"})
    h = health_of(p, HALF["as_of"])
    assert h.level == "amber"
    assert [(r.code, r.subject_id) for r in h.reasons] == [("goal-behind", "g1")]
    assert h.reasons[0].points == pytest.approx(20)


def test_red_reasons_come_before_amber_ones() -> None:
    h = health_of(project(
        phases=(phase(milestones=(milestone("a", due="2026-11-19"),)),),
        risks=(risk("r1", 5, 5, "occurred"),),
    ))
    assert h.level == "red"
    assert [r.code for r in h.reasons] == ["critical-risk-occurred", "milestone-overdue"]


def test_watermelon_reported_green_computed_amber() -> None:
    p = replace(with_milestones(milestone(due="2026-11-16")),
                updates=(update("2026-W46", "amber"), update("2026-W47", "green")))
    h = health_of(p)
    assert (h.level, h.reported, h.watermelon) == ("amber", "green", True)
    assert [(r.code, r.days) for r in h.reasons] == [("milestone-overdue", 4)]


def test_reported_health_falls_back_to_the_latest_earlier_update() -> None:
    p = with_milestones(milestone(due="2026-11-16"))
    p = replace(p, updates=(update("2026-W45", "red"), update("2026-W48", "green")))
    h = health_of(p)
    assert (h.reported, h.watermelon) == ("red", False)  # W48 is after the as-of week
    assert health_of(replace(p, updates=(update("2026-W45", "amber"),))).watermelon is False


# --- meetings ----------------------------------------------------------------------------------


def meetings_of(*ms: Meeting, as_of: date = AS_OF, count: int = 1, tz: str = "UTC",
                **kw: Any) -> list[tuple[str, datetime]]:
    occ = next_meetings(project(meetings=ms, **kw), as_of, tz, count)
    return [(o.meeting.id, o.start) for o in occ]


def at(day: str, hhmm: str = "09:00", tz: str = "UTC") -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=ZoneInfo(tz))


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def test_daily_meetings_skip_the_weekend() -> None:
    starts = meetings_of(meeting("standup", "daily"), as_of=date(2026, 11, 19), count=3)
    assert [s for _, s in starts] == [at("2026-11-20"), at("2026-11-23"), at("2026-11-24")]


def test_next_meeting_starts_the_day_after_as_of() -> None:
    # As of Friday the 20th, a Friday meeting is next held a week later.
    assert meetings_of(meeting("sync", "weekly", "friday")) == [("sync", at("2026-11-27"))]


def test_monthly_last_friday() -> None:
    m = meeting("review", "monthly", "last friday")
    assert [s for _, s in meetings_of(m, count=2)] == [at("2026-11-27"), at("2026-12-25")]
    # On the last Friday itself, the next one is a month away.
    assert meetings_of(m, as_of=date(2026, 11, 27)) == [("review", at("2026-12-25"))]


def test_monthly_first_monday_and_day_of_month() -> None:
    first = meeting("steer", "monthly", "first monday")
    assert [s for _, s in meetings_of(first, count=2)] == [at("2026-12-07"), at("2027-01-04")]
    third = meeting("demo", "monthly", "third wednesday")
    assert meetings_of(third) == [("demo", at("2026-12-16"))]
    by_day = meeting("billing", "monthly", 15)
    assert [s for _, s in meetings_of(by_day, count=2)] == [at("2026-12-15"), at("2027-01-15")]


def test_biweekly_counts_from_the_first_weekday_of_the_project() -> None:
    # Project starts Tuesday 2026-09-01: Wednesdays 09-02, 09-16, … 11-11, 11-25.
    m = meeting("sync", "biweekly", "wednesday")
    assert [s for _, s in meetings_of(m, count=2)] == [at("2026-11-25"), at("2026-12-09")]
    assert meetings_of(m, as_of=date(2026, 11, 11)) == [("sync", at("2026-11-25"))]
    assert meetings_of(m, as_of=date(2026, 11, 10)) == [("sync", at("2026-11-11"))]


def test_weekly_meeting_keeps_its_wall_clock_time_across_dst() -> None:
    # Berlin leaves summer time on Sunday 2026-10-25.
    m = meeting("sync", "weekly", "thursday", time="10:00", duration=60,
                timezone="Europe/Berlin")
    occ = next_meetings(project(meetings=(m,)), date(2026, 10, 20), "UTC", 2)
    assert [(o.start.hour, o.start.minute) for o in occ] == [(10, 0), (10, 0)]
    assert [o.start.date() for o in occ] == [date(2026, 10, 22), date(2026, 10, 29)]
    assert [o.start.utcoffset() for o in occ] == [timedelta(hours=2), timedelta(hours=1)]
    # Same-zone subtraction is wall-clock; in UTC the week is an hour longer.
    assert utc(occ[1].start) - utc(occ[0].start) == timedelta(days=7, hours=1)
    assert [(o.end.hour, o.end.minute) for o in occ] == [(11, 0), (11, 0)]
    assert str(occ[0].start.tzinfo) == "Europe/Berlin"


def test_meeting_in_the_spring_forward_gap_moves_to_a_real_time() -> None:
    # 02:30 on Sunday 2026-03-29 does not exist in Berlin: clocks jump from 02:00 to 03:00.
    m = meeting("night", "weekly", "sunday", time="02:30", timezone="Europe/Berlin")
    (occ,) = next_meetings(project(start=date(2026, 1, 1), meetings=(m,)), date(2026, 3, 28),
                           "UTC")
    assert (occ.start.hour, occ.start.minute) == (3, 30)
    assert occ.start.utcoffset() == timedelta(hours=2)
    assert utc(occ.start) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_meeting_spanning_the_dst_change_lasts_its_duration() -> None:
    m = meeting("early", "weekly", "sunday", time="01:30", duration=60,
                timezone="Europe/Berlin")
    (occ,) = next_meetings(project(start=date(2026, 1, 1), meetings=(m,)), date(2026, 3, 28),
                           "UTC")
    assert utc(occ.end) - utc(occ.start) == timedelta(hours=1)
    assert (occ.end.hour, occ.end.minute) == (3, 30)  # 01:30 CET + 1 h = 03:30 CEST


def test_meetings_use_the_default_zone_and_sort_by_instant() -> None:
    tokyo = meeting("tokyo", "weekly", "monday", time="09:00", timezone="Asia/Tokyo")
    paris = meeting("paris", "weekly", "monday", time="08:00")
    starts = meetings_of(paris, tokyo, tz="Europe/Paris")
    assert starts == [("tokyo", at("2026-11-23", "09:00", "Asia/Tokyo")),
                      ("paris", at("2026-11-23", "08:00", "Europe/Paris"))]


def test_no_meetings_before_the_project_starts_or_once_it_is_done() -> None:
    m = meeting("standup", "daily")
    assert meetings_of(m, as_of=date(2026, 8, 1)) == [("standup", at("2026-09-01"))]
    assert meetings_of(m, status="done") == []


# --- everything together -----------------------------------------------------------------------


def test_compute_facts_assembles_the_brief() -> None:
    ms = (
        milestone("soon", due="2026-12-10", customer_facing=True),
        milestone("far", due="2027-01-10", customer_facing=True),
        milestone("internal", due="2026-12-01"),
        milestone("slip", due="2026-12-01", forecast="2026-12-05"),
        milestone("over", due="2026-11-18", customer_facing=True),
        milestone("late", due="2026-10-01", done="2026-10-05", customer_facing=True),
    )
    p = project(
        locale="zh-CN",
        phases=(phase(milestones=ms),),
        risks=(risk("r1", 2, 2), risk("r2", 3, 4)),
        meetings=(meeting("sync", "weekly", "tuesday"), meeting("standup", "daily")),
        updates=(update("2026-W46", "amber"), update("2026-W47", "green"),
                 update("2026-W48", "red")),
    )
    f = facts_of(p, timezone="Europe/Paris")
    assert (f.week, f.as_of, f.locale, f.timezone) == ("2026-W47", AS_OF, "zh-CN", "Europe/Paris")
    assert f.update is not None and f.update.week == "2026-W47"
    assert f.latest_update is f.update
    assert f.elapsed == pytest.approx(80 / 121)
    assert [m.milestone.id for m in f.customer_milestones_next_4_weeks] == ["soon"]
    assert [(m.milestone.id, m.state) for m in f.slipped] == [
        ("over", "overdue"), ("slip", "slipping")]
    assert [r.risk.id for r in f.top_risks] == ["r2", "r1"]
    assert f.health_history == (("2026-W46", "amber"), ("2026-W47", "green"))
    assert f.health.level == "amber"
    assert f.health.watermelon is True
    assert [(o.meeting.id, o.start.date()) for o in f.next_meetings] == [
        ("standup", date(2026, 11, 23)), ("sync", date(2026, 11, 24))]
    assert str(f.next_meetings[0].start.tzinfo) == "Europe/Paris"


def test_compute_facts_without_an_update_this_week() -> None:
    f = facts_of(project(updates=(update("2026-W45", "red"),)), locale="en")
    assert f.update is None
    assert f.latest_update is not None and f.latest_update.week == "2026-W45"
    assert f.locale == "en"
    assert f.health.reported == "red"


def test_compute_health_agrees_with_compute_facts() -> None:
    p = project(
        phases=(phase(milestones=(milestone(due="2026-11-01", customer_facing=True),)),),
        budget=Budget("EUR", 100, 99), risks=(risk("r", 5, 5),),
        updates=(update("2026-W47", "green"),),
    )
    assert facts_of(p).health == compute_health(p, AS_OF, Settings().health)


def test_open_customer_milestones_as_they_stood_on_the_day() -> None:
    p = with_milestones(
        milestone("m-late", due="2026-11-27", customer_facing=True, done="2026-12-02"),
        milestone("m-next", due="2026-12-16", customer_facing=True),
        milestone("m-internal", due="2026-11-25"),
    )
    # A brief of 20 November: the milestone finished on 2 December was still owed then.
    assert [m.milestone.id for m in open_customer_milestones(facts_of(p))] == ["m-late", "m-next"]
    assert [m.milestone.id for m in open_customer_milestones(
        facts_of(p, date(2026, 12, 4)))] == ["m-next"]
