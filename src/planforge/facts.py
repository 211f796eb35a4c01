"""Pure computations of SPEC §5 as of a date: milestones, progress, goals, risks, budget, health.

Nothing here reads files, the clock or the network: every function takes ``as_of`` so that the
same inputs and the same date give the same facts, and so the same documents, byte for byte.
Templates lay out these dataclasses; they never compute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from planforge.model import (
    Budget,
    Goal,
    HealthSettings,
    Meeting,
    Milestone,
    Phase,
    Project,
    Risk,
    Settings,
    Update,
)

__all__ = [
    "BudgetFacts",
    "GoalFacts",
    "HealthFacts",
    "HeatMap",
    "MeetingOccurrence",
    "MilestoneFacts",
    "PhaseFacts",
    "ProjectFacts",
    "Reason",
    "RiskFacts",
    "compute_facts",
    "compute_health",
    "iso_week",
    "next_meetings",
    "risk_level",
    "time_elapsed",
]


@dataclass(frozen=True)
class MilestoneFacts:
    """A milestone as of a date.

    ``state`` is ``done-on-time``, ``done-late``, ``on-track``, ``slipping`` or ``overdue``;
    ``days`` is the +N of that state (days late, slipped or overdue), 0 otherwise.
    """

    milestone: Milestone
    phase_id: str
    state: str
    days: int
    stale: bool  # open, with a forecast already in the past
    expected: date  # forecast, else due
    actual: date  # done date when done, else expected: the "actual" of baseline vs actual
    customer_facing: bool
    days_until: int | None  # expected − as_of for open milestones; None when done
    variance_days: int  # actual − due, signed: negative when early


@dataclass(frozen=True)
class PhaseFacts:
    """A phase as of a date; ``state`` is ``done``, ``active`` or ``not-started``."""

    phase: Phase
    progress: float  # 0..1
    elapsed: float  # 0..1 share of the phase's calendar time
    milestones: tuple[MilestoneFacts, ...]
    state: str


@dataclass(frozen=True)
class GoalFacts:
    """A goal as of a date.

    ``state`` is ``achieved``, ``on-track``, ``behind``, ``missed`` or ``not-measured``.
    """

    goal: Goal
    actual: float | None  # latest measurement up to the as-of week
    actual_week: str | None
    progress: float | None  # (actual − baseline) / (target − baseline); may exceed 0..1
    expected: float  # 0..1 share of time elapsed from project start to goal due
    state: str
    history: tuple[tuple[str, float], ...]  # (week, value), oldest first


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


@dataclass(frozen=True)
class HealthFacts:
    """Computed health with its reasons, and the team's reported health beside it."""

    level: str  # green | amber | red
    reasons: tuple[Reason, ...]  # red reasons first
    reported: str | None  # health of the as-of week's update, else the latest earlier one
    watermelon: bool  # reported is better than computed


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


def risk_level(score: int) -> str:
    """The level of a risk score: low 1–4, medium 5–9, high 10–16, critical 20–25."""
    raise NotImplementedError


def time_elapsed(start: date, end: date, as_of: date) -> float:
    """Share of the calendar time from start to end that has passed by as_of, clamped to 0..1."""
    raise NotImplementedError


def iso_week(day: date) -> str:
    """The ISO week of a date, written ``YYYY-Www``."""
    raise NotImplementedError


def compute_health(project: Project, as_of: date, health: HealthSettings) -> HealthFacts:
    """Computed health (SPEC §5) as of a date, with reasons and the reported health."""
    raise NotImplementedError


def next_meetings(
    project: Project, as_of: date, default_tz: str, count: int = 1
) -> list[MeetingOccurrence]:
    """The next ``count`` occurrences of each meeting from the day after as_of, by start."""
    raise NotImplementedError


def compute_facts(project: Project, as_of: date, settings: Settings) -> ProjectFacts:
    """Every fact of SPEC §5 about a project as of a date."""
    raise NotImplementedError
