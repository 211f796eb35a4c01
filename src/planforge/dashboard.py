"""A project's row of the portfolio dashboard (``output/index.html``), as a sales reader sees it.

The row is computed where the project is built and kept in the manifest, so the dashboard is
made from the manifest alone: a merge of CI shards writes the same page without loading a plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .audience import sales_facts
from .facts import MilestoneFacts, ProjectFacts, open_customer_milestones

#: How far ahead the dashboard lists customer-facing dates.
UPCOMING_DAYS = 42
#: How many weeks of health the trend shows, the as-of week included.
TREND_WEEKS = 8


@dataclass(frozen=True)
class TrendPoint:
    """A project's health in one week: computed from the plan as committed then, and reported."""

    week: str
    computed: str
    reported: str | None


@dataclass(frozen=True)
class CustomerDate:
    """A customer-facing milestone not done yet."""

    name: str
    expected: date
    slip: int  # expected − baseline due, in days; negative: early
    state: str = "on-track"  # on-track, slipping or overdue (``facts.MilestoneFacts``)


@dataclass(frozen=True)
class DashboardRow:
    """What the dashboard shows of a project beside its name, customer and health."""

    status: str
    watermelon: bool  # reported health better than computed (``facts.HealthFacts``)
    sales: tuple[str, ...]  # names of the sales team, as the plan lists them
    coordinator: str  # the coordinator's name; "" when there is none
    trend: tuple[TrendPoint, ...]  # oldest first, the as-of week last
    next_date: CustomerDate | None
    upcoming: tuple[CustomerDate, ...]  # expected within UPCOMING_DAYS of the as-of date
    asks: tuple[str, ...]  # open asks of sales, oldest first
    top_risk: str  # the highest-scored open risk a sales reader may see; "" for none
    top_risk_level: str  # its level; "" for none


def _customer_date(m: MilestoneFacts) -> CustomerDate:
    return CustomerDate(m.milestone.name, m.expected, (m.expected - m.milestone.due).days,
                        m.state)


def dashboard_row(facts: ProjectFacts, trend: Sequence[TrendPoint]) -> DashboardRow:
    """A project's dashboard row from its facts (sales-visible only) and its health trend."""
    facts = sales_facts(facts)
    project = facts.project
    coordinator = project.communication.coordinator if project.communication else None
    person = project.people.get(coordinator) if coordinator else None
    dates = [_customer_date(m) for m in open_customer_milestones(facts)]
    horizon = facts.as_of + timedelta(days=UPCOMING_DAYS)
    top = facts.top_risks[:1]
    return DashboardRow(
        status=project.status,
        watermelon=facts.health.watermelon,
        sales=tuple(p.name for p in project.people.values() if p.team == "sales"),
        coordinator=person.name if person else (coordinator or ""),
        trend=tuple(trend),
        next_date=dates[0] if dates else None,
        upcoming=tuple(d for d in dates if facts.as_of <= d.expected <= horizon),
        asks=tuple(a.ask.ask for a in facts.open_asks),
        top_risk=top[0].risk.title if top else "",
        top_risk_level=top[0].level if top else "",
    )


def row_json(row: DashboardRow) -> dict[str, Any]:
    """The row as the manifest stores it."""

    def when(d: CustomerDate) -> dict[str, Any]:
        return {"name": d.name, "expected": d.expected.isoformat(), "slip": d.slip,
                "state": d.state}

    return {"status": row.status, "watermelon": row.watermelon, "sales": list(row.sales),
            "coordinator": row.coordinator,
            "trend": [[p.week, p.computed, p.reported] for p in row.trend],
            "next_date": when(row.next_date) if row.next_date else None,
            "upcoming": [when(d) for d in row.upcoming], "asks": list(row.asks),
            "top_risk": row.top_risk, "top_risk_level": row.top_risk_level}


def _date_of(data: Any) -> CustomerDate:
    return CustomerDate(str(data["name"]), date.fromisoformat(data["expected"]),
                        int(data["slip"]), str(data["state"]))


def row_from_json(data: Any) -> DashboardRow | None:
    """A row as the manifest stored it; None if it is missing or damaged (the project then
    shows its name and health only, until it is built again)."""
    if not isinstance(data, Mapping):
        return None
    try:
        nxt = data.get("next_date")
        return DashboardRow(
            status=str(data["status"]), watermelon=data["watermelon"] is True,
            sales=tuple(str(s) for s in data["sales"]),
            coordinator=str(data["coordinator"]),
            trend=tuple(TrendPoint(str(w), str(c), None if r is None else str(r))
                        for w, c, r in data["trend"]),
            next_date=_date_of(nxt) if nxt else None,
            upcoming=tuple(_date_of(d) for d in data["upcoming"]),
            asks=tuple(str(a) for a in data["asks"]), top_risk=str(data["top_risk"]),
            top_risk_level=str(data["top_risk_level"]))
    except (KeyError, TypeError, ValueError):
        return None
