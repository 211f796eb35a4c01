"""Plans as TaskJuggler projects, and TaskJuggler's computed dates read back.

TaskJuggler is the reference for dependency scheduling. A plan becomes a TaskJuggler project
on a calendar with no non-working time, so that durations and gaps are calendar days as in
planforge; a planforge date is the instant that day begins. Each open item depends on a
"floor" milestone at its own date (its forecast or due; a task's start), and on each of its
dependencies with the gap the plan leaves between them, so TaskJuggler schedules every item at
the latest of those bounds. Done items are fixed at their done date.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from planforge.model import Project

REPORT = "schedule"  # TaskJuggler writes REPORT.csv next to the project file


def _tj(ident: str) -> str:
    return ident.replace("-", "_").replace(".", "_")


def _done(when: date | None, as_of: date) -> date | None:
    return when if when is not None and when <= as_of else None


def to_tjp(project: Project, as_of: date) -> str:
    """The project's milestones and tasks as a TaskJuggler project."""
    planned = {m.id: m.due for m in project.milestones} | {t.id: t.end for t in project.tasks}
    lines = [
        f'project {_tj(project.id)} "{project.name}" {project.start.isoformat()} +2y {{',
        '  timezone "UTC"',
        "  dailyworkinghours 24",
        "  workinghours mon - sun 0:00 - 24:00",
        "}",
    ]

    def depends(floor: str, deps: tuple[str, ...], gaps: list[int]) -> str:
        parts = [floor] + [_tj(d) + (f" {{ gapduration {g}d }}" if g else "")
                           for d, g in zip(deps, gaps, strict=True)]
        return "  depends " + ", ".join(parts)

    for phase in project.phases:
        for m in phase.milestones:
            done = _done(m.done, as_of)
            lines.append(f'task {_tj(m.id)} "{m.name}" {{')
            if done is not None:
                lines += ["  milestone", f"  start {done.isoformat()}", "}"]
                continue
            lines.insert(5, f'task floor_{_tj(m.id)} "" {{ milestone start '
                            f'{m.expected.isoformat()} }}')
            gaps = [max(0, (m.due - planned[d]).days) for d in m.depends_on]
            lines += ["  milestone", depends(f"floor_{_tj(m.id)}", m.depends_on, gaps), "}"]
        for t in phase.tasks:
            start = t.start or phase.start
            done = _done(t.done, as_of)
            lines.append(f'task {_tj(t.id)} "{t.name}" {{')
            if done is not None:
                lines += [f"  start {start.isoformat()}", f"  end {done.isoformat()}", "}"]
                continue
            lines.insert(5, f'task floor_{_tj(t.id)} "" {{ milestone start '
                            f'{start.isoformat()} }}')
            # Finish to start: the task starts the planned gap after each dependency finishes,
            # and keeps its planned duration.
            gaps = [(start - planned[d]).days for d in t.depends_on]
            assert all(g >= 0 for g in gaps), "a task planned to start before its dependency ends"
            lines += [f"  duration {(t.end - start).days}d",
                      depends(f"floor_{_tj(t.id)}", t.depends_on, gaps), "}"]
    lines += [
        f'taskreport {REPORT} "{REPORT}" {{',
        "  formats csv",
        "  columns id, end",
        '  timeformat "%Y-%m-%d"',
        "}",
    ]
    return "\n".join(lines) + "\n"


def read_schedule(text: str, project: Project) -> dict[str, date]:
    """Each milestone's and task's end as TaskJuggler computed it, by planforge id."""
    ids = {_tj(i.id): i.id for i in (*project.milestones, *project.tasks)}
    rows = csv.DictReader(io.StringIO(text), delimiter=";")
    return {ids[r["Id"]]: date.fromisoformat(r["End"]) for r in rows if r["Id"] in ids}
