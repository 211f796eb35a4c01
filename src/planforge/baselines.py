"""The kickoff baseline and the re-baselines of a project, read from its dated plan versions.

Pure: versions in (``timeline`` reads them from git), records out. The kickoff baseline is the
first version whose status is ``active``; a project never active in its history has the first
version as its baseline. Every later change of a milestone's ``due``, the project's ``end`` or
the planned budget is a re-baseline, with the date of the commit that made it and its reason:
the milestone's ``reason`` when that commit changed it, else the commit message's first line.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Literal

from .model import Project

RebaselineKind = Literal["milestone", "end", "budget"]


@dataclass(frozen=True)
class PlanVersion:
    """The plan as one commit left it."""

    day: date  # the commit's date in the workspace time zone
    commit: str
    subject: str  # the first line of the commit message
    project: Project


@dataclass(frozen=True)
class Rebaseline:
    """One change of a baseline after kickoff."""

    day: date
    commit: str
    kind: RebaselineKind
    subject_id: str  # the milestone's id; the project's id for its end and budget
    subject: str  # the milestone's name; the project's name for its end and budget
    old: date | float | None  # a date for milestones and the end, an amount for the budget
    new: date | float | None
    reason: str


@dataclass(frozen=True)
class RiskOccurrence:
    """A risk that was ``occurred`` in some version, and the first day it was."""

    risk_id: str
    title: str
    first: date


@dataclass(frozen=True)
class PlanHistory:
    """What the history of a project's plan says: the kickoff baseline, what moved since,
    and the risks that occurred at any time, even if closed later."""

    kickoff: PlanVersion | None  # None: no valid version in history
    rebaselines: tuple[Rebaseline, ...]
    occurred: tuple[RiskOccurrence, ...]
    versions: int  # valid versions read


def _kickoff_index(versions: Sequence[PlanVersion]) -> int | None:
    """The first active version, else the first one (a plan committed already done)."""
    if not versions:
        return None
    return next((i for i, v in enumerate(versions) if v.project.status == "active"), 0)


def _changes(was: PlanVersion, now: PlanVersion) -> Iterator[Rebaseline]:
    old, new = was.project, now.project
    before = {m.id: m for m in old.milestones}
    for m in new.milestones:
        prior = before.get(m.id)
        if prior is None or prior.due == m.due:
            continue
        reason = m.reason if m.reason and m.reason != prior.reason else now.subject
        yield Rebaseline(now.day, now.commit, "milestone", m.id, m.name, prior.due, m.due,
                         reason)
    if old.end != new.end:
        yield Rebaseline(now.day, now.commit, "end", new.id, new.name, old.end, new.end,
                         now.subject)
    planned_old = old.budget.planned if old.budget else None
    planned_new = new.budget.planned if new.budget else None
    if planned_old != planned_new:
        yield Rebaseline(now.day, now.commit, "budget", new.id, new.name, planned_old,
                         planned_new, now.subject)


def _occurred(versions: Sequence[PlanVersion]) -> tuple[RiskOccurrence, ...]:
    first: dict[str, RiskOccurrence] = {}
    for v in versions:
        for r in v.project.risks:
            if r.status == "occurred" and r.id not in first:
                first[r.id] = RiskOccurrence(r.id, r.title, v.day)
    return tuple(first.values())


def plan_history(versions: Sequence[PlanVersion]) -> PlanHistory:
    """The kickoff baseline, the re-baselines after it and the risks that occurred, from the
    valid versions of a plan, oldest first."""
    start = _kickoff_index(versions)
    if start is None:
        return PlanHistory(None, (), (), 0)
    after = versions[start:]
    rebaselines = [r for was, now in pairwise(after) for r in _changes(was, now)]
    return PlanHistory(versions[start], tuple(rebaselines), _occurred(versions), len(versions))
