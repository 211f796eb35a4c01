"""The send policy: which project's brief of a week goes out, which is held and why, and when a
brief already sent goes out again as an update. Pure rules, no I/O.

- A project's brief of week W goes out once its update for W exists (``email.without_update:
  hold``, the default), or at once (``send``). Sales act on the brief; one sent before the team
  wrote the week's update says "no update yet" and, being the week's one email, crowds out the
  real one.
- The week a project closes (``done`` or ``cancelled``), its closing brief goes out, with or
  without a final update: the closure is itself the news.
- A brief already sent goes out again, as "Updated", when what it shows changed since
  (``email.resend: changed``, the default) and never under ``never``; to one person at most one
  update a day.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .model import EmailSettings, Project

#: What a brief shows, in the order an "Updated" line names it.
PARTS = ("update", "dates", "risks", "goals", "people", "plan")
ADDED = "added"  # a project that joined a portfolio email already sent


@dataclass(frozen=True)
class Held:
    """A project whose brief of the week does not go out yet, and why (for the user)."""

    project_id: str
    reason: str


def _digest(value: Any) -> str:
    text = json.dumps(value, default=str, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def brief_content(project: Project, week: str) -> dict[str, str]:
    """A hash of each part of what the project's brief of ``week`` shows, from its plan and that
    week's update. Computed figures (slips, health as of today) are left out on purpose: they
    move with the calendar, and an update is for an edit, not for another day passing."""
    plan = asdict(project)
    update = project.update_for(week)
    dates = {"start": plan.pop("start"), "end": plan.pop("end"),
             "milestones": [asdict(m) for m in project.milestones]}
    parts = {
        "update": update and asdict(update),
        "dates": dates,
        # An internal risk is not in the brief: editing one is no reason to send it again.
        "risks": [r for r in plan.pop("risks") if r["visibility"] != "internal"],
        "goals": plan.pop("goals"),
        "people": plan.pop("people"),
    }
    plan.pop("updates")
    plan.pop("retrospective")
    for phase in plan["phases"]:
        phase.pop("milestones")  # counted as dates
    parts["plan"] = plan  # scope, budget, phases, meetings, ...: the rest of the brief
    return {name: _digest(parts[name]) for name in PARTS}


def changed_parts(sent: Mapping[str, Mapping[str, str]],
                  now: Mapping[str, Mapping[str, str]]) -> list[str]:
    """The parts (``PARTS`` order, then ``added``) that differ between the content sent and the
    content now, over the projects of now; a project not sent before is ``added``."""
    changed: set[str] = set()
    for pid, parts in now.items():
        before = sent.get(pid)
        if before is None:
            changed.add(ADDED)
            continue
        changed.update(name for name in PARTS if before.get(name) != parts.get(name))
    return [name for name in (*PARTS, ADDED) if name in changed]


def held_projects(projects: Iterable[Project], week: str, settings: EmailSettings
                  ) -> tuple[list[Project], list[Held]]:
    """The active projects whose brief of ``week`` may go out, and those held, with why."""
    ready: list[Project] = []
    held: list[Held] = []
    for p in projects:
        if settings.without_update == "hold" and p.update_for(week) is None:
            held.append(Held(p.id, f"no update for {week} yet (updates/{week}.yaml); it goes "
                                   "out once that update is committed"))
        else:
            ready.append(p)
    return ready, held


@dataclass(frozen=True)
class Decision:
    """What to do with a message the ledger may have seen: send it (as an update when
    ``changes``), skip it, or hold it until tomorrow."""

    action: str  # "send", "skip", "hold"
    reason: str = ""
    changes: tuple[str, ...] = ()


def decide(week: str, prior: Sequence[Mapping[str, Mapping[str, str]]],
           now: Mapping[str, Mapping[str, str]], settings: EmailSettings, *,
           updates_today: int, force: bool = False) -> Decision:
    """Whether a week's message goes to a recipient who already had ``prior`` messages of it
    (each one's content, oldest first)."""
    if not prior:
        return Decision("send")
    if force:
        return Decision("send")
    if not any(prior):
        # Sent before the ledger recorded content: whether it changed cannot be told.
        return Decision("skip", f"already sent for {week}")
    sent: dict[str, Mapping[str, str]] = {}
    for content in prior:
        sent.update(content)  # the newest content each project was sent with
    changes = changed_parts(sent, now)
    if not changes:
        return Decision("skip", f"already sent for {week}")
    if ADDED not in changes and settings.resend == "never":
        return Decision("skip", f"already sent for {week}; it changed since, but email.resend "
                                "is never")
    if updates_today:
        return Decision("hold", "changed since it was sent, but an update already went to them "
                                "today (at most one a day); the next run after midnight sends it")
    return Decision("send", changes=tuple(changes))
