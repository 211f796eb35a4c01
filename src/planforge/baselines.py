"""The kickoff baseline and the re-baselines of a project, read from its dated plan versions.

Pure: versions in (``timeline`` reads them from git), records out. The kickoff baseline is the
first version whose status is ``active``; a project never active in its history has the first
version as its baseline. Every later change of a milestone's ``due``, the project's ``end`` or
the planned budget is a re-baseline, with the date of the commit that made it and its reason:
the milestone's ``reason`` when that commit changed it, else the commit message's first line.

The charter lists these re-baselines among every change to the plan agreed at kickoff: items
added to or removed from the scope, milestones added or removed, and goals re-targeted (their
target or due, as ``changes`` classifies them), each with the commit's day and first line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from typing import Literal, cast

from .changes import diff_projects
from .model import Meeting, Milestone, Project

ChangeKind = Literal[
    "milestone", "end", "budget",  # the re-baselines
    "milestone-added", "milestone-removed",
    "scope-in-added", "scope-in-removed", "scope-out-added", "scope-out-removed",
    "goal-target", "goal-due",
]
REBASELINE_KINDS: tuple[ChangeKind, ...] = ("milestone", "end", "budget")


@dataclass(frozen=True)
class PlanVersion:
    """The plan as one commit left it."""

    day: date  # the commit's date in the workspace time zone
    commit: str
    subject: str  # the first line of the commit message
    project: Project


@dataclass(frozen=True)
class PlanChange:
    """One change to the plan after kickoff: a re-baseline, or a change of scope, milestones or
    goals."""

    day: date
    commit: str
    kind: ChangeKind
    subject_id: str  # the milestone's or goal's id; the project's id for its end and budget;
    # the item itself for scope
    subject: str  # the milestone's name, the goal's title, the project's name, the scope item
    # A date for milestones, the end and a goal's due; an amount for the budget; a goal's
    # target as text with its unit; None on the side where a milestone or item is absent.
    old: date | float | str | None
    new: date | float | str | None
    reason: str


@dataclass(frozen=True)
class RiskOccurrence:
    """A risk that was ``occurred`` in some version, and the first day it was."""

    risk_id: str
    title: str
    first: date


#: A calendar entry's key: ("milestone", id) or ("meeting", id).
EntryKey = tuple[str, str]


@dataclass(frozen=True)
class EntryTrace:
    """A milestone or a meeting across the committed versions of its plan: what its calendar
    entry's SEQUENCE counts, and what a removed one last was."""

    last: Milestone | Meeting  # as the newest version that has it writes it
    revisions: int  # the versions that added it, changed it or removed it
    removed: date | None  # the day of the commit that removed it; None while it is there


@dataclass(frozen=True)
class PlanHistory:
    """What the history of a project's plan says: the kickoff baseline, what moved since,
    and the risks that occurred at any time, even if closed later."""

    kickoff: PlanVersion | None  # None: no valid version in history
    changes: tuple[PlanChange, ...]  # since kickoff, oldest first
    occurred: tuple[RiskOccurrence, ...]
    versions: int  # valid versions read
    # every milestone and meeting any version had, drafts before kickoff included
    entries: dict[EntryKey, EntryTrace] = field(default_factory=dict)

    @property
    def rebaselines(self) -> tuple[PlanChange, ...]:
        """The changes of a milestone's due, the project's end or the planned budget."""
        return tuple(c for c in self.changes if c.kind in REBASELINE_KINDS)

    @property
    def agreed(self) -> PlanVersion | None:
        """The kickoff version when the plan was agreed (committed past ``planned``); None
        while every committed version is a draft."""
        if self.kickoff is None or self.kickoff.project.status == "planned":
            return None
        return self.kickoff


def kickoff_of(versions: Iterable[PlanVersion]) -> PlanVersion | None:
    """The kickoff baseline among versions, oldest first: the first active one, else the first
    one (a plan committed already done). Reads no further than the first active one."""
    first = None
    for v in versions:
        if v.project.status == "active":
            return v
        first = first or v
    return first


def kickoff_dues(kickoff: PlanVersion | None) -> dict[str, date]:
    """Each milestone's due in the kickoff baseline, by id (none without a kickoff)."""
    if kickoff is None:
        return {}
    return {m.id: m.due for m in kickoff.project.milestones}


def _kickoff_index(versions: Sequence[PlanVersion]) -> int | None:
    kickoff = kickoff_of(versions)
    if kickoff is None:
        return None
    return next(i for i, v in enumerate(versions) if v is kickoff)


def _rebaselines(was: PlanVersion, now: PlanVersion) -> Iterator[PlanChange]:
    old, new = was.project, now.project
    before = {m.id: m for m in old.milestones}
    for m in new.milestones:
        prior = before.get(m.id)
        if prior is None or prior.due == m.due:
            continue
        reason = m.reason if m.reason and m.reason != prior.reason else now.subject
        yield PlanChange(now.day, now.commit, "milestone", m.id, m.name, prior.due, m.due,
                         reason)
    if old.end != new.end:
        yield PlanChange(now.day, now.commit, "end", new.id, new.name, old.end, new.end,
                         now.subject)
    planned_old = old.budget.planned if old.budget else None
    planned_new = new.budget.planned if new.budget else None
    if planned_old != planned_new:
        yield PlanChange(now.day, now.commit, "budget", new.id, new.name, planned_old,
                         planned_new, now.subject)


def _listed(now: PlanVersion, added: ChangeKind, removed: ChangeKind, old: Sequence[str],
            new: Sequence[str]) -> Iterator[PlanChange]:
    """Items of a list added, then removed; text is the identity, so an item reworded is one
    removed and one added."""
    for text in new:
        if text not in old:
            yield PlanChange(now.day, now.commit, added, text, text, None, text, now.subject)
    for text in old:
        if text not in new:
            yield PlanChange(now.day, now.commit, removed, text, text, text, None, now.subject)


def _milestone_list(was: PlanVersion, now: PlanVersion) -> Iterator[PlanChange]:
    before = {m.id for m in was.project.milestones}
    after = {m.id for m in now.project.milestones}
    for m in now.project.milestones:
        if m.id not in before:
            yield PlanChange(now.day, now.commit, "milestone-added", m.id, m.name, None, m.due,
                             now.subject)
    for m in was.project.milestones:
        if m.id not in after:
            yield PlanChange(now.day, now.commit, "milestone-removed", m.id, m.name, m.due,
                             None, now.subject)


def _goals(was: PlanVersion, now: PlanVersion) -> Iterator[PlanChange]:
    """A goal's target or due changed, as ``changes`` classifies it: one record per field."""
    for c in diff_projects(was.project, now.project):
        if c.kind == "goal-retargeted":
            kind: ChangeKind = "goal-due" if isinstance(c.old, date) else "goal-target"
            old, new = cast(date | str, c.old), cast(date | str, c.new)
            yield PlanChange(now.day, now.commit, kind, c.subject_id, c.subject, old, new,
                             now.subject)


def _changes(was: PlanVersion, now: PlanVersion) -> Iterator[PlanChange]:
    yield from _rebaselines(was, now)
    yield from _milestone_list(was, now)
    yield from _listed(now, "scope-in-added", "scope-in-removed", was.project.scope_in,
                       now.project.scope_in)
    yield from _listed(now, "scope-out-added", "scope-out-removed", was.project.scope_out,
                       now.project.scope_out)
    yield from _goals(was, now)


def _occurred(versions: Sequence[PlanVersion]) -> tuple[RiskOccurrence, ...]:
    first: dict[str, RiskOccurrence] = {}
    for v in versions:
        for r in v.project.risks:
            if r.status == "occurred" and r.id not in first:
                first[r.id] = RiskOccurrence(r.id, r.title, v.day)
    return tuple(first.values())


def _entries(project: Project) -> dict[EntryKey, Milestone | Meeting]:
    found: dict[EntryKey, Milestone | Meeting] = {("milestone", m.id): m
                                                  for m in project.milestones}
    found.update({("meeting", m.id): m for m in project.meetings})
    return found


def entry_traces(versions: Sequence[PlanVersion]) -> dict[EntryKey, EntryTrace]:
    """Each milestone and meeting of any version, oldest first in, with the number of versions
    that added, changed or removed it. Counted from commits, the number is the same on every
    machine that has the history (a fresh CI checkout included) and only grows as commits are
    added."""
    traces: dict[EntryKey, EntryTrace] = {}
    for v in versions:
        now = _entries(v.project)
        for key, entry in now.items():
            was = traces.get(key)
            if was is None:
                traces[key] = EntryTrace(entry, 1, None)
            elif was.removed is not None or was.last != entry:
                traces[key] = EntryTrace(entry, was.revisions + 1, None)
        for key, was in list(traces.items()):
            if key not in now and was.removed is None:
                traces[key] = EntryTrace(was.last, was.revisions + 1, v.day)
    return traces


def plan_history(versions: Sequence[PlanVersion]) -> PlanHistory:
    """The kickoff baseline, the changes after it and the risks that occurred, from the valid
    versions of a plan, oldest first."""
    start = _kickoff_index(versions)
    if start is None:
        return PlanHistory(None, (), (), 0)
    after = versions[start:]
    changes = [c for was, now in pairwise(after) for c in _changes(was, now)]
    return PlanHistory(versions[start], tuple(changes), _occurred(versions), len(versions),
                       entry_traces(versions))
