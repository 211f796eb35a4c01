"""``planforge close``: a project marked done in its own file, and its retrospective begun.

The plan is edited line by line, not dumped again, so that its comments, order and quoting stay
as the team wrote them. The schema has no closing date: the date goes into a comment above the
status (and into the commit that records the change); ``end`` stays the date that was promised.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from .changes import amount
from .errors import WorkspaceError
from .model import Project
from .scaffold import ensure_schemas
from .validate import load_project
from .workspace import PROJECT_FILE, RETRO_FILE, Workspace, display_path

_STATUS = re.compile(r"^status:[ \t]*(?P<value>[^#\n]*?)(?P<comment>[ \t]*#[^\n]*)?$", re.M)
_START = re.compile(r"^start:", re.M)


@dataclass(frozen=True)
class Closed:
    """What ``close`` wrote, and what it left alone."""

    written: tuple[str, ...]
    notes: tuple[str, ...]


def _text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a double-quoted YAML scalar


def mark_done(text: str, today: date) -> str:
    """The plan's text with ``status: done`` and a comment that dates it; the rest unchanged."""
    stamp = f"# Closed on {today.isoformat()} with planforge close.\n"
    found = _STATUS.search(text)
    if found is not None:
        comment = found.group("comment") or ""
        line = f"status: done{comment}\n"
        return text[:found.start()] + stamp + line + text[found.end():].removeprefix("\n")
    start = _START.search(text)
    if start is None:  # the schema requires ``start``: a valid plan always has it
        raise WorkspaceError("no top-level 'start:' line to put the status before")
    return text[:start.start()] + stamp + "status: done\n" + text[start.start():]


def retrospective_skeleton(project: Project, today: date, schema: str) -> str:
    """A retrospective that validates as written, prefilled from the plan: milestones on time
    and late, risks that occurred, goals with their last reported value."""
    went_well: list[str] = []
    to_improve: list[str] = []
    for m in project.milestones:
        if m.done is not None and m.done <= m.due:
            went_well.append(f"Milestone “{m.name}” done on time ({m.done.isoformat()})")
        elif m.done is not None:
            days = (m.done - m.due).days
            to_improve.append(f"Milestone “{m.name}” done {days} day{'s' * (days != 1)} late "
                              f"(due {m.due.isoformat()}, done {m.done.isoformat()})")
        else:
            to_improve.append(f"Milestone “{m.name}” not done (due {m.due.isoformat()})")
    for r in project.risks:
        if r.status == "occurred":
            to_improve.append(f"Risk “{r.title}” occurred: what would have caught it earlier?")
    lessons = []
    for g in project.goals:
        reported = [u.actuals[g.id] for u in project.updates if g.id in u.actuals]
        last = f"last reported {amount(reported[-1], g.unit)}" if reported else "never reported"
        lessons.append(f"Goal “{g.title}”: target {amount(g.target, g.unit)} by "
                       f"{g.due.isoformat()}, {last}")
    coordinator = project.communication.coordinator if project.communication else None

    def items(key: str, values: list[str], empty: str) -> list[str]:
        return [f"{key}:", *(f"  - {_text(v)}" for v in values or [empty])]

    lines = [
        f"# yaml-language-server: $schema={schema}",
        f"# Retrospective of {_text(project.name)}, begun with planforge close on "
        f"{today.isoformat()}.",
        "# Prefilled from the plan: keep what is true, rewrite the rest, add what the team says.",
        "# held: YYYY-MM-DD        # the day of the retrospective meeting",
        *([f"facilitator: {coordinator}"] if coordinator else []),
        *items("went_well", went_well, "What went well"),
        *items("to_improve", to_improve, "What to do better next time"),
        *items("lessons", lessons, "What we learned"),
        "actions: []             # - {action: ..., owner: <person>, due: YYYY-MM-DD}",
    ]
    return "\n".join(lines) + "\n"


def close_project(ws: Workspace, project_id: str, today: date) -> Closed:
    """Set the project's status to done and write its retrospective skeleton (never over one
    that exists)."""
    project, _warnings = load_project(ws, project_id, today)
    folder = ws.project_dir(project_id)
    plan = folder / PROJECT_FILE
    written: list[str] = []
    notes: list[str] = []
    if project.status == "done":
        notes.append(f"{display_path(plan)}: already done; left as it is")
    else:
        text = mark_done(plan.read_text("utf-8"), today)
        # The edit must mean what it says before it replaces the file.
        if (yaml.safe_load(text) or {}).get("status") != "done":
            raise WorkspaceError(f"{display_path(plan)}: could not set the status line; set "
                                 "'status: done' by hand")
        _replace(plan, text)
        written.append(display_path(plan))
    retro = folder / RETRO_FILE
    if retro.exists():
        notes.append(f"{display_path(retro)} exists; left as it is")
    else:
        schema = os.path.relpath(ensure_schemas(ws) / "retrospective.schema.json", folder)
        retro.write_text(retrospective_skeleton(project, today, schema), "utf-8")
        written.append(display_path(retro))
    return Closed(tuple(written), tuple(notes))


def _replace(path: Path, text: str) -> None:
    staging = path.with_name(f".{path.name}.closing")
    staging.write_text(text, "utf-8")
    staging.replace(path)
