"""What each document shows: the views of ``views.py`` built from the model and the facts.

Names are looked up, sentences of reasons and changes put together from labels, and charts
drawn here, so that templates only lay out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Protocol

from .. import charts
from ..audience import sales_changes, sales_facts
from ..baselines import PlanChange, PlanHistory, kickoff_dues
from ..dates import iso_week
from ..facts import (
    AskSpan,
    GoalFacts,
    MilestoneFacts,
    OpenAsk,
    PhaseFacts,
    ProjectFacts,
    Reason,
    RiskFacts,
    ask_spans,
    axis_step,
    open_customer_milestones,
)
from ..i18n import Translator
from ..members import former, on_project, owner_on
from ..model import Handover, Meeting, Person, Project, Risk
from ..render import safe
from . import alt
from .views import (
    ActionRow,
    AskRow,
    AskSpanRow,
    BaselineRow,
    Baselines,
    BriefView,
    BudgetSummary,
    ChangeLine,
    CharterChange,
    CharterVersion,
    CharterView,
    Charts,
    CommunicationPlan,
    EmailProject,
    FeedbackRow,
    GanttAxis,
    GanttSection,
    GanttTask,
    GoalRow,
    HealthSummary,
    HeatCell,
    HeatRow,
    MeetingRow,
    MilestoneRow,
    NextMeeting,
    OccurredRisk,
    Outcome,
    PersonRow,
    PhaseRow,
    PortfolioRow,
    ProjectHead,
    RaciRow,
    ReasonLine,
    RebaselineRow,
    RetroView,
    RiskRow,
    UpdateSummary,
)

#: How many customer-facing dates and risks the brief lists: a sales person reads it in a minute.
BRIEF_DATES = 3
BRIEF_RISKS = 3
#: Open asks a portfolio's overview names per project: more would push it past one page.
OVERVIEW_ASKS = 2


class ChangeLike(Protocol):
    """What the brief needs of a change since last week (``planforge.changes.Change``)."""

    @property
    def kind(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def old(self) -> date | int | float | str | None: ...
    @property
    def new(self) -> date | int | float | str | None: ...
    @property
    def days(self) -> int | None: ...
    @property
    def customer_facing(self) -> bool: ...
    @property
    def note(self) -> str | None: ...
    @property
    def unit(self) -> str | None: ...
    @property
    def internal(self) -> bool: ...


# --- names and sentences ----------------------------------------------------------------------


class _Names:
    """People's names by id, the way every document prints them."""

    def __init__(self, project: Project, tr: Translator, as_of: date) -> None:
        self._people = project.people
        self._items = ({m.id: m.name for m in project.milestones}
                       | {t.id: t.name for t in project.tasks})
        self._sep = tr.label("common.list_sep")
        self.as_of = as_of

    def owner(self, owner: str | None, handed_over: tuple[Handover, ...],
              done: date | None = None) -> str:
        """The name of who owned an item on the document's date, or when it was done: work
        handed over keeps the name of who did it."""
        return self.one(owner_on(owner, handed_over, min(done or self.as_of, self.as_of)))

    @property
    def sep(self) -> str:
        """The list separator of the document's language."""
        return self._sep

    def one(self, pid: str | None) -> str:
        """A person's name; "" for nobody, the id itself for someone not in the plan."""
        if pid is None:
            return ""
        person = self._people.get(pid)
        return person.name if person else pid

    def item(self, ident: str) -> str:
        """A milestone's or task's name by id; the id itself for one not in the plan."""
        return self._items.get(ident, ident)

    def joined(self, pids: Iterable[str]) -> str:
        """Several names joined with the list separator; "" for none."""
        return self._sep.join(self.one(p) for p in pids)


def _value(tr: Translator, value: date | int | float | str | None) -> str:
    if value is None:
        return tr.label("common.none")
    if isinstance(value, date):
        return tr.date(value)
    if isinstance(value, bool):
        return tr.label("common.yes" if value else "common.no")
    if isinstance(value, int | float):
        return tr.number(value)
    return str(value)


def _subject(project: Project, subject_id: str | None) -> str:
    if subject_id is None:
        return ""
    for m in project.milestones:
        if m.id == subject_id:
            return m.name
    for g in project.goals:
        if g.id == subject_id:
            return g.title
    for r in project.risks:
        if r.id == subject_id:
            return r.title
    return subject_id


def reason_lines(project: Project, reasons: Iterable[Reason], tr: Translator,
                 as_of: date) -> list[ReasonLine]:
    """Health reasons as sentences in the document's language.

    Milestones pushed by the same driver at the same level share one line that names the driver:
    a slip that ripples through the plan is one cause, not one alarm per milestone. When the
    driver has a line of its own, that line counts what follows it instead.
    """
    names = _Names(project, tr, as_of)
    reasons = list(reasons)
    groups: dict[tuple[str, str], list[Reason]] = {}
    for r in reasons:
        if r.through is not None:
            groups.setdefault((r.level, r.through), []).append(r)
    lines = []
    for r in reasons:
        follow = groups.pop((r.level, r.subject_id or ""), None) if r.through is None else None
        text = tr.label(
            f"reason.{r.code}",
            subject=_subject(project, r.subject_id),
            days=tr.days(r.days) if r.days is not None else "",
            points=tr.points(r.points) if r.points is not None else "",
        )
        if r.through is not None:
            group = groups.pop((r.level, r.through), None)
            if group is None:  # already said with the first of its group
                continue
            driver = names.item(r.through)
            if len(group) == 1 and r.code.endswith("milestone-slipping"):
                # Said as late through its driver, not after its baseline: one line in a brief.
                text = tr.label("reason.pushed_one", subject=_subject(project, r.subject_id),
                                days=tr.days(r.days or 0), driver=driver)
            elif len(group) == 1:
                text = tr.label("reason.through", reason=text, driver=driver)
            else:
                text = tr.label(
                    "reason.pushed", driver=driver,
                    days=tr.days(max(g.days or 0 for g in group)),
                    subjects=names.sep.join(
                        tr.label("reason.quoted", subject=_subject(project, g.subject_id))
                        for g in group))
        if follow:  # the driver's own line says what follows it; the table names them
            text = tr.label("reason.followed", reason=text, count=len(follow),
                            days=tr.days(max(g.days or 0 for g in follow)))
        lines.append(ReasonLine(r.level, text))
    return lines


def change_lines(changes: Iterable[ChangeLike], tr: Translator) -> list[ChangeLine]:
    """Changes since last week as sentences; customer-facing ones first, otherwise as given."""
    def value(c: ChangeLike, v: date | int | float | str | None) -> str:
        # A status and a budget read in the document's language, not as the YAML spells them.
        if c.kind == "project-status" and isinstance(v, str) and tr.has(f"status.{v}"):
            return tr.label(f"status.{v}")
        return _rebaseline_value(v, c.unit, tr)

    lines = []
    for c in changes:
        key = f"change.{c.kind}" if tr.has(f"change.{c.kind}") else "change.other"
        text = tr.label(
            key,
            subject=c.subject,
            old=value(c, c.old),
            new=value(c, c.new),
            days=tr.days(c.days) if c.days is not None else "",
        )
        lines.append(ChangeLine(c.kind, text, c.customer_facing, c.note))
    return sorted(lines, key=lambda line: not line.customer_facing)


def _clock(hhmm: str, minutes: int) -> tuple[str, str]:
    start = datetime.strptime(hhmm, "%H:%M")
    end = start + timedelta(minutes=minutes)
    return start.strftime("%H:%M"), end.strftime("%H:%M")


def meeting_when(m: Meeting, tr: Translator, default_tz: str) -> str:
    """When a meeting recurs, in words: "Every Thursday, 14:00–14:30 (Europe/Berlin)"."""
    start, end = _clock(m.time, m.duration)
    args: dict[str, str] = {"start": start, "end": end, "tz": m.timezone or default_tz}
    day = m.day
    if m.cadence == "monthly" and isinstance(day, int):
        key = "when.monthly_day"
        args["day"] = str(day)
    elif m.cadence == "monthly" and isinstance(day, str) and " " in day:
        ordinal, weekday = day.lower().split(None, 1)
        key = "when.monthly_nth"
        args["ordinal"] = tr.label(f"ordinal.{ordinal}")
        args["day"] = tr.label(f"weekday.{weekday}")
    elif m.cadence in ("weekly", "biweekly") and isinstance(day, str):
        key = f"when.{m.cadence}"
        args["day"] = tr.label(f"weekday.{day.lower()}")
    else:
        key = f"when.{m.cadence}_any"
    return tr.label(key, **args)


# --- records ----------------------------------------------------------------------------------


def _head(project: Project, names: _Names) -> ProjectHead:
    coordinator = project.communication.coordinator if project.communication else None
    return ProjectHead(
        id=project.id,
        name=project.name,
        customer=project.customer,
        status=project.status,
        start=project.start,
        end=project.end,
        summary=project.summary,
        coordinator=names.one(coordinator) if coordinator else None,
        sales=tuple(p.name for p in on_project(project, names.as_of) if p.team == "sales"),
    )


def _person_row(p: Person) -> PersonRow:
    return PersonRow(p.name, p.role, p.team, p.email, p.brief, p.joined, p.left)


def _milestone_row(m: MilestoneFacts, names: _Names) -> MilestoneRow:
    return MilestoneRow(
        name=m.milestone.name,
        owner=names.owner(m.milestone.owner, m.milestone.handed_over, m.milestone.done),
        customer_facing=m.customer_facing,
        due=m.milestone.due,
        expected=m.expected,
        done=m.milestone.done,
        actual=m.actual,
        state=m.state,
        days=m.days,
        variance_days=m.variance_days,
        reason=m.milestone.reason,
        first_promised=m.first_promised,
        promised_days=m.promised_days,
        driven_by=tuple(names.item(i) for i in m.driven_by),
        driver=names.item(m.driver) if m.driver else None,
    )


def _goal_note(g: GoalFacts, project: Project, tr: Translator) -> str | None:
    """Why a goal is not judged yet: measuring starts later, or its latest actual is old."""
    if g.state == "waiting" and g.measure_from is not None:
        ms = next((m for m in project.milestones if m.id == g.goal.measure_from_milestone), None)
        if ms is not None:
            return tr.label("goal.measured_from_milestone", milestone=ms.name,
                            date=tr.date(g.measure_from))
        return tr.label("goal.measured_from", date=tr.date(g.measure_from))
    if g.state == "stale" and g.actual_week is not None and g.actual_age is not None:
        return tr.label("goal.stale", week=g.actual_week,
                        weeks=tr.label("common.weeks", n=tr.number(g.actual_age)))
    return None


def _goal_row(g: GoalFacts, names: _Names, tr: Translator, project: Project) -> GoalRow:
    goal = g.goal
    return GoalRow(
        title=goal.title,
        metric=goal.metric,
        why=goal.why,
        baseline=goal.baseline,
        target=goal.target,
        unit=goal.unit,
        due=goal.due,
        owner=names.owner(goal.owner, goal.handed_over),
        actual=g.actual,
        actual_week=g.actual_week,
        progress=g.progress,
        expected=g.expected,
        state=g.state,
        measure_from=g.measure_from,
        stale=g.state == "stale",
        note=_goal_note(g, project, tr),
    )


def _risk_numbers(risks: Sequence[RiskFacts]) -> dict[str, str]:
    """R1, R2 … in register order (score descending): the heat map names risks by number."""
    return {r.risk.id: f"R{i}" for i, r in enumerate(risks, start=1)}


def _risk_row(r: RiskFacts, numbers: dict[str, str], names: _Names) -> RiskRow:
    risk = r.risk
    return RiskRow(
        number=numbers[risk.id],
        title=risk.title,
        category=risk.category,
        trigger=risk.trigger,
        likelihood=risk.likelihood,
        impact=risk.impact,
        score=r.score,
        level=r.level,
        owner=names.owner(risk.owner, risk.handed_over),
        mitigation=risk.mitigation,
        contingency=risk.contingency,
        status=risk.status,
        customer_message=risk.customer_message,
        internal=risk.internal,
    )


def _phase_row(p: PhaseFacts, names: _Names) -> PhaseRow:
    return PhaseRow(
        name=p.phase.name,
        owner=names.owner(p.phase.owner, p.phase.handed_over),
        start=p.phase.start,
        end=p.phase.end,
        milestones=tuple(_milestone_row(m, names) for m in p.milestones),
    )


def _schedule_gantt(facts: ProjectFacts, tr: Translator,
                    names: _Names) -> tuple[GanttSection, ...]:
    """The phases as a Mermaid gantt: each phase's bar, then its milestones; one pushed by a
    dependency sits at its pushed date, marked critical and named "through" its driver."""
    sections = []
    for p in facts.phases:
        tasks = [
            GanttTask(
                p.phase.name,
                "done, " if p.state == "done" else "active, " if p.state == "active" else "",
                p.phase.start.isoformat(),
                # Mermaid's end date is exclusive: the phase ends at the end of its last day.
                (p.phase.end + timedelta(days=1)).isoformat(),
            )
        ]
        for m in p.milestones:
            tags = "milestone, "
            if m.milestone.done is not None:
                tags += "done, "
            elif m.state in ("slipping", "overdue"):
                tags += "crit, "
            name = ("★ " if m.customer_facing else "") + m.milestone.name
            if m.driver is not None and m.actual > m.milestone.due:
                name += " " + tr.label("common.paren", text=tr.label(
                    "chart.through", driver=names.item(m.driver)))
            tasks.append(GanttTask(name, tags, m.actual.isoformat(), "0d"))
        sections.append(GanttSection(p.phase.name, tuple(tasks)))
    return tuple(sections)


def _variance_gantt(facts: ProjectFacts, tr: Translator,
                    kickoff: Mapping[str, date]) -> tuple[GanttSection, ...]:
    """Baseline against actual as a Mermaid gantt: every milestone twice, once per section. The
    baseline is the kickoff's date where history gives one, else today's ``due``."""
    due = {m.milestone.id: kickoff.get(m.milestone.id, m.milestone.due) for m in facts.milestones}
    baseline = tuple(GanttTask(m.milestone.name, "milestone, ", due[m.milestone.id].isoformat(),
                               "0d")
                     for m in facts.milestones)
    actual = tuple(GanttTask(m.milestone.name,
                             "milestone, crit, " if m.actual > due[m.milestone.id]
                             else "milestone, done, ",
                             m.actual.isoformat(), "0d")
                   for m in facts.milestones)
    return (GanttSection(tr.label("retro.baseline"), baseline),
            GanttSection(tr.label("retro.actual"), actual))


#: Mermaid's tick interval and the label key of the axis format, per tick step. Month names in
#: Mermaid's axis are English whatever the locale, so the catalogs' formats say which to use.
_AXIS_TICKS = {"day": ("1day", "chart.axis_day"), "week": ("1week", "chart.axis_day"),
               "month": ("1month", "chart.axis_month"), "quarter": ("3month", "chart.axis_month"),
               "year": ("12month", "chart.axis_year")}


def _gantt_axis(sections: Sequence[GanttSection], tr: Translator) -> GanttAxis:
    """The axis of a gantt block, from the span its bars and milestones cover."""
    days = [date.fromisoformat(d) for s in sections for t in s.tasks
            for d in (t.start, t.end) if d != "0d"]  # a milestone's length, not a date
    step = axis_step(min(days), max(days)) if days else "month"
    ticks, key = _AXIS_TICKS[step]
    return GanttAxis(pattern=tr.label(key), ticks=ticks)


def _budget(facts: ProjectFacts) -> BudgetSummary | None:
    b = facts.budget
    if b is None:
        return None
    spent = b.budget.spent
    return BudgetSummary(
        currency=b.budget.currency,
        planned=b.budget.planned,
        spent=spent,
        remaining=b.budget.planned - spent if spent is not None else None,
        spent_share=b.spent_share,
        elapsed=b.elapsed,
        ahead_points=b.ahead_points,
        over=b.over,
    )


def _budget_verdict(budget: BudgetSummary | None, tr: Translator,
                    planned: float | None = None) -> str:
    """"EUR 11,500 over budget (+7%)", or under, or on budget: against ``planned`` where given
    (the kickoff budget), else against the plan's."""
    if budget is None or budget.spent is None:
        return tr.label("common.none")
    planned = budget.planned if planned is None else planned
    difference = budget.spent - planned
    if not difference:
        return tr.label("retro.on_budget")
    share = tr.percent(abs(difference) / planned) if planned else ""
    key = "retro.over" if difference > 0 else "retro.under"
    return tr.label(key, amount=tr.money(abs(difference), budget.currency), share=share)


def customer_next(facts: ProjectFacts) -> list[MilestoneFacts]:
    """The next customer dates the brief lists, soonest first."""
    return open_customer_milestones(facts)[:BRIEF_DATES]


def _brief_milestones(facts: ProjectFacts) -> list[MilestoneFacts]:
    """Customer-facing milestones due in the next four weeks, then every slipped one."""
    seen: set[str] = set()
    out = []
    for m in (*facts.customer_milestones_next_4_weeks, *facts.slipped):
        if m.milestone.id not in seen:
            seen.add(m.milestone.id)
            out.append(m)
    return sorted(out, key=lambda m: (m.expected, m.milestone.id))


def _folded_rows(milestones: Sequence[MilestoneFacts], names: _Names) -> tuple[MilestoneRow, ...]:
    """Rows for the brief's table; a milestone pushed by one listed goes in its driver's row.

    One line per ripple keeps a brief on two pages when a slip moves every later milestone.
    """
    listed = {m.milestone.id for m in milestones}
    pushed: dict[str, list[MilestoneRow]] = {}
    for m in milestones:
        if m.driver in listed and m.driver != m.milestone.id:
            pushed.setdefault(m.driver, []).append(_milestone_row(m, names))
    return tuple(
        replace(_milestone_row(m, names), pushes=tuple(pushed.get(m.milestone.id, ())))
        for m in milestones if m.driver not in listed)


def _health_weeks(project: Project, facts: ProjectFacts) -> list[charts.HealthWeek]:
    """Every ISO week from the project's start to its end or the as-of date, whichever comes
    first, with the health the team reported that week (None: no update that week).

    Only reported health is shown week by week: the health computed for a past week from
    today's plan would use hindsight (today's spending, today's forecasts), not what the plan
    said then.
    """
    reported = dict(facts.health_history)
    last = min(project.end, facts.as_of)
    monday = project.start - timedelta(days=project.start.weekday())
    weeks = []
    while monday <= last:
        week = iso_week(monday)
        weeks.append(charts.HealthWeek(week, reported.get(week)))
        monday += timedelta(days=7)
    return weeks


def _heat_rows(facts: ProjectFacts, risk_no: dict[str, str]) -> tuple[HeatRow, ...]:
    """The heat map as rows for a Markdown table, likelihood 5 at the top."""
    return tuple(
        HeatRow(li, tuple(
            HeatCell(facts.heatmap.level(li, im),
                     tuple(risk_no.get(i, i) for i in facts.heatmap.cells[li - 1][im - 1]))
            for im in range(1, 6)
        ))
        for li in range(5, 0, -1)
    )


def _signoff(project: Project) -> list[Person]:
    """Who signs the charter: the customer and management sponsors, the sales people who own
    the relationship, and on the delivery side whoever answers for the plan: the coordinator
    and the accountable of each RACI row or, in a plan with neither, the phase owners."""
    delivery = {project.communication.coordinator} if project.communication else set()
    delivery |= {row.accountable for row in project.responsibilities}
    delivery.discard(None)
    if not delivery:
        delivery = {phase.owner for phase in project.phases if phase.owner}
    return [
        p
        for p in project.people.values()
        if p.team in ("customer", "management")
        or (p.team == "sales" and p.brief)
        or p.id in delivery
    ]


def _outcome(facts: ProjectFacts, baselines: Baselines | None) -> Outcome:
    """The counts at a glance; with history, milestones on time against the kickoff baseline
    and every risk that occurred at any time."""
    on_time = sum(m.state == "done-on-time" for m in facts.milestones)
    risks = len(facts.risks)
    occurred = sum(r.risk.status == "occurred" for r in facts.risks)
    if baselines is not None:
        on_time = sum(m.state == "done-on-time" for m in baselines.milestones)
        occurred = len(baselines.occurred)
        risks += sum(o.status is None for o in baselines.occurred)
    return Outcome(
        goals=len(facts.goals),
        goals_achieved=sum(g.state == "achieved" for g in facts.goals),
        milestones=len(facts.milestones),
        milestones_on_time=on_time,
        open_milestones=sum(m.days_until is not None for m in facts.milestones),
        risks=risks,
        risks_occurred=occurred,
    )


def _baseline_row(m: MilestoneFacts, kickoff: date | None) -> BaselineRow:
    variance = (m.actual - kickoff).days if kickoff is not None else None
    state: str = m.state
    if m.state == "done-on-time" and variance is not None and variance > 0:
        state = "done-late"  # on time only against a date moved after kickoff
    return BaselineRow(
        name=m.milestone.name,
        customer_facing=m.customer_facing,
        kickoff=kickoff,
        due=m.milestone.due,
        done=m.milestone.done if m.days_until is None else None,
        actual=m.actual,
        variance_kickoff=variance,
        variance_due=m.variance_days,
        state=state,
        reason=m.milestone.reason,
    )


def _rebaseline_value(value: date | float | str | None, currency: str | None,
                      tr: Translator) -> str:
    if isinstance(value, float | int) and not isinstance(value, bool) and currency:
        return tr.money(value, currency)
    return _value(tr, value)


def _baselines(project: Project, facts: ProjectFacts, history: PlanHistory | None,
               tr: Translator) -> Baselines | None:
    if history is None or history.kickoff is None:
        return None
    kickoff = history.kickoff.project
    due_then = {m.id: m.due for m in kickoff.milestones}
    currency = project.budget.currency if project.budget else None
    now = {r.id: r for r in project.risks}
    occurred = [
        OccurredRisk(o.title, o.first, now[o.risk_id].status if o.risk_id in now else None,
                     _response(now.get(o.risk_id)))
        for o in history.occurred
    ]
    seen = {o.risk_id for o in history.occurred}
    occurred += [OccurredRisk(r.title, None, r.status, _response(r))
                 for r in project.risks if r.status == "occurred" and r.id not in seen]
    return Baselines(
        kickoff=history.kickoff.day,
        commit=history.kickoff.commit[:7],
        milestones=tuple(_baseline_row(m, due_then.get(m.milestone.id))
                         for m in facts.milestones),
        rebaselines=tuple(
            RebaselineRow(
                r.day, r.kind, r.subject,
                _rebaseline_value(r.old, currency, tr), _rebaseline_value(r.new, currency, tr),
                (r.new - r.old).days if isinstance(r.old, date) and isinstance(r.new, date)
                else None,
                r.reason,
            )
            for r in history.rebaselines
        ),
        occurred=tuple(occurred),
        budget_kickoff=kickoff.budget.planned if kickoff.budget else None,
    )


def _response(risk: Risk | None) -> str:
    return (risk.contingency or risk.mitigation) if risk is not None else ""


def _ask_span_row(span: AskSpan, names: _Names) -> AskSpanRow:
    return AskSpanRow(span.ask.ask, names.one(span.ask.owner), span.raised, span.closed,
                      span.weeks)


def _open_since(ask: OpenAsk, tr: Translator) -> str | None:
    if not ask.open_weeks:
        return None
    weeks = tr.label("common.week_count" if ask.open_weeks == 1 else "common.weeks",
                     n=tr.number(ask.open_weeks))
    return tr.label("brief.open_since", week=ask.raised, weeks=weeks)


def _ask_rows(asks: Iterable[OpenAsk], names: _Names, tr: Translator) -> tuple[AskRow, ...]:
    return tuple(AskRow(o.ask.ask, names.one(o.ask.owner), o.ask.due, o.raised, o.open_weeks,
                        _open_since(o, tr))
                 for o in asks)


def _update(facts: ProjectFacts, names: _Names, tr: Translator) -> UpdateSummary | None:
    update = facts.update or facts.latest_update
    if update is None:
        return None
    return UpdateSummary(
        week=update.week,
        stale=update.week != facts.week,
        summary=update.summary,
        blockers=update.blockers,
        decisions=update.decisions,
        talking_points=update.talking_points,
        asks=_ask_rows(facts.open_asks, names, tr),
        feedback=tuple(FeedbackRow(fb.feedback, names.one(fb.source), fb.response)
                       for fb in update.customer_feedback),
    )


def _charts(kind: str, project: Project, facts: ProjectFacts, tr: Translator,
            accent: str | None, risk_no: dict[str, str]) -> Charts:
    """The SVG charts a document shows, drawn only for the documents that show them, and only
    when a brand colour is given: Markdown shows none."""
    if accent is None:
        return Charts()
    goals, goals_text = None, None
    if facts.goals:
        goals_text = alt.goals_alt(facts.goals, tr)
        goals = safe(charts.goal_bars(facts.goals, tr, goals_text))
    if kind == "charter":
        gantt_text = alt.gantt_alt(facts.phases, tr)
        heat_text = alt.heatmap_alt(facts.heatmap, risk_no, tr)
        return Charts(
            goals=goals,
            gantt=safe(charts.gantt(facts.phases, facts.as_of, tr, accent, project.start,
                                    project.end, gantt_text)),
            heatmap=safe(charts.heatmap(facts.heatmap, risk_no, tr, heat_text)),
            goals_alt=goals_text, gantt_alt=gantt_text, heatmap_alt=heat_text,
        )
    if kind == "retro":
        weeks = _health_weeks(project, facts)
        variance_text = alt.variance_alt(facts.milestones, tr)
        health_text = alt.health_alt(weeks, tr)
        return Charts(
            goals=goals,
            variance=safe(charts.variance(facts.milestones, tr, variance_text)),
            health=safe(charts.health_strip(weeks, tr, health_text)),
            goals_alt=goals_text, variance_alt=variance_text, health_alt=health_text,
        )
    return Charts(goals=goals, goals_alt=goals_text)


# --- the views --------------------------------------------------------------------------------


def _charter_change(change: PlanChange, currency: str | None, tr: Translator) -> CharterChange:
    days = (change.new - change.old).days if (isinstance(change.old, date)
                                              and isinstance(change.new, date)) else None
    text = tr.label(f"charter_change.{change.kind}", subject=change.subject,
                    old=_rebaseline_value(change.old, currency, tr),
                    new=_rebaseline_value(change.new, currency, tr),
                    days=tr.days(days) if days is not None else "")
    return CharterChange(change.day, change.kind, text, change.reason)


def charter_version(history: PlanHistory | None, tr: Translator) -> CharterVersion:
    """Which version a charter shows: the one agreed at kickoff with every change since, a
    draft before kickoff, or today's plan when there is no history (``history`` None)."""
    if history is None:
        return CharterVersion("unknown", None, None, ())
    agreed = history.agreed
    if agreed is None:
        return CharterVersion("draft", None, None, ())
    budget = agreed.project.budget
    currency = budget.currency if budget else None
    return CharterVersion("kickoff", agreed.day, agreed.commit[:7],
                          tuple(_charter_change(c, currency, tr) for c in history.changes))


def charter_view(project: Project, facts: ProjectFacts, tr: Translator, default_tz: str,
                 accent: str | None, history: PlanHistory | None = None) -> CharterView:
    """The kickoff charter's view of ``project`` (the kickoff version where there is one);
    ``accent`` draws the charts (None: Markdown, no charts); ``history`` None: not known."""
    names = _Names(project, tr, facts.as_of)
    risk_no = _risk_numbers(facts.risks)
    comm = project.communication
    gantt = _schedule_gantt(facts, tr, names)
    return CharterView(
        version=charter_version(history, tr),
        project=_head(project, names),
        scope_in=project.scope_in,
        scope_out=project.scope_out,
        acceptance=project.acceptance,
        goals=tuple(_goal_row(g, names, tr, project) for g in facts.goals),
        people=tuple(_person_row(p) for p in on_project(project, facts.as_of)),
        raci=tuple(RaciRow(r.area, names.one(r.responsible), names.one(r.accountable),
                           names.joined(r.consulted), names.joined(r.informed))
                   for r in project.responsibilities),
        phases=tuple(_phase_row(p, names) for p in facts.phases),
        gantt=gantt,
        gantt_axis=_gantt_axis(gantt, tr),
        risks=tuple(_risk_row(r, risk_no, names) for r in facts.risks),
        heat_rows=_heat_rows(facts, risk_no),
        communication=CommunicationPlan(comm.channels, comm.norms) if comm else None,
        meetings=tuple(
            MeetingRow(m.name, m.purpose, m.agenda, m.channel, meeting_when(m, tr, default_tz),
                       names.joined(m.attendees))
            for m in project.meetings
        ),
        budget=_budget(facts),
        signoff=tuple(_person_row(p) for p in _signoff(project)
                      if p.active_on(facts.as_of)),
        charts=_charts("charter", project, facts, tr, accent, risk_no),
        former=tuple(_person_row(p) for p in former(project, facts.as_of)),
    )


def brief_view(project: Project, facts: ProjectFacts, tr: Translator, default_tz: str,
               accent: str | None, changes: Sequence[ChangeLike] | None) -> BriefView:
    """The weekly brief's view; ``changes`` None: not known (no history)."""
    facts = sales_facts(facts)
    project = facts.project
    names = _Names(project, tr, facts.as_of)
    risk_no = _risk_numbers(facts.risks)
    top = facts.top_risks[:BRIEF_RISKS]
    return BriefView(
        project=_head(project, names),
        anchor=f"project-{project.id}",
        health=HealthSummary(facts.health.level, facts.health.reported, facts.health.watermelon,
                             tuple(reason_lines(project, facts.health.reasons, tr, facts.as_of))),
        progress=facts.progress,
        elapsed=facts.elapsed,
        next_dates=tuple(_milestone_row(m, names) for m in customer_next(facts)),
        update=_update(facts, names, tr),
        risk_messages=tuple(r.risk.customer_message for r in top if r.risk.customer_message),
        issues=tuple(_risk_row(r, risk_no, names) for r in facts.occurred_risks),
        milestones=_folded_rows(_brief_milestones(facts), names),
        goals=tuple(_goal_row(g, names, tr, project) for g in facts.goals),
        top_risks=tuple(_risk_row(r, risk_no, names) for r in top),
        changes=(tuple(change_lines(sales_changes(changes), tr)) if changes is not None
                 else None),
        next_meetings=tuple(
            NextMeeting(
                o.meeting.name,
                tr.label("when.next", day=tr.date(o.start.date(), "weekday"),
                         start=tr.time(o.start), tz=o.meeting.timezone or default_tz),
                o.meeting.channel,
            )
            for o in facts.next_meetings
        ),
        charts=_charts("brief", project, facts, tr, accent, risk_no),
    )


def retro_view(project: Project, facts: ProjectFacts, tr: Translator,
               accent: str | None, history: PlanHistory | None = None) -> RetroView:
    """The retrospective's view; the project must have a retrospective. ``history`` None: the
    plan's history is not known, and milestones are compared with today's ``due``."""
    retro = project.retrospective
    assert retro is not None
    names = _Names(project, tr, facts.as_of)
    risk_no = _risk_numbers(facts.risks)
    budget = _budget(facts)
    baselines = _baselines(project, facts, history, tr)
    gantt = _variance_gantt(facts, tr, kickoff_dues(history.kickoff)
                            if baselines and history else {})
    return RetroView(
        project=_head(project, names),
        held=retro.held,
        facilitator=names.one(retro.facilitator) if retro.facilitator else None,
        outcome=_outcome(facts, baselines),
        goals=tuple(_goal_row(g, names, tr, project) for g in facts.goals),
        milestones=tuple(_milestone_row(m, names) for m in facts.milestones),
        gantt=gantt,
        gantt_axis=_gantt_axis(gantt, tr),
        risks=tuple(_risk_row(r, risk_no, names) for r in facts.risks),
        budget=budget,
        budget_verdict=_budget_verdict(budget, tr,
                                       baselines.budget_kickoff if baselines else None),
        health_weeks=tuple(_health_weeks(project, facts)),
        asks=tuple(_ask_span_row(a, names) for a in ask_spans(project.updates, facts.week)),
        baselines=baselines,
        went_well=retro.went_well,
        to_improve=retro.to_improve,
        lessons=retro.lessons,
        actions=tuple(ActionRow(a.action, names.one(a.owner), a.due) for a in retro.actions),
        charts=_charts("retro", project, facts, tr, accent, risk_no),
        former=tuple(_person_row(p) for p in former(project, facts.as_of)),
    )


def portfolio_row(project: Project, facts: ProjectFacts, tr: Translator) -> PortfolioRow:
    """One project's row in a portfolio's overview, in the portfolio's language ``tr``."""
    facts = sales_facts(facts)
    project = facts.project
    nxt = customer_next(facts)
    names = _Names(project, tr, facts.as_of)
    update = facts.latest_update  # the update the reported health comes from
    asks = _ask_rows(facts.open_asks, names, tr)
    top = facts.top_risks[:1]
    return PortfolioRow(
        anchor=f"project-{project.id}",
        name=project.name,
        customer=project.customer,
        reported=facts.health.reported,
        computed=facts.health.level,
        watermelon=facts.health.watermelon,
        next_date=_milestone_row(nxt[0], names) if nxt else None,
        slipped=len(facts.slipped),
        asks=len(facts.open_asks),
        reported_week=update.week if update and update.week != facts.week else None,
        top_asks=asks[:OVERVIEW_ASKS],
        more_asks=max(len(asks) - OVERVIEW_ASKS, 0),
        top_risk=_risk_row(top[0], _risk_numbers(facts.risks), names) if top else None,
    )


def email_project(facts: ProjectFacts, tr: Translator, week: str) -> EmailProject:
    """What the email of ``week`` says about one project."""
    facts = sales_facts(facts)
    project = facts.project
    update = facts.latest_update
    upcoming = open_customer_milestones(facts)  # as the attached brief shows it
    names = _Names(project, tr, facts.as_of)
    return EmailProject(
        id=project.id,
        name=project.name,
        customer=project.customer,
        reported=facts.health.reported,
        computed=facts.health.level,
        watermelon=facts.health.watermelon,
        summary=update.summary.strip() if update else None,
        update_week=update.week if update else None,
        # An older update is still shown, but dated, so nobody mistakes it for this week's.
        stale=update is not None and update.week != week,
        asks=_ask_rows(facts.open_asks, names, tr),
        next_date=upcoming[0].expected if upcoming else None,
        next_milestone=upcoming[0].milestone.name if upcoming else None,
        next_promised=upcoming[0].first_promised if upcoming else None,
        next_promised_days=upcoming[0].promised_days if upcoming else 0,
        next_driver=names.item(upcoming[0].driver) if upcoming and upcoming[0].driver else None,
    )
