"""People over time: who is on a project on a date, and who owned an item on a date.

A person's ``joined`` and ``left`` are their first and last days on the project, both counted
as on it. An item's ``owner`` is its current owner; its ``handed_over`` lists the owners before,
oldest first, each with the day the next one took over. Pure: every function takes the day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from .model import Handover, Person, Project


def on_project(project: Project, day: date) -> list[Person]:
    """The people on the project that day, in the plan's order."""
    return [p for p in project.people.values() if p.active_on(day)]


def former(project: Project, day: date) -> list[Person]:
    """The people who had left the project before that day, in the plan's order."""
    return [p for p in project.people.values() if p.left_by(day)]


def owner_on(owner: str | None, handed_over: Iterable[Handover], day: date) -> str | None:
    """Who owned an item that day: the first previous owner whose handover came after it, else
    the current ``owner``."""
    for h in sorted(handed_over, key=lambda h: h.on):
        if day < h.on:
            return h.person
    return owner
