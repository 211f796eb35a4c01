"""Pure computations as of a date: milestones, progress, goals, risks, budget, health.

Nothing here reads files, the clock or the network: every function takes ``as_of`` so that the
same inputs and the same date give the same facts, and so the same documents, byte for byte.
Templates lay out these dataclasses; they never compute.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from .dates import friday_of, iso_week, nth_weekday, weekday_index
from .model import (
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
    Update,
)

__all__ = [
    "AskSpan",
    "BudgetFacts",
    "GoalFacts",
    "GoalState",
    "HealthFacts",
    "HeatMap",
    "KnockOn",
    "MeetingOccurrence",
    "MilestoneFacts",
    "MilestoneState",
    "OpenAsk",
    "PhaseFacts",
    "PhaseState",
    "ProjectFacts",
    "Reason",
    "RiskFacts",
    "ScheduleItem",
    "ask_spans",
    "compute_facts",
    "compute_health",
    "heat_map",
    "knock_on",
    "meeting_anchor",
    "next_meetings",
    "on_cadence",
    "open_asks",
    "open_customer_milestones",
    "ranked_risks",
    "risk_level",
    "schedule_items",
    "time_elapsed",
]


MilestoneState = Literal["done-on-time", "done-late", "on-track", "slipping", "overdue"]
PhaseState = Literal["done", "active", "not-started"]
GoalState = Literal["achieved", "on-track", "behind", "missed", "not-measured", "waiting", "stale"]


@dataclass(frozen=True)
class MilestoneFacts:
    """A milestone as of a date.

    ``state`` is ``done-on-time``, ``done-late``, ``on-track``, ``slipping`` or ``overdue``;
    ``days`` is the +N of that state (days late, slipped or overdue), 0 otherwise.
    """

    milestone: Milestone
    phase_id: str
    state: MilestoneState
    days: int
    stale: bool  # open, with a forecast already in the past
    expected: date  # forecast, else due
    actual: date  # done date when done, else expected: the "actual" of baseline vs actual
    customer_facing: bool
    days_until: int | None  # expected − as_of for open milestones; None when done
    variance_days: int  # actual − due, signed: negative when early
    # The due first promised (in the kickoff baseline) where it differs from ``expected``, and
    # expected − that date: a re-baseline leaves ``due`` on time, this keeps the first promise.
    first_promised: date | None = None
    promised_days: int = 0
    # The chain of milestones and tasks whose lateness pushes ``expected`` (root cause first,
    # the direct dependency last); empty when its own forecast or due sets the date.
    driven_by: tuple[str, ...] = ()
    driver: str | None = None  # the milestone (else root task) on driven_by named as the cause
    knock_on_days: int = 0  # expected − its own forecast (or due): what the dependencies add


@dataclass(frozen=True)
class PhaseFacts:
    """A phase as of a date; ``state`` is ``done``, ``active`` or ``not-started``."""

    phase: Phase
    progress: float  # 0..1
    elapsed: float  # 0..1 share of the phase's calendar time
    milestones: tuple[MilestoneFacts, ...]
    state: PhaseState


@dataclass(frozen=True)
class GoalFacts:
    """A goal as of a date.

    ``state`` is ``achieved``, ``on-track``, ``behind``, ``missed``, ``not-measured``,
    ``waiting`` (measuring has not started: ``measure_from``) or ``stale`` (the latest actual is
    older than ``HealthSettings.stale_actual_weeks``); only ``behind`` counts against health.
    """

    goal: Goal
    actual: float | None  # latest measurement up to the as-of week
    actual_week: str | None
    progress: float | None  # (actual − baseline) / (target − baseline); may exceed 0..1
    expected: float  # 0..1 share of time elapsed from project start to goal due
    state: GoalState
    history: tuple[tuple[str, float], ...]  # (week, value), oldest first
    # The day measuring starts: the goal's date, or its milestone's done date (expected date
    # while not done); None: from the project's start.
    measure_from: date | None = None
    measuring: bool = True  # measuring has started by as_of
    actual_age: int | None = None  # whole ISO weeks from actual_week to the as-of week
    stale: bool = False  # actual_age > HealthSettings.stale_actual_weeks


@dataclass(frozen=True)
class RiskFacts:
    """A risk with its score (likelihood × impact) and level (low, medium, high, critical)."""

    risk: Risk
    score: int
    level: str


@dataclass(frozen=True)
class HeatMap:
    """The 5×5 risk heat map of **open** risks: ``cells[likelihood - 1][impact - 1]`` = risk ids."""

    cells: tuple[tuple[tuple[str, ...], ...], ...]

    def level(self, likelihood: int, impact: int) -> str:
        """The risk level of a cell, for its colour."""
        return risk_level(likelihood * impact)


@dataclass(frozen=True)
class BudgetFacts:
    """Budget spent against time elapsed."""

    budget: Budget
    spent_share: float | None  # spent / planned; None when nothing spent is recorded
    elapsed: float  # 0..1 share of the project's calendar time
    ahead_points: float | None  # (spent_share − elapsed) × 100
    over: bool  # ahead_points > HealthSettings.budget_ahead_points


@dataclass(frozen=True)
class Reason:
    """Why computed health is not green: a code for templates to translate, not a sentence.

    Codes: ``customer-milestone-overdue``, ``customer-milestone-slipping``,
    ``critical-risk-occurred`` (red); ``milestone-overdue``, ``milestone-slipping``,
    ``goal-behind``, ``critical-risk-open``, ``budget-ahead`` (amber).
    """

    level: str  # amber | red
    code: str
    subject_id: str | None  # milestone, goal or risk id; None for the budget
    days: int | None = None  # milestones: days late
    points: float | None = None  # goal: points behind expected; budget: points ahead of time
    through: str | None = None  # milestones pushed by a dependency: the driver's id


@dataclass(frozen=True)
class HealthFacts:
    """Computed health with its reasons, and the team's reported health beside it."""

    level: str  # green | amber | red
    reasons: tuple[Reason, ...]  # red reasons first
    reported: str | None  # health of the as-of week's update, else the latest earlier one
    watermelon: bool  # reported is better than computed


@dataclass(frozen=True)
class OpenAsk:
    """An ask of sales still open in a week, in the words of the newest update that lists it."""

    ask: SalesAsk
    raised: str  # the week it was first asked, "YYYY-Www"
    open_weeks: int  # whole weeks from raised to the week in question; 0: asked that week


@dataclass(frozen=True)
class MeetingOccurrence:
    """One occurrence of a meeting, as aware datetimes in the meeting's own time zone."""

    meeting: Meeting
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ProjectFacts:
    """Everything the documents show about a project, computed as of one date."""

    project: Project
    as_of: date
    week: str  # ISO week of as_of, "YYYY-Www"
    update: Update | None  # the update of that week
    open_asks: tuple[OpenAsk, ...]  # asks of sales open that week, oldest first
    latest_update: Update | None  # the newest update of that week or earlier
    progress: float  # 0..1, duration-weighted over all tasks
    elapsed: float  # 0..1
    phases: tuple[PhaseFacts, ...]
    milestones: tuple[MilestoneFacts, ...]  # all, in schedule order (actual date)
    customer_milestones_next_4_weeks: tuple[MilestoneFacts, ...]
    slipped: tuple[MilestoneFacts, ...]  # open milestones slipping or overdue
    goals: tuple[GoalFacts, ...]
    risks: tuple[RiskFacts, ...]  # all, by score desc then id
    top_risks: tuple[RiskFacts, ...]  # open ones, by score desc then id
    occurred_risks: tuple[RiskFacts, ...]  # status occurred, by score desc then id
    heatmap: HeatMap
    budget: BudgetFacts | None
    health: HealthFacts
    next_meetings: tuple[MeetingOccurrence, ...]  # next occurrence of each meeting, by start
    health_history: tuple[tuple[str, str], ...]  # (week, reported health), oldest first
    locale: str
    timezone: str
    # Every milestone and task with its knock-on date and critical path, by id.
    schedule: Mapping[str, KnockOn] = field(default_factory=dict)


_HEALTH_RANK = {"red": 0, "amber": 1, "green": 2}
# Floats from YAML (0.65 − 0.5 = 0.15000000000000002) must not tip a value that sits exactly on
# a threshold over it: comparisons round to this many decimals first.
_PRECISION = 6


def risk_level(score: int) -> str:
    """The level of a risk score: low 1–4, medium 5–9, high 10–16, critical 20–25."""
    # 17–19 are not products of two numbers 1..5; the bounds are ≥ so any int has a level.
    if score >= 20:
        return "critical"
    if score >= 10:
        return "high"
    if score >= 5:
        return "medium"
    return "low"


def time_elapsed(start: date, end: date, as_of: date) -> float:
    """Share of the calendar time from start to end that has passed by as_of, clamped to 0..1."""
    span = (end - start).days
    if span <= 0:
        return 1.0 if as_of >= end else 0.0
    return min(1.0, max(0.0, (as_of - start).days / span))


AxisStep = Literal["day", "week", "month", "quarter", "year"]


def axis_step(first: date, last: date) -> AxisStep:
    """The tick step of a time axis from first to last: the finest whose labels neither repeat
    (no two ticks in one month under a month label) nor crowd (about 16 ticks at most)."""
    days = (last - first).days
    if days <= 14:
        return "day"
    if days <= 16 * 7:
        return "week"
    if days <= 16 * 31:
        return "month"
    if days <= 16 * 92:
        return "quarter"
    return "year"


# --- knock-on slips ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleItem:
    """A milestone or task as the dependency schedule sees it.

    ``planned`` is the date of the plan (a milestone's due, a task's end); ``own`` the date the
    item itself is expected to finish (its done date once done, else a milestone's forecast or
    due, a task's end).
    """

    id: str
    planned: date
    own: date
    done: bool
    depends_on: tuple[str, ...]
    milestone: bool = False  # a milestone, not a task: documents name milestones as drivers


@dataclass(frozen=True)
class KnockOn:
    """An item's expected date once what it depends on is allowed for.

    ``expected`` = max(own, each dependency's expected + the planned gap), where the planned gap
    is the item's planned date − the dependency's planned date, never below zero (finish to
    start: the item cannot finish before what it depends on). A done item keeps its done date.
    ``driven_by`` is the critical path: the items whose dates push this one, root cause first
    and the direct dependency last; empty when the dependencies do not make it late.
    ``driver`` is the item documents name as the cause: the first milestone on that path (a
    reader knows the milestones), else its root task; None when not pushed.
    """

    expected: date
    driven_by: tuple[str, ...]
    driver: str | None = None


def schedule_items(project: Project, as_of: date) -> dict[str, ScheduleItem]:
    """Every milestone and task of the project as a schedule item as of a date."""
    items: dict[str, ScheduleItem] = {}
    for phase in project.phases:
        for m in phase.milestones:
            done = _done(m.done, as_of)
            items[m.id] = ScheduleItem(m.id, m.due, m.done if m.done and done else m.expected,
                                       done, m.depends_on, milestone=True)
        for t in phase.tasks:
            done = _done(t.done, as_of)
            items[t.id] = ScheduleItem(t.id, t.end, t.done if t.done and done else t.end, done,
                                       t.depends_on)
    return items


def knock_on(items: Mapping[str, ScheduleItem], today: date | None = None) -> dict[str, KnockOn]:
    """Each item's expected date with its dependencies' slips carried forward (``KnockOn``).

    With ``today``, a dependency not done finishes no earlier than today: an overdue task that
    is still open pushes what follows it from today, not from the date it has already missed.
    Unknown dependencies and the edge that closes a cycle are ignored: ``validate`` reports
    both, and the dates of the rest stay computable.
    """
    result: dict[str, KnockOn] = {}
    visiting: set[str] = set()
    # Depth first without recursion: a long chain of dependencies must not hit Python's limit.
    for root in items:
        stack = [root]
        while stack:
            ident = stack[-1]
            if ident in result:
                stack.pop()
                continue
            item = items[ident]
            deps = () if item.done else tuple(
                d for d in item.depends_on if d in items and d != ident)
            pending = [d for d in deps if d not in result and d not in visiting]
            if pending and ident not in visiting:
                visiting.add(ident)
                stack.extend(reversed(pending))
                continue
            stack.pop()
            visiting.discard(ident)
            best = item.own
            path: tuple[str, ...] = ()
            for dep in deps:
                upstream = result.get(dep)
                if upstream is None:  # the edge that closes a cycle
                    continue
                gap = max(0, (item.planned - items[dep].planned).days)
                finish = upstream.expected
                if today is not None and not items[dep].done:
                    finish = max(finish, today)
                bound = finish + timedelta(days=gap)
                # A dependency drives the date when it makes the item late and is the latest
                # bound; a forecast already moved to exactly that date is still explained by it.
                if bound > item.planned and (bound > best or (bound == best and not path)):
                    best, path = bound, (*upstream.driven_by, dep)
            driver = next((i for i in path if items[i].milestone), path[0] if path else None)
            result[ident] = KnockOn(best, path, driver)
    return result


# --- milestones and phases ---------------------------------------------------------------------


def _done(done: date | None, as_of: date) -> bool:
    # A done date after as_of is not done yet as of that date: a brief rendered for a past week
    # shows the plan as it stood then.
    return done is not None and done <= as_of


def _milestone_facts(m: Milestone, phase_id: str, as_of: date,
                     schedule: Mapping[str, KnockOn]) -> MilestoneFacts:
    pushed = schedule.get(m.id)
    expected = pushed.expected if pushed else m.expected
    driven_by = pushed.driven_by if pushed else ()
    driver = pushed.driver if pushed else None
    state: MilestoneState
    if m.done is not None and _done(m.done, as_of):
        late = (m.done - m.due).days
        state, days = ("done-late", late) if late > 0 else ("done-on-time", 0)
        return MilestoneFacts(
            milestone=m, phase_id=phase_id, state=state, days=days, stale=False,
            expected=expected, actual=m.done, customer_facing=m.customer_facing,
            days_until=None, variance_days=late,
        )
    if m.due < as_of:
        state, days = "overdue", (as_of - m.due).days
    elif expected > m.due:
        state, days = "slipping", (expected - m.due).days
    else:
        state, days = "on-track", 0
    return MilestoneFacts(
        milestone=m, phase_id=phase_id, state=state, days=days,
        stale=m.forecast is not None and m.forecast < as_of,
        expected=expected, actual=expected, customer_facing=m.customer_facing,
        days_until=(expected - as_of).days, variance_days=(expected - m.due).days,
        driven_by=driven_by, driver=driver, knock_on_days=(expected - m.expected).days,
    )


def _task_weighted_progress(phases: tuple[Phase, ...], as_of: date) -> float | None:
    """Duration-weighted task progress over the phases, or None when they hold no task."""
    total = 0
    weighted = 0.0
    for phase in phases:
        for task in phase.tasks:
            # Inclusive days, so that a one-day task (start == end) still weighs something.
            weight = max(1, (task.end - (task.start or phase.start)).days + 1)
            pct = 100 if _done(task.done, as_of) else (task.progress or 0)
            total += weight
            weighted += weight * pct / 100
    return weighted / total if total else None


def _progress(phases: tuple[Phase, ...], as_of: date) -> float:
    by_tasks = _task_weighted_progress(phases, as_of)
    if by_tasks is not None:
        return by_tasks
    milestones = [m for p in phases for m in p.milestones]
    if not milestones:
        return 0.0
    return sum(_done(m.done, as_of) for m in milestones) / len(milestones)


def _phase_facts(phase: Phase, as_of: date, schedule: Mapping[str, KnockOn]) -> PhaseFacts:
    progress = _progress((phase,), as_of)
    dones = [t.done for t in phase.tasks] + [m.done for m in phase.milestones]
    # A phase with nothing to tick off is done once its dates are past.
    finished = all(_done(d, as_of) for d in dones) if dones else phase.end < as_of
    state: PhaseState
    if finished:
        state = "done"
    elif as_of >= phase.start or progress > 0:
        state = "active"
    else:
        state = "not-started"
    return PhaseFacts(
        phase=phase,
        progress=progress,
        elapsed=time_elapsed(phase.start, phase.end, as_of),
        milestones=tuple(_milestone_facts(m, phase.id, as_of, schedule)
                         for m in phase.milestones),
        state=state,
    )


# --- goals, risks, budget ----------------------------------------------------------------------


def _measure_start(goal: Goal, project: Project, as_of: date) -> tuple[date | None, bool]:
    """When measuring the goal starts, and whether it has by as_of: a milestone starts it on the
    day it is done; until then its expected date is shown, but nothing is expected yet."""
    if goal.measure_from_milestone is not None:
        m = next((m for m in project.milestones if m.id == goal.measure_from_milestone), None)
        if m is None:
            return None, True
        if m.done is not None and _done(m.done, as_of):
            return m.done, True
        return m.expected, False
    if goal.measure_from is not None:
        return goal.measure_from, goal.measure_from <= as_of
    return None, True


def _goal_facts(goal: Goal, project: Project, as_of: date, health: HealthSettings) -> GoalFacts:
    week = iso_week(as_of)
    history = tuple(
        (u.week, u.actuals[goal.id])
        for u in project.updates
        if u.week <= week and goal.id in u.actuals
    )
    actual_week, actual = history[-1] if history else (None, None)
    progress: float | None = None
    # target == baseline gives no direction to measure progress along: left unmeasured.
    if actual is not None and goal.baseline is not None and goal.target != goal.baseline:
        progress = (actual - goal.baseline) / (goal.target - goal.baseline)
    start, measuring = _measure_start(goal, project, as_of)
    expected = time_elapsed(start or project.start, goal.due, as_of) if measuring else 0.0
    age = (friday_of(week) - friday_of(actual_week)).days // 7 if actual_week else None
    stale = age is not None and age > health.stale_actual_weeks
    state: GoalState
    if progress is not None and round(progress, _PRECISION) >= 1:
        state = "achieved"
    elif progress is not None and as_of > goal.due:
        state = "missed"
    elif not measuring:
        state = "waiting"
    elif progress is None:
        state = "not-measured"
    elif stale:
        # An old number says nothing about today: flagged, and not judged behind or on track.
        state = "stale"
    elif round((expected - progress) * 100, _PRECISION) > health.goal_behind_points:
        state = "behind"
    else:
        state = "on-track"
    return GoalFacts(
        goal=goal, actual=actual, actual_week=actual_week, progress=progress,
        expected=expected, state=state, history=history, measure_from=start,
        measuring=measuring, actual_age=age, stale=stale,
    )


def _risk_facts(risk: Risk) -> RiskFacts:
    return RiskFacts(risk=risk, score=risk.score, level=risk_level(risk.score))


def ranked_risks(risks: Iterable[Risk]) -> tuple[RiskFacts, ...]:
    """The risks with their scores and levels, highest score first, then by id."""
    return tuple(sorted((_risk_facts(r) for r in risks), key=lambda r: (-r.score, r.risk.id)))


def heat_map(risks: Iterable[RiskFacts]) -> HeatMap:
    """The heat map of the open ones among these risks."""
    cells: list[list[list[str]]] = [[[] for _ in range(5)] for _ in range(5)]
    for r in risks:
        if r.risk.status == "open":
            cells[r.risk.likelihood - 1][r.risk.impact - 1].append(r.risk.id)
    return HeatMap(cells=tuple(tuple(tuple(sorted(c)) for c in row) for row in cells))


def _budget_facts(project: Project, as_of: date, health: HealthSettings) -> BudgetFacts | None:
    budget = project.budget
    if budget is None:
        return None
    elapsed = time_elapsed(project.start, project.end, as_of)
    spent_share = (
        budget.spent / budget.planned if budget.spent is not None and budget.planned > 0 else None
    )
    ahead = None if spent_share is None else round((spent_share - elapsed) * 100, _PRECISION)
    return BudgetFacts(
        budget=budget, spent_share=spent_share, elapsed=elapsed, ahead_points=ahead,
        over=ahead is not None and ahead > health.budget_ahead_points,
    )


# --- health ------------------------------------------------------------------------------------


def _health(
    milestones: tuple[MilestoneFacts, ...],
    goals: tuple[GoalFacts, ...],
    risks: tuple[RiskFacts, ...],
    budget: BudgetFacts | None,
    reported: str | None,
    health: HealthSettings,
) -> HealthFacts:
    red: list[Reason] = []
    amber: list[Reason] = []
    for mf in milestones:
        if mf.state not in ("overdue", "slipping"):
            continue
        # How late the milestone will be at best: days past due, or the forecast's slip when that
        # is larger (a milestone overdue by 3 days whose forecast is 20 days out slips 20).
        late = max(mf.days, mf.variance_days)
        mid = mf.milestone.id
        if mf.customer_facing and late > health.red_slip_days:
            red.append(Reason("red", f"customer-milestone-{mf.state}", mid, days=late,
                              through=mf.driver))
        else:
            amber.append(Reason("amber", f"milestone-{mf.state}", mid, days=late,
                                through=mf.driver))
    for rf in risks:
        if rf.level != "critical":
            continue
        if rf.risk.status == "occurred":
            red.append(Reason("red", "critical-risk-occurred", rf.risk.id))
        elif rf.risk.status == "open":
            amber.append(Reason("amber", "critical-risk-open", rf.risk.id))
    for gf in goals:
        if gf.state == "behind" and gf.progress is not None:
            behind = round((gf.expected - gf.progress) * 100, _PRECISION)
            amber.append(Reason("amber", "goal-behind", gf.goal.id, points=behind))
    if budget is not None and budget.over:
        amber.append(Reason("amber", "budget-ahead", None, points=budget.ahead_points))
    level = "red" if red else "amber" if amber else "green"
    watermelon = reported is not None and _HEALTH_RANK[reported] > _HEALTH_RANK[level]
    return HealthFacts(
        level=level, reasons=(*red, *amber), reported=reported, watermelon=watermelon
    )


def _promised(f: MilestoneFacts, kickoff: Mapping[str, date]) -> MilestoneFacts:
    first = kickoff.get(f.milestone.id)
    if first is None or first == f.expected:
        return f
    return replace(f, first_promised=first, promised_days=(f.expected - first).days)


def _all_milestone_facts(project: Project, as_of: date,
                         kickoff: Mapping[str, date] | None = None,
                         schedule: Mapping[str, KnockOn] | None = None,
                         ) -> tuple[MilestoneFacts, ...]:
    if schedule is None:
        schedule = knock_on(schedule_items(project, as_of), as_of)
    facts = [_promised(_milestone_facts(m, p.id, as_of, schedule), kickoff or {})
             for p in project.phases for m in p.milestones]
    # sorted() is stable: ties keep the order of the plan.
    return tuple(sorted(facts, key=lambda f: (f.actual, f.milestone.due)))


def compute_health(project: Project, as_of: date, health: HealthSettings) -> HealthFacts:
    """Computed health as of a date, with reasons and the reported health."""
    latest = project.latest_update(iso_week(as_of))
    return _health(
        _all_milestone_facts(project, as_of),
        tuple(_goal_facts(g, project, as_of, health) for g in project.goals),
        tuple(_risk_facts(r) for r in project.risks),
        _budget_facts(project, as_of, health),
        latest.health if latest else None,
        health,
    )


# --- asks of sales ---------------------------------------------------------------------------


def _ask_stretches(updates: Sequence[Update], week: str) -> list[tuple[SalesAsk, str, str | None]]:
    """Each stretch of time an ask of sales is open, in the order raised, read from the updates
    of ``week`` and before: (its newest wording, the week raised, the week closed or None).

    An ask with an id stays open from the first update that lists it until one marks it done or
    dropped, whether or not the updates between repeat it. An ask without an id is known by its
    text and is open while each update lists it: teams wrote their whole list every week before
    asks had ids, and an ask left out meant it was dealt with. A done or dropped ask that is
    asked again later opens a new stretch. An ask that gains an id keeps the week it was first
    asked by its text.
    """
    stretches: list[tuple[SalesAsk, str, str | None]] = []
    current: dict[str, int] = {}  # key of an open ask → its stretch
    for update in updates:
        if update.week > week:
            break
        # An ask listed with an id under its old text is still listed: it is about to be adopted.
        listed = {k for a in update.sales_asks for k in (a.key, a.text_key)}
        for key, i in list(current.items()):
            if stretches[i][0].id is None and key not in listed:
                stretches[i] = (stretches[i][0], stretches[i][1], update.week)
                del current[key]
        for ask in update.sales_asks:
            if ask.key not in current and ask.text_key in current:
                current[ask.key] = current.pop(ask.text_key)
            at = current.get(ask.key)
            if ask.status != "open":
                if at is not None:  # closing an ask never asked closes nothing (validate warns)
                    stretches[at] = (stretches[at][0], stretches[at][1], update.week)
                    del current[ask.key]
            elif at is None:
                current[ask.key] = len(stretches)
                stretches.append((ask, update.week, None))
            else:
                stretches[at] = (ask, stretches[at][1], None)
    return stretches


def open_asks(updates: Sequence[Update], week: str) -> tuple[OpenAsk, ...]:
    """The asks of sales open in ``week``, oldest first, with how many weeks each has been open
    by then (a week without an update keeps the asks of the last one)."""
    end = friday_of(week)
    return tuple(
        OpenAsk(ask=ask, raised=raised, open_weeks=(end - friday_of(raised)).days // 7)
        for ask, raised, closed in _ask_stretches(updates, week)
        if closed is None
    )


@dataclass(frozen=True)
class AskSpan:
    """An ask of sales across the weekly updates: raised in the first update that lists it,
    closed by the update that marks it done or dropped or, for an ask without an id, by the
    first later update that no longer lists it."""

    ask: SalesAsk  # as last listed
    raised: str  # ISO week
    closed: str | None  # ISO week; None while it is still open
    weeks: int  # raised to closed, or to the latest update while open


def ask_spans(updates: Sequence[Update], week: str) -> tuple[AskSpan, ...]:
    """Every ask of the updates of ``week`` and before, in the order first raised, once for each
    stretch it was open (the rules of ``open_asks``)."""
    shown = [u.week for u in updates if u.week <= week]
    return tuple(
        AskSpan(ask, raised, closed,
                (friday_of(closed or shown[-1]) - friday_of(raised)).days // 7)
        for ask, raised, closed in _ask_stretches(updates, week)
    )


# --- meetings ----------------------------------------------------------------------------------


def _meeting_days(meeting: Meeting, start: date, project_start: date) -> Iterator[date]:
    """Every day the meeting takes place, on or after ``start``, in order: its cadence's days
    less the days it skips."""
    skipped = set(meeting.skip)
    return (day for day in _cadence_days(meeting, start, project_start) if day not in skipped)


def on_cadence(meeting: Meeting, day: date, project_start: date) -> bool:
    """Whether the meeting's cadence falls on ``day`` (skipped days included)."""
    return next(_cadence_days(meeting, day, project_start)) == day


def meeting_anchor(meeting: Meeting, project_start: date) -> date:
    """The first day of the meeting's cadence from the project's start, skipped or not: where
    its recurrence starts, and what a biweekly meeting counts its fortnights from."""
    return next(_cadence_days(meeting, project_start, project_start))


def _cadence_days(meeting: Meeting, start: date, project_start: date) -> Iterator[date]:
    """Every day of the meeting's cadence on or after ``start``, in order."""
    cadence = meeting.cadence
    if cadence == "daily":
        day = start
        while True:
            if day.weekday() < 5:
                yield day
            day += timedelta(days=1)
    if cadence in ("weekly", "biweekly"):
        weekday = weekday_index(meeting.day)
        step = 7 if cadence == "weekly" else 14
        # Biweekly meetings count their fortnights from the first such weekday of the project.
        anchor = start if cadence == "weekly" else project_start
        first = anchor + timedelta(days=(weekday - anchor.weekday()) % 7)
        if first < start:
            first += timedelta(days=-(-(start - first).days // step) * step)
        day = first
        while True:
            yield day
            day += timedelta(days=step)
    if cadence == "monthly":
        year, month = start.year, start.month
        while True:
            if isinstance(meeting.day, int) or str(meeting.day).strip().isdigit():
                day = date(year, month, int(str(meeting.day)))
            else:
                day = nth_weekday(year, month, str(meeting.day))
            if day >= start:
                yield day
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise ValueError(f"unknown meeting cadence {cadence!r}")


def _occurrence(meeting: Meeting, day: date, tz: ZoneInfo) -> MeetingOccurrence:
    hour, minute = (int(x) for x in meeting.time.split(":"))
    # Built as a wall-clock time in the meeting's zone, so it stays at 09:00 across a DST change;
    # the round trip through UTC moves a time inside a spring-forward gap to a real instant.
    # fold=0 is what RFC 5545 (3.3.5) prescribes, and so what a calendar client does with the
    # same RRULE: a skipped time takes the offset before the gap (02:30 → 03:30), a repeated
    # one is the first of the two.
    start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
    start = start.astimezone(UTC).astimezone(tz)
    # Duration is elapsed time, so it is added in UTC: wall-clock arithmetic would be an hour off
    # for a meeting that spans the DST change.
    end = (start.astimezone(UTC) + timedelta(minutes=meeting.duration)).astimezone(tz)
    return MeetingOccurrence(meeting=meeting, start=start, end=end)


def next_meetings(
    project: Project, as_of: date, default_tz: str, count: int = 1
) -> list[MeetingOccurrence]:
    """The next ``count`` occurrences of each meeting from the day after as_of, by start.

    "After the as-of date" means from the next calendar day, in the meeting's own time zone: a
    brief written on Friday lists what comes next, not what happened that morning. Meetings do
    not take place before the project starts, nor at all once it is done or cancelled.
    """
    if project.status in ("done", "cancelled"):
        return []
    first_day = max(as_of + timedelta(days=1), project.start)
    found: list[MeetingOccurrence] = []
    for meeting in project.meetings:
        tz = ZoneInfo(meeting.timezone or default_tz)
        days = _meeting_days(meeting, first_day, project.start)
        found.extend(_occurrence(meeting, next(days), tz) for _ in range(count))
    return sorted(found, key=lambda o: (o.start, o.meeting.id))


# --- everything --------------------------------------------------------------------------------


def compute_facts(project: Project, as_of: date, settings: Settings,
                  kickoff: Mapping[str, date] | None = None) -> ProjectFacts:
    """Every fact about a project as of a date; ``kickoff`` maps a milestone to its due in the
    kickoff baseline where history tells it (``timeline.first_promised``)."""
    health = settings.health
    week = iso_week(as_of)
    latest = project.latest_update(week)
    schedule = knock_on(schedule_items(project, as_of), as_of)
    milestones = _all_milestone_facts(project, as_of, kickoff, schedule)
    open_ms = [m for m in milestones if m.days_until is not None]
    goals = tuple(_goal_facts(g, project, as_of, health) for g in project.goals)
    risks = ranked_risks(project.risks)
    budget = _budget_facts(project, as_of, health)
    return ProjectFacts(
        project=project,
        as_of=as_of,
        week=week,
        update=project.update_for(week),
        open_asks=open_asks(project.updates, week),
        latest_update=latest,
        progress=_progress(project.phases, as_of),
        elapsed=time_elapsed(project.start, project.end, as_of),
        phases=tuple(_phase_facts(p, as_of, schedule) for p in project.phases),
        schedule=schedule,
        milestones=milestones,
        customer_milestones_next_4_weeks=tuple(
            m for m in open_ms
            if m.customer_facing and m.days_until is not None and 0 <= m.days_until <= 28
        ),
        slipped=tuple(m for m in open_ms if m.state in ("slipping", "overdue")),
        goals=goals,
        risks=risks,
        top_risks=tuple(r for r in risks if r.risk.status == "open"),
        occurred_risks=tuple(r for r in risks if r.risk.status == "occurred"),
        heatmap=heat_map(risks),
        budget=budget,
        health=_health(milestones, goals, risks, budget, latest.health if latest else None, health),
        next_meetings=tuple(next_meetings(project, as_of, settings.timezone)),
        health_history=tuple((u.week, u.health) for u in project.updates if u.week <= week),
        locale=project.locale or settings.locale,
        timezone=settings.timezone,
    )


def open_customer_milestones(facts: ProjectFacts) -> list[MilestoneFacts]:
    """The customer-facing milestones not yet done, soonest expected first: what comes next for
    the customer, overdue ones included (they are still owed). The brief and its email both
    take their "next customer date" from here."""
    # days_until is None for what was done by as_of: a brief of a past week still lists a
    # milestone finished since.
    open_ones = [m for m in facts.milestones if m.customer_facing and m.days_until is not None]
    return sorted(open_ones, key=lambda m: (m.expected, m.milestone.id))
