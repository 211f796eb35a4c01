"""A sales person's calendar as of a date, read from the workspace and its history: what the
weekly email can attach without a build."""

from __future__ import annotations

from datetime import date

from .audience import brief_locale
from .baselines import kickoff_dues
from .calendars import CalendarInput, person_calendar, person_projects
from .errors import PlanforgeError
from .facts import compute_facts
from .i18n import translator
from .timeline import plan_as_of, project_history
from .workspace import Workspace


def sales_calendar(ws: Workspace, address: str, as_of: date) -> bytes:
    """The calendar ``build`` writes for this address, as iCalendar bytes (projects whose files
    have errors are left out, as ``validate`` reports them)."""
    plan = plan_as_of(ws, as_of)
    projects = []
    for pid in plan.project_ids():
        try:
            projects.append(plan.load(ws, pid)[0])
        except PlanforgeError:
            continue
    mine = person_projects(address, projects)
    sources = []
    for project in mine:
        history = project_history(ws, project.id, as_of)
        kickoff = kickoff_dues(history.agreed) if history is not None else None
        sources.append(CalendarInput(compute_facts(project, as_of, ws.settings, kickoff),
                                     history))
    t = translator(brief_locale(mine, ws.settings.locale), ws.templates_dir)
    return person_calendar(address, sources, t, ws.settings.timezone)
