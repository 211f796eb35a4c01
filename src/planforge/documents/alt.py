"""Text alternatives of the charts: what each chart shows, in sentences of the document's
language, for the tagged PDF (the figure's /Alt) and for screen readers in HTML."""

from __future__ import annotations

from collections.abc import Sequence

from ..charts import HealthWeek
from ..facts import GoalFacts, HeatMap, MilestoneFacts, PhaseFacts
from ..i18n import Translator


def _state(m: MilestoneFacts, tr: Translator) -> str:
    state = tr.label(f"milestone_state.{m.state}")
    if m.state in ("slipping", "overdue", "done-late") and m.days:
        return f"{state} {tr.label('common.paren', text=tr.days(m.days))}"
    return state


def milestone_text(m: MilestoneFacts, tr: Translator) -> str:
    """One milestone as the schedule's alternative names it: baseline, date now, state."""
    key = "chart.alt_milestone_done" if m.milestone.done else "chart.alt_milestone"
    return tr.label(key, name=m.milestone.name, due=tr.date(m.milestone.due),
                    date=tr.date(m.actual), state=_state(m, tr))


def gantt_alt(phases: Sequence[PhaseFacts], tr: Translator) -> str:
    """The schedule in words: each phase with its dates and progress, then its milestones."""
    parts = []
    for p in phases:
        parts.append(tr.label("chart.alt_phase", name=p.phase.name, start=tr.date(p.phase.start),
                              end=tr.date(p.phase.end), progress=tr.percent(p.progress)))
        parts += [milestone_text(m, tr) for m in p.milestones]
    return tr.label("chart.alt", chart=tr.label("chart.gantt"),
                    items=tr.label("common.semicolon").join(parts))


def goals_alt(goals: Sequence[GoalFacts], tr: Translator) -> str:
    """Each goal's progress, its state and the progress expected by now."""
    parts = [tr.label("chart.alt_goal", goal=g.goal.title,
                      progress=tr.percent(g.progress) if g.progress is not None
                      else tr.label("common.none"),
                      state=tr.label(f"goal_state.{g.state}"),
                      expected=tr.label("chart.expected", value=tr.percent(g.expected)))
             for g in goals]
    return tr.label("chart.alt", chart=tr.label("chart.goals"),
                    items=tr.label("common.semicolon").join(parts))


def heatmap_alt(heat: HeatMap, numbers: dict[str, str], tr: Translator) -> str:
    """The cells holding open risks, highest likelihood first, with the risks in each."""
    parts = []
    for li in range(5, 0, -1):
        for im in range(5, 0, -1):
            ids = heat.cells[li - 1][im - 1]
            if ids:
                parts.append(tr.label(
                    "chart.alt_heat_cell", likelihood=li, impact=im,
                    level=tr.label(f"risk_level.{heat.level(li, im)}"),
                    risks=tr.label("common.list_sep").join(numbers.get(i, i) for i in ids)))
    items = tr.label("common.semicolon").join(parts) or tr.label("chart.alt_no_risks")
    return tr.label("chart.alt", chart=tr.label("chart.heatmap"), items=items)


def variance_alt(milestones: Sequence[MilestoneFacts], tr: Translator) -> str:
    """Each milestone's days early or late against its baseline."""
    parts = [tr.label("chart.alt_variance", name=m.milestone.name,
                      days=tr.days(m.variance_days) if m.variance_days
                      else tr.label("chart.on_time"))
             for m in milestones]
    return tr.label("chart.alt", chart=tr.label("chart.variance"),
                    items=tr.label("common.semicolon").join(parts))


def health_alt(weeks: Sequence[HealthWeek], tr: Translator) -> str:
    """The health reported in each week, or that there was no update."""
    parts = [tr.label("chart.alt_week", week=w.week,
                      health=tr.label(f"health.{w.reported}") if w.reported
                      else tr.label("chart.alt_no_update"))
             for w in weeks]
    return tr.label("chart.alt", chart=tr.label("chart.health"),
                    items=tr.label("common.semicolon").join(parts))
