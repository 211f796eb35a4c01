"""Calendars as of a date, read from the workspace and its history: the bytes ``build`` writes,
for the weekly email and ``planforge calendar`` without a build."""

from __future__ import annotations

from datetime import date

from .audience import brief_locale
from .baselines import kickoff_dues
from .calendars import CalendarInput, person_calendar, person_projects, project_calendar
from .errors import PlanforgeError, UsageError
from .facts import compute_facts
from .i18n import translator
from .model import Project
from .timeline import plan_as_of, project_history
from .workspace import Workspace


def _input(ws: Workspace, project: Project, as_of: date) -> CalendarInput:
    """A project with its facts and history, as ``build`` loads it for its calendars."""
    history = project_history(ws, project.id, as_of)
    kickoff = kickoff_dues(history.agreed) if history is not None else None
    return CalendarInput(compute_facts(project, as_of, ws.settings, kickoff), history)


def sales_calendar(ws: Workspace, address: str, as_of: date) -> bytes:
    """The calendar ``build`` writes for this address, as iCalendar bytes (projects whose files
    have errors are left out, as ``validate`` reports them); a usage error when the address
    receives no project's brief, so has no calendar."""
    plan = plan_as_of(ws, as_of)
    projects = []
    for pid in plan.project_ids():
        try:
            projects.append(plan.load(ws, pid)[0])
        except PlanforgeError:
            continue
    mine = person_projects(address, projects, as_of)
    if not mine:
        raise UsageError(f"{address} receives the brief of no active project, so has no "
                         "calendar (people with `brief: true` and an email address have one)")
    sources = [_input(ws, project, as_of) for project in mine]
    t = translator(brief_locale(mine, ws.settings.locale), ws.templates_dir)
    return person_calendar(address, sources, t, ws.settings.timezone)


def project_feed(ws: Workspace, project_id: str, as_of: date) -> bytes:
    """The calendar ``build`` writes for this project (``output/<project>/calendar.ics``)."""
    project = plan_as_of(ws, as_of).load(ws, project_id)[0]
    source = _input(ws, project, as_of)
    t = translator(source.facts.locale, ws.templates_dir)
    return project_calendar(source, t, ws.settings.timezone)
