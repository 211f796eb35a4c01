"""What a change does to a plan: the Change records of ``planforge diff`` and "since last week".

Pure: two models in, records out. No git, no files, no clock.

Conventions of the record, per kind (``old``/``new`` are None where the kind has no side):

- ``milestone-moved``: today's expected date (forecast, else due), ``days`` the signed shift,
  ``note`` the milestone's reason. Not emitted for a milestone done on the new side, nor when only
  ``due`` changed and neither side has a forecast (that is a re-baseline, reported once).
- ``milestone-rebaselined``: ``due`` before and after, ``days`` the shift, ``note`` the reason
  when the plan gives a new one (one left as it was explains an earlier move).
- ``milestone-done``: ``old`` the baseline (due), ``new`` the done date, ``days`` done − due.
- ``goal-retargeted``: one record per field. Target: ``old``/``new`` are text with the unit
  ("45 minutes"), ``days`` None. Due: dates, ``days`` the shift.
- ``risk-added`` / ``risk-removed``: the score on the side that has the risk; ``risk-rescored``:
  both scores; ``risk-closed``: both statuses. ``customer_facing`` for a risk means it carries a
  ``customer_message``, which is also its ``note``; ``internal`` that the risk is
  ``visibility: internal`` (on the new side, or the old one for a removed risk).
- ``person-added`` / ``person-removed`` / ``role-changed``: the role; customer-facing for people
  of the customer's team.
- ``phase-added`` / ``phase-removed``: the span as text ("2026-09-01 – 2026-10-30");
  ``phase-moved``: the end dates, or the start dates when only the start moved, and the shift.
- ``update-added``: ``subject_id`` the week, ``new`` the reported health, ``note`` the summary.
- ``project-status``: ``subject_id`` the project id, both statuses ("active", "done").
- ``project-start-moved`` / ``project-end-moved``: both dates and the shift; the end is what the
  customer was promised, so it is customer-facing.
- ``budget-changed``: the planned amounts (None where a side has no budget), ``unit`` the
  currency (a changed currency gives both amounts as text with their currency, ``unit`` None).
- ``milestone-added`` / ``milestone-removed``: the due date on the side that has it;
  ``goal-added`` / ``goal-removed``: the target as text with its unit; ``task-added`` /
  ``task-removed``: the end date.
- ``risk-occurred``: both statuses, the new one "occurred".
- ``owner-changed``: ``subject_id`` the id of the milestone, task, goal, risk or phase, both
  owners by name (None: no owner); customer-facing for a customer-facing milestone.
- ``coordinator-changed``: ``subject_id`` "coordinator", both coordinators by name.
- ``project-added`` / ``project-removed``: ``subject_id`` the project id, the customer as value;
  ``note`` says "renamed from/to ..." when a folder was renamed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date

from .model import Milestone, Phase, Project


@dataclass(frozen=True)
class Change:
    """One change to one thing in one project; rendered by ``diff`` and the weekly brief."""

    kind: str
    project_id: str
    subject_id: str
    subject: str
    old: date | int | float | str | None
    new: date | int | float | str | None
    days: int | None
    customer_facing: bool
    note: str | None
    unit: str | None = None  # the currency of a budget-changed record
    internal: bool = False  # about an internal risk: kept from what sales sees (``audience``)


#: Report order inside a project: (group, rank within the group). Customer-facing moves get
#: group 0 at sort time; everything else keeps plan order within its rank.
_ORDER = {
    "project-status": (1, 0),
    "project-end-moved": (1, 1),
    "project-start-moved": (1, 2),
    "budget-changed": (1, 3),
    "milestone-moved": (2, 0),
    "milestone-done": (3, 0),
    "milestone-rebaselined": (4, 0),
    "milestone-added": (4, 1),
    "milestone-removed": (4, 2),
    "goal-retargeted": (5, 0),
    "goal-added": (5, 1),
    "goal-removed": (5, 2),
    "risk-added": (6, 0),
    "risk-occurred": (6, 1),
    "risk-closed": (6, 2),
    "risk-rescored": (6, 3),
    "risk-removed": (6, 4),
    "person-added": (7, 0),
    "role-changed": (7, 1),
    "person-removed": (7, 2),
    "coordinator-changed": (7, 3),
    "owner-changed": (7, 4),
    "phase-added": (8, 0),
    "phase-moved": (8, 1),
    "phase-removed": (8, 2),
    "task-added": (8, 3),
    "task-removed": (8, 4),
    "update-added": (9, 0),
    "project-removed": (10, 0),
    "project-added": (10, 1),
}
KINDS = tuple(_ORDER)
CLOSED_STATUSES = ("closed", "mitigated")


def _sort_key(indexed: tuple[int, Change]) -> tuple[int, int, int]:
    position, change = indexed
    group, rank = _ORDER[change.kind]
    if change.kind == "milestone-moved" and change.customer_facing:
        group = 0
    return group, rank, position


def _days(old: date, new: date) -> int:
    return (new - old).days


def _number(value: float) -> str:
    """30.0 → "30": YAML authors write whole numbers, and the text should read as they wrote."""
    return str(int(value)) if float(value).is_integer() else str(value)


def amount(value: float, unit: str | None) -> str:
    """A value with its unit as written: "30 minutes", "30%", "12万元"."""
    if not unit:
        return _number(value)
    # "30 minutes" but "30%" and "12万元": a space only before a word in Latin letters.
    space = " " if unit[0].isascii() and unit[0].isalpha() else ""
    return f"{_number(value)}{space}{unit}"


def _span(phase: Phase) -> str:
    return f"{phase.start.isoformat()} – {phase.end.isoformat()}"


def _milestone_change(kind: str, pid: str, m: Milestone, old: date, new: date,
                      reason: str | None) -> Change:
    return Change(kind, pid, m.id, m.name, old, new, _days(old, new), m.customer_facing, reason)


def _milestones(pid: str, old: Project, new: Project) -> Iterator[Change]:
    before = {m.id: m for m in old.milestones}
    for m in new.milestones:
        was = before.get(m.id)
        if was is None:
            yield Change("milestone-added", pid, m.id, m.name, None, m.due, None,
                         m.customer_facing, m.reason)
            continue
        if m.done is None:
            # Without a forecast on either side the expected date is the due date, and its move
            # is the re-baseline below: reporting it twice would double the count.
            explicit = was.forecast is not None or m.forecast is not None
            if explicit and was.expected != m.expected:
                yield _milestone_change("milestone-moved", pid, m, was.expected, m.expected,
                                        m.reason)
        elif was.done is None:
            yield _milestone_change("milestone-done", pid, m, m.due, m.done, m.reason)
        if was.due != m.due:
            # A reason left as it was explains an earlier move, not this re-baseline (the
            # charter then takes the commit message, as the README says).
            reason = m.reason if m.reason != was.reason else None
            yield _milestone_change("milestone-rebaselined", pid, m, was.due, m.due, reason)
    after = {m.id for m in new.milestones}
    for m in old.milestones:
        if m.id not in after:
            yield Change("milestone-removed", pid, m.id, m.name, m.due, None, None,
                         m.customer_facing, None)


def _goals(pid: str, old: Project, new: Project) -> Iterator[Change]:
    before = {g.id: g for g in old.goals}
    for g in new.goals:
        was = before.get(g.id)
        if was is None:
            yield Change("goal-added", pid, g.id, g.title, None, amount(g.target, g.unit), None,
                         False, None)
            continue
        if was.target != g.target:
            yield Change(
                "goal-retargeted", pid, g.id, g.title, amount(was.target, was.unit),
                amount(g.target, g.unit), None, False, None,
            )
        if was.due != g.due:
            yield Change(
                "goal-retargeted", pid, g.id, g.title, was.due, g.due, _days(was.due, g.due),
                False, None,
            )
    after = {g.id for g in new.goals}
    for g in old.goals:
        if g.id not in after:
            yield Change("goal-removed", pid, g.id, g.title, amount(g.target, g.unit), None, None,
                         False, None)


def _risks(pid: str, old: Project, new: Project) -> Iterator[Change]:
    before = {r.id: r for r in old.risks}
    after = {r.id: r for r in new.risks}
    for r in new.risks:
        cf = r.customer_message is not None
        was = before.get(r.id)
        if was is None:
            yield Change("risk-added", pid, r.id, r.title, None, r.score, None, cf,
                         r.customer_message, internal=r.internal)
            continue
        if r.status == "occurred" and was.status != "occurred":
            yield Change("risk-occurred", pid, r.id, r.title, was.status, r.status, None, cf,
                         r.customer_message, internal=r.internal)
        if r.status in CLOSED_STATUSES and was.status not in CLOSED_STATUSES:
            yield Change("risk-closed", pid, r.id, r.title, was.status, r.status, None, cf,
                         r.customer_message, internal=r.internal)
        if was.score != r.score:
            yield Change("risk-rescored", pid, r.id, r.title, was.score, r.score, None, cf,
                         r.customer_message, internal=r.internal)
    for r in old.risks:
        if r.id not in after:
            yield Change("risk-removed", pid, r.id, r.title, r.score, None, None,
                         r.customer_message is not None, r.customer_message, internal=r.internal)


def _people(pid: str, old: Project, new: Project) -> Iterator[Change]:
    for key, p in new.people.items():
        was = old.people.get(key)
        customer = p.team == "customer"
        if was is None:
            yield Change("person-added", pid, key, p.name, None, p.role, None, customer, None)
        elif was.role != p.role:
            yield Change("role-changed", pid, key, p.name, was.role, p.role, None, customer, None)
    for key, p in old.people.items():
        if key not in new.people:
            yield Change("person-removed", pid, key, p.name, p.role, None, None,
                         p.team == "customer", None)


def _phases(pid: str, old: Project, new: Project) -> Iterator[Change]:
    before = {p.id: p for p in old.phases}
    after = {p.id for p in new.phases}
    for p in new.phases:
        was = before.get(p.id)
        if was is None:
            yield Change("phase-added", pid, p.id, p.name, None, _span(p), None, False, None)
        elif was.end != p.end:
            yield Change("phase-moved", pid, p.id, p.name, was.end, p.end, _days(was.end, p.end),
                         False, None)
        elif was.start != p.start:
            yield Change("phase-moved", pid, p.id, p.name, was.start, p.start,
                         _days(was.start, p.start), False, None)
    for p in old.phases:
        if p.id not in after:
            yield Change("phase-removed", pid, p.id, p.name, _span(p), None, None, False, None)


def _tasks(pid: str, old: Project, new: Project) -> Iterator[Change]:
    before = {t.id for t in old.tasks}
    after = {t.id for t in new.tasks}
    for t in new.tasks:
        if t.id not in before:
            yield Change("task-added", pid, t.id, t.name, None, t.end, None, False, None)
    for t in old.tasks:
        if t.id not in after:
            yield Change("task-removed", pid, t.id, t.name, t.end, None, None, False, None)


def _name(project: Project, pid: str | None) -> str | None:
    """A person by name as the plan of that side knows them; the key for someone not in it."""
    if pid is None:
        return None
    person = project.people.get(pid)
    return person.name if person else pid


def _owners(pid: str, old: Project, new: Project) -> Iterator[Change]:
    """Work handed to someone else: every milestone, task, goal, risk and phase on both sides."""
    def owned(p: Project) -> dict[str, tuple[str, str | None, bool]]:
        found: dict[str, tuple[str, str | None, bool]] = {}
        for ph in p.phases:
            found[ph.id] = (ph.name, ph.owner, False)
        for m in p.milestones:
            found[m.id] = (m.name, m.owner, m.customer_facing)
        for t in p.tasks:
            found[t.id] = (t.name, t.owner, False)
        for g in p.goals:
            found[g.id] = (g.title, g.owner, False)
        for r in p.risks:
            found[r.id] = (r.title, r.owner, False)
        return found

    before = owned(old)
    for key, (name, owner, cf) in owned(new).items():
        was = before.get(key)
        if was is not None and was[1] != owner:
            yield Change("owner-changed", pid, key, name, _name(old, was[1]), _name(new, owner),
                         None, cf, None)
    was_coordinator = old.communication.coordinator if old.communication else None
    coordinator = new.communication.coordinator if new.communication else None
    if was_coordinator != coordinator:
        yield Change("coordinator-changed", pid, "coordinator", "Coordinator",
                     _name(old, was_coordinator), _name(new, coordinator), None, False, None)


def _project(pid: str, old: Project, new: Project) -> Iterator[Change]:
    """The project's own fields: status, start and end, the planned budget."""
    if old.status != new.status:
        yield Change("project-status", pid, pid, new.name, old.status, new.status, None, False,
                     None)
    if old.end != new.end:
        yield Change("project-end-moved", pid, pid, new.name, old.end, new.end,
                     _days(old.end, new.end), True, None)
    if old.start != new.start:
        yield Change("project-start-moved", pid, pid, new.name, old.start, new.start,
                     _days(old.start, new.start), False, None)
    was, now = old.budget, new.budget
    if was is not None and now is not None and was.currency != now.currency:
        yield Change("budget-changed", pid, "budget", new.name,
                     f"{_number(was.planned)} {was.currency}",
                     f"{_number(now.planned)} {now.currency}", None, False, None)
    else:
        planned_was = was.planned if was else None
        planned_now = now.planned if now else None
        side = now or was
        if planned_was != planned_now and side is not None:
            yield Change("budget-changed", pid, "budget", new.name, planned_was, planned_now,
                         None, False, None, side.currency)


def _updates(pid: str, old: Project, new: Project) -> Iterator[Change]:
    weeks = {u.week for u in old.updates}
    for u in new.updates:
        if u.week not in weeks:
            yield Change("update-added", pid, u.week, u.week, None, u.health, None, False,
                         u.summary)


def diff_projects(old: Project | None, new: Project | None) -> list[Change]:
    """Every change from ``old`` to ``new`` (None: the project does not exist on that side)."""
    if old is None and new is None:
        return []
    if old is None:
        assert new is not None
        return [Change("project-added", new.id, new.id, new.name, None, new.customer, None,
                       False, None)]
    if new is None:
        return [Change("project-removed", old.id, old.id, old.name, old.customer, None, None,
                       False, None)]
    found: list[Change] = []
    for part in (_project, _milestones, _goals, _risks, _people, _owners, _phases, _tasks,
                 _updates):
        found.extend(part(new.id, old, new))
    return [c for _, c in sorted(enumerate(found), key=_sort_key)]


@dataclass(frozen=True)
class ProjectDiff:
    """The changes of one project, or why they cannot be shown."""

    project_id: str
    name: str
    changes: tuple[Change, ...]
    renamed_from: str | None = None
    errors_old: int | None = None  # error count when the old side is invalid
    errors_new: int | None = None  # error count when the new side is invalid


@dataclass(frozen=True)
class PlanDiff:
    """The changes of every project, in project-id order, and a one-line summary."""

    projects: tuple[ProjectDiff, ...]
    headline: str

    @property
    def changes(self) -> tuple[Change, ...]:
        return tuple(c for p in self.projects for c in p.changes)


def _renames(
    old: Mapping[str, Project | None], new: Mapping[str, Project | None]
) -> dict[str, str]:
    """New id → old id for a folder renamed: a project gone and one new with the same name and
    customer, and no other candidate on either side (a guess that could be wrong is not made)."""
    gone = [p for k, p in old.items() if k not in new and p is not None]
    came = [p for k, p in new.items() if k not in old and p is not None]
    sig_gone = Counter((p.name, p.customer) for p in gone)
    sig_came = Counter((p.name, p.customer) for p in came)
    by_sig = {(p.name, p.customer): p.id for p in gone}
    return {
        p.id: by_sig[(p.name, p.customer)]
        for p in came
        if sig_gone[(p.name, p.customer)] == 1 and sig_came[(p.name, p.customer)] == 1
    }


def diff_plans(
    old: Mapping[str, Project | None],
    new: Mapping[str, Project | None],
    *,
    errors_old: Mapping[str, int] | None = None,
    errors_new: Mapping[str, int] | None = None,
) -> PlanDiff:
    """Compare two plans keyed by project id. A key that is absent means no such project on that
    side; a value of None means the project is there but invalid (``errors_*`` give the counts).
    Only projects with a change or an invalid side are listed."""
    errors_old = errors_old or {}
    errors_new = errors_new or {}
    renames = _renames(old, new)
    renamed_away = set(renames.values())
    projects: list[ProjectDiff] = []
    for pid in sorted(set(old) | set(new)):
        if pid in renamed_away:
            continue
        source = renames.get(pid, pid)
        before, after = old.get(source), new.get(pid)
        bad_old = errors_old.get(source, 1) if source in old and before is None else None
        bad_new = errors_new.get(pid, 1) if pid in new and after is None else None
        either = after or before
        name = either.name if either is not None else pid
        if bad_old is not None or bad_new is not None:
            projects.append(ProjectDiff(pid, name, (), None, bad_old, bad_new))
            continue
        if source != pid:
            assert before is not None and after is not None
            changes = [
                *diff_projects(before, after),
                Change("project-removed", source, source, before.name, before.customer, None,
                       None, False, f"renamed to {pid}"),
                Change("project-added", pid, pid, after.name, None, after.customer, None, False,
                       f"renamed from {source}"),
            ]
            projects.append(ProjectDiff(pid, name, tuple(changes), source))
            continue
        found = diff_projects(before, after)
        if found:
            projects.append(ProjectDiff(pid, name, tuple(found)))
    return PlanDiff(tuple(projects), headline(projects))


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _count(changes: Iterable[Change], kind: str) -> int:
    return sum(c.kind == kind for c in changes)


def _group(
    changes: list[Change], phrases: dict[str, tuple[str, str]], one: str, many: str | None = None
) -> str:
    """One kind present: its own phrase ("2 risks added"); several: one count ("3 risk
    changes"), so that the headline stays one glance long."""
    counts = {kind: _count(changes, kind) for kind in phrases}
    present = {kind: n for kind, n in counts.items() if n}
    if len(present) == 1:
        [(kind, n)] = present.items()
        return _plural(n, *phrases[kind])
    return _plural(sum(present.values()), one, many)


def headline(projects: Iterable[ProjectDiff]) -> str:
    """One line for the top of a pull-request comment, most consequential first."""
    projects = list(projects)
    changes = [c for p in projects for c in p.changes]
    moved = [c for c in changes if c.kind == "milestone-moved"]
    cf_later = sum(c.customer_facing and (c.days or 0) > 0 for c in moved)
    cf_earlier = sum(c.customer_facing and (c.days or 0) < 0 for c in moved)
    internal = sum(not c.customer_facing for c in moved)
    goals = len({(c.project_id, c.subject_id) for c in changes if c.kind == "goal-retargeted"})
    renamed = sum(p.renamed_from is not None for p in projects)
    risks = {
        "risk-added": ("risk added", "risks added"),
        "risk-closed": ("risk closed", "risks closed"),
        "risk-rescored": ("risk re-scored", "risks re-scored"),
        "risk-removed": ("risk removed", "risks removed"),
    }
    people = {
        "person-added": ("person added", "people added"),
        "person-removed": ("person removed", "people removed"),
        "role-changed": ("role changed", "roles changed"),
    }
    ends = [c for c in changes if c.kind == "project-end-moved"]
    milestones = {
        "milestone-added": ("milestone added", "milestones added"),
        "milestone-removed": ("milestone removed", "milestones removed"),
    }
    goal_list = {
        "goal-added": ("goal added", "goals added"),
        "goal-removed": ("goal removed", "goals removed"),
    }
    tasks = {
        "task-added": ("task added", "tasks added"),
        "task-removed": ("task removed", "tasks removed"),
    }
    parts = [
        _plural(sum(c.new == "done" for c in changes if c.kind == "project-status"),
                "project done", "projects done"),
        _plural(sum(c.new != "done" for c in changes if c.kind == "project-status"),
                "project status changed", "project statuses changed"),
        _plural(sum((c.days or 0) > 0 for c in ends), "project end moves later",
                "project ends move later"),
        _plural(sum((c.days or 0) < 0 for c in ends), "project end moves earlier",
                "project ends move earlier"),
        _plural(_count(changes, "budget-changed"), "budget changed", "budgets changed"),
        _plural(cf_later, "customer-facing date moves later", "customer-facing dates move later"),
        _plural(cf_earlier, "customer-facing date moves earlier",
                "customer-facing dates move earlier"),
        _plural(_count(changes, "milestone-rebaselined"), "re-baseline"),
        _plural(internal, "internal date moves", "internal dates move"),
        _plural(_count(changes, "milestone-done"), "milestone done", "milestones done"),
        _group(changes, milestones, "milestone added or removed",
               "milestones added or removed"),
        _plural(goals, "goal re-targeted", "goals re-targeted"),
        _group(changes, goal_list, "goal added or removed", "goals added or removed"),
        _plural(_count(changes, "risk-occurred"), "risk occurred", "risks occurred"),
        _group(changes, risks, "risk change"),
        _group(changes, people, "change to people", "changes to people"),
        _plural(_count(changes, "coordinator-changed"), "new coordinator", "new coordinators"),
        _plural(_count(changes, "owner-changed"), "owner changed", "owners changed"),
        _plural(sum(c.kind.startswith("phase-") for c in changes), "phase change"),
        _group(changes, tasks, "task added or removed", "tasks added or removed"),
        _plural(_count(changes, "update-added"), "weekly update"),
        _plural(renamed, "project renamed", "projects renamed"),
        _plural(_count(changes, "project-added") - renamed, "project added", "projects added"),
        _plural(_count(changes, "project-removed") - renamed, "project removed",
                "projects removed"),
        _plural(sum(p.errors_new is not None for p in projects), "project invalid after the change",
                "projects invalid after the change"),
        _plural(sum(p.errors_old is not None for p in projects),
                "project invalid before the change", "projects invalid before the change"),
    ]
    shown = [p for p in parts if not p.startswith("0 ")]
    return ", ".join(shown) if shown else "no change to dates, goals, risks, people or phases"
