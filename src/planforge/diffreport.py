"""``planforge diff`` output: Markdown for a pull-request comment, and JSON for other tools.

Built as plain strings: ``diff`` runs on every pull request and must not load Jinja or the PDF
stack. Every text that comes from YAML goes through ``cell``, so it can never become markup.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import date
from typing import Any

from .changes import Change, ProjectDiff
from .history import Review, Side

_LABELS = {
    "milestone-moved": "Date moved",
    "milestone-done": "Done",
    "milestone-rebaselined": "⚠️ **Re-baselined**",
    "risk-added": "Risk added",
    "risk-closed": "Risk closed",
    "risk-rescored": "Risk re-scored",
    "risk-removed": "Risk removed",
    "person-added": "Person added",
    "role-changed": "Role changed",
    "person-removed": "Person removed",
    "phase-added": "Phase added",
    "phase-moved": "Phase moved",
    "phase-removed": "Phase removed",
    "update-added": "Weekly update",
    "project-added": "Project added",
    "project-removed": "Project removed",
    "project-status": "Status changed",
    "project-start-moved": "Project start moved",
    "project-end-moved": "**Project end moved**",
    "budget-changed": "Budget changed",
    "milestone-added": "Milestone added",
    "milestone-removed": "Milestone removed",
    "goal-added": "Goal added",
    "goal-removed": "Goal removed",
    "risk-occurred": "⚠️ **Risk occurred**",
    "owner-changed": "Owner changed",
    "coordinator-changed": "Coordinator changed",
    "task-added": "Task added",
    "task-removed": "Task removed",
}
_HEALTH = {"green": "🟢 green", "amber": "🟠 amber", "red": "🔴 red"}
_MARKUP = re.compile(r"([\\`*_\[\]<>|~#!])")


def cell(text: str) -> str:
    """YAML text made inert in Markdown (table cells included): no markup, no HTML, no line
    breaks, and no @-mention that would notify people from a pull-request comment."""
    text = " ".join(text.split())
    text = _MARKUP.sub(r"\\\1", text.replace("&", "&amp;"))
    return text.replace("@", "@\u2060")  # a word joiner after @ stops GitHub's mention


def code(text: str) -> str:
    return f"`{text.replace('`', '')}`"


def _side(side: Side) -> str:
    if side.rev is None:
        return "the working tree"
    where = code(side.rev)
    commit = side.commit or ""
    if not (re.fullmatch(r"[0-9a-f]{4,40}", side.rev) and commit.startswith(side.rev)):
        where += f" ({code(commit[:7])})"  # a hash needs no second hash
    return f"the merge base with {where}" if side.merge_base else where


def _value(change: Change, value: date | int | float | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if change.kind == "budget-changed" and isinstance(value, int | float):
        # Thousands separated, as a budget is read: "180,000 EUR".
        amount = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
        return f"{amount} {cell(change.unit)}" if change.unit else amount
    if change.kind.startswith("risk-") and isinstance(value, int):
        return f"score {value}"
    if change.kind == "update-added":
        return _HEALTH.get(str(value), cell(str(value)))
    if change.kind in ("project-added", "project-removed"):
        return f"customer: {cell(str(value))}"
    return cell(str(value))


def _days(change: Change) -> str:
    if change.days is None:
        return ""
    n = change.days
    count = f"{abs(n)} day{'s' * (abs(n) != 1)}"
    if change.kind == "milestone-done":
        if n == 0:
            return "on time"
        return f"{count} {'late' if n > 0 else 'early'}"
    if n == 0:
        return "same day"
    text = f"{count} {'later' if n > 0 else 'earlier'}"
    bold = change.customer_facing and change.kind in ("milestone-moved", "project-end-moved")
    return f"**{text}**" if bold else text


def _label(change: Change) -> str:
    if change.kind == "milestone-moved" and change.customer_facing:
        return "**Customer-facing date moved**"
    if change.kind == "goal-retargeted":
        return "Goal due moved" if change.days is not None else "Goal target changed"
    return _LABELS[change.kind]


def _item(change: Change) -> str:
    item = f"{cell(change.subject)} ({code(change.subject_id)})"
    if change.kind == "update-added":
        item = code(change.subject_id)
    if change.kind in ("project-status", "project-start-moved", "project-end-moved",
                       "budget-changed", "coordinator-changed"):
        item = "the project"
    if change.customer_facing and change.kind in ("milestone-done", "milestone-rebaselined",
                                                  "milestone-added", "milestone-removed",
                                                  "owner-changed"):
        item += ", customer-facing"
    return item


def _row(change: Change) -> str:
    cells = [_label(change), _item(change), _value(change, change.old),
             _value(change, change.new), _days(change), cell(change.note or "")]
    return "| " + " | ".join(cells) + " |"


def _project(p: ProjectDiff, base: Side, head: Side) -> list[str]:
    lines = [f"### {cell(p.name)} ({code(p.project_id)})", ""]
    if p.renamed_from:
        lines += [f"Folder renamed from {code(p.renamed_from)}: its documents move to "
                  f"{code('output/' + p.project_id)}.", ""]
    for side, errors in ((base, p.errors_old), (head, p.errors_new)):
        if errors is not None:
            lines += [
                "> [!CAUTION]",
                f"> **Invalid on {_side(side)}**: {errors} error{'s' * (errors != 1)}, see "
                f"`planforge validate`. Its changes cannot be shown until it is valid.",
                "",
            ]
    rebaselines = [c for c in p.changes if c.kind == "milestone-rebaselined"]
    if rebaselines:
        lines += [
            "> [!WARNING]",
            "> **Re-baseline**: this changes `due`, the date agreed at kickoff, and so rewrites "
            "what was promised. Make sure sales and the customer have agreed to it.",
        ]
        for c in rebaselines:
            who = ", customer-facing" if c.customer_facing else ""
            lines.append(f"> - **{cell(c.subject)}** ({code(c.subject_id)}{who}): "
                         f"{_value(c, c.old)} → {_value(c, c.new)} ({_days(c)})")
        lines.append("")
    rows = [c for c in p.changes if not (p.renamed_from and c.kind.startswith("project-"))]
    if rows:
        lines += [
            "| Change | Item | Was | Now | Days | Reason / note |",
            "| --- | --- | --- | --- | --- | --- |",
            *map(_row, rows),
            "",
        ]
    return lines


def markdown(review: Review) -> str:
    """The review as GitHub-flavoured Markdown, to post as a pull-request comment."""
    diff = review.diff
    changed = len(diff.projects) + len(review.edited)
    lines = [
        f"## Plan changes: {diff.headline}",
        "",
        f"From {_side(review.base)} to {_side(review.head)}: "
        f"{review.compared} project{'s' * (review.compared != 1)}, {changed} changed.",
        "",
    ]
    for p in diff.projects:
        lines += _project(p, review.base, review.head)
    if review.edited:
        names = ", ".join(map(code, review.edited))
        lines += [f"Edited with no change to dates, goals, risks, people or phases: {names}.", ""]
    return "\n".join(lines)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _side_json(side: Side) -> dict[str, Any]:
    return {"rev": side.rev, "commit": side.commit, "merge_base": side.merge_base}


def json_text(review: Review) -> str:
    """The review as JSON: the sides, the headline and every change record."""
    data = {
        "base": _side_json(review.base),
        "head": _side_json(review.head),
        "headline": review.diff.headline,
        "compared": review.compared,
        "projects": [
            {
                "id": p.project_id,
                "name": p.name,
                "renamed_from": p.renamed_from,
                "invalid": {"base": p.errors_old, "head": p.errors_new},
                "changes": [
                    {k: _plain(v) for k, v in asdict(c).items()} for c in p.changes
                ],
            }
            for p in review.diff.projects
        ],
        "edited": list(review.edited),
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
