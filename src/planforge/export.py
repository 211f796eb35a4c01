"""The workspace's data as of a date, for analysis: CSV files, one SQLite database, or JSON.

Every table is described once, in ``TABLES``: the SQLite schema, the CSV headers, the JSON keys
and the README's column reference are all made from it, so they cannot drift apart. Values are
the facts the documents show (``facts.compute_facts``), never computed a second way here.

A snapshot table has a ``week`` column: the ISO week its rows are as of. Without ``history`` it
holds one week, the as-of week; with it, every week from the first commit of a plan to the
as-of week, the plans read from one pass over the git history (``history.plan_log``).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from .baselines import PlanVersion, kickoff_dues, plan_history
from .dates import friday_of, iso_week
from .errors import GitError, PlanforgeError, UsageError
from .facts import ask_spans, compute_facts, compute_health
from .history import plan_log
from .model import Project, Settings
from .outputs import write_atomic
from .timeline import plan_as_of, plan_versions
from .workspace import Workspace

ExportFormat = Literal["csv", "sqlite", "json"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "sqlite", "json")
ColumnType = Literal["text", "integer", "real", "boolean", "date", "week"]
Value = str | int | float | bool | date | None
Row = dict[str, Value]

#: How each column type is stored in SQLite, and how the README names it.
_SQL = {"text": "TEXT", "integer": "INTEGER", "real": "REAL", "boolean": "INTEGER",
        "date": "TEXT", "week": "TEXT"}
_TYPE_TEXT = {"text": "text", "integer": "integer", "real": "real",
              "boolean": "boolean (1/0; JSON true/false)", "date": "date (YYYY-MM-DD)",
              "week": "ISO week (YYYY-Www)"}
#: Shares and points are rounded so that 1/3 reads 0.333333 in a spreadsheet, not 17 digits.
_DECIMALS = 6


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    about: str


@dataclass(frozen=True)
class Reference:
    """A foreign key: ``columns`` of this table name a row of ``table`` by its ``to`` columns."""

    columns: tuple[str, ...]
    table: str
    to: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    name: str
    about: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: tuple[Reference, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _c(name: str, kind: ColumnType, about: str) -> Column:
    return Column(name, kind, about)


_WEEK = _c("week", "week", "the ISO week this row is as of")
_PROJECT = _c("project_id", "text", "the project's id (its folder name)")
_OF_PROJECT = Reference(("week", "project_id"), "projects", ("week", "project_id"))


def _person(column: str) -> Reference:
    return Reference(("week", "project_id", column), "people", ("week", "project_id", "person_id"))


TABLES: tuple[Table, ...] = (
    Table("projects", "one row per project and week", (
        _WEEK,
        _c("as_of", "date", "the date the facts are computed as of (the Friday of a past week)"),
        _PROJECT,
        _c("name", "text", "the project's name"),
        _c("customer", "text", "the customer"),
        _c("status", "text", "planned, active, on-hold, done or cancelled"),
        _c("start", "date", "the project's start"),
        _c("end", "date", "the project's end as planned"),
        _c("locale", "text", "the language of its documents"),
        _c("coordinator", "text", "the person id of the communication coordinator"),
        _c("health_reported", "text", "green, amber or red: the latest update's, empty if none"),
        _c("health_computed", "text", "green, amber or red: as the brief computes it"),
        _c("watermelon", "boolean", "reported health better than computed"),
        _c("progress", "real", "0..1, duration-weighted over the tasks"),
        _c("elapsed", "real", "0..1 share of the calendar time from start to end"),
        _c("budget_currency", "text", "the budget's currency"),
        _c("budget_planned", "real", "the planned budget"),
        _c("budget_spent", "real", "spent so far, as written in the plan"),
        _c("budget_ahead_points", "real", "spent share minus time elapsed, in points"),
        _c("open_asks", "integer", "asks of sales open that week"),
    ), ("week", "project_id")),
    Table("people", "the people of each project, with their role", (
        _WEEK, _PROJECT,
        _c("person_id", "text", "the person's id in the project"),
        _c("name", "text", "their name"),
        _c("role", "text", "their role in the project"),
        _c("team", "text", "their team: sales, delivery, customer …"),
        _c("email", "text", "their address"),
        _c("brief", "boolean", "receives the weekly brief"),
    ), ("week", "project_id", "person_id"), (_OF_PROJECT,)),
    Table("responsibilities", "the RACI of each project: one row per area, person and letter", (
        _WEEK, _PROJECT,
        _c("area", "text", "the area of work"),
        _c("person_id", "text", "the person"),
        _c("raci", "text", "responsible, accountable, consulted or informed"),
    ), ("week", "project_id", "area", "person_id", "raci"), (_OF_PROJECT, _person("person_id"))),
    Table("milestones", "every milestone, baseline against forecast", (
        _WEEK, _PROJECT,
        _c("milestone_id", "text", "the milestone's id"),
        _c("phase_id", "text", "its phase"),
        _c("name", "text", "its name"),
        _c("customer_facing", "boolean", "promised to the customer"),
        _c("owner", "text", "the person id of its owner"),
        _c("baseline", "date", "the due date agreed (the plan's due)"),
        _c("forecast", "date", "the forecast as written; empty: as baseline"),
        _c("expected", "date", "forecast, else baseline"),
        _c("done", "date", "when it was done, if done by the as-of date"),
        _c("state", "text", "done-on-time, done-late, on-track, slipping or overdue"),
        _c("slip_days", "integer", "days late, slipped or overdue in that state; 0 otherwise"),
        _c("variance_days", "integer", "done or expected minus baseline, signed"),
        _c("days_until", "integer", "expected minus the as-of date; empty once done"),
        _c("first_promised", "date", "the due at kickoff, where it differs from expected"),
        _c("promised_days", "integer", "expected minus first promised"),
    ), ("week", "project_id", "milestone_id"), (_OF_PROJECT, _person("owner"))),
    Table("goals", "every goal with its latest actual", (
        _WEEK, _PROJECT,
        _c("goal_id", "text", "the goal's id"),
        _c("title", "text", "its title"),
        _c("metric", "text", "what is measured"),
        _c("unit", "text", "the unit"),
        _c("owner", "text", "the person id of its owner"),
        _c("baseline", "real", "the value at the start"),
        _c("target", "real", "the value to reach"),
        _c("due", "date", "when to reach it"),
        _c("actual", "real", "the latest value reported by that week"),
        _c("actual_week", "week", "the week of that value"),
        _c("progress", "real", "(actual − baseline) / (target − baseline)"),
        _c("expected_progress", "real", "0..1 share of time from the start to due"),
        _c("state", "text", "achieved, on-track, behind, missed or not-measured"),
    ), ("week", "project_id", "goal_id"), (_OF_PROJECT, _person("owner"))),
    Table("goal_actuals", "every value of a goal reported in the weekly updates", (
        _WEEK, _PROJECT,
        _c("goal_id", "text", "the goal"),
        _c("measured_week", "week", "the update that reported it"),
        _c("value", "real", "the value"),
    ), ("week", "project_id", "goal_id", "measured_week"),
        (Reference(("week", "project_id", "goal_id"), "goals",
                   ("week", "project_id", "goal_id")),)),
    Table("risks", "every risk with its score", (
        _WEEK, _PROJECT,
        _c("risk_id", "text", "the risk's id"),
        _c("title", "text", "its title"),
        _c("category", "text", "its category"),
        _c("owner", "text", "the person id of its owner"),
        _c("status", "text", "open, mitigated, occurred or closed"),
        _c("likelihood", "integer", "1..5"),
        _c("impact", "integer", "1..5"),
        _c("score", "integer", "likelihood × impact"),
        _c("level", "text", "low, medium, high or critical"),
        _c("raised", "date", "when it was raised"),
    ), ("week", "project_id", "risk_id"), (_OF_PROJECT, _person("owner"))),
    Table("risk_scores", "each risk's score in every committed version of the plan that changed "
          "it, then the exported plan's where that differs (no week column: this is history)", (
        _PROJECT,
        _c("risk_id", "text", "the risk"),
        _c("seq", "integer", "1, 2, … in order of change"),
        _c("changed_on", "date", "the day of the commit (the as-of date: not committed yet)"),
        _c("commit", "text", "the commit; empty: the exported plan, not committed yet"),
        _c("likelihood", "integer", "1..5"),
        _c("impact", "integer", "1..5"),
        _c("score", "integer", "likelihood × impact"),
    ), ("project_id", "risk_id", "seq")),
    Table("updates", "the weekly updates up to that week", (
        _WEEK, _PROJECT,
        _c("update_week", "week", "the week of the update"),
        _c("health_reported", "text", "green, amber or red, as the team reported it"),
        _c("health_computed", "text", "as computed from the plan of the row's week, as of the "
           "update's Friday"),
        _c("summary", "text", "the summary"),
        _c("blockers", "text", "the blockers, one per line"),
        _c("decisions", "text", "the decisions, one per line"),
    ), ("week", "project_id", "update_week"), (_OF_PROJECT,)),
    Table("asks", "the asks of sales: each stretch of time one was open", (
        _WEEK, _PROJECT,
        _c("ask_no", "integer", "1, 2, … in the order first raised"),
        _c("ask_id", "text", "its id, where it has one"),
        _c("ask", "text", "its newest wording"),
        _c("owner", "text", "who is asked"),
        _c("due", "date", "by when"),
        _c("status", "text", "open; done or dropped; closed when no longer listed"),
        _c("raised_week", "week", "the update that first listed it"),
        _c("closed_week", "week", "the update that closed it; empty while open"),
        _c("open_weeks", "integer", "weeks from raised to closed, or to the latest update"),
    ), ("week", "project_id", "ask_no"), (_OF_PROJECT,)),
    Table("feedback", "customer feedback reported in the updates", (
        _WEEK, _PROJECT,
        _c("update_week", "week", "the update that reported it"),
        _c("seq", "integer", "1, 2, … within the update"),
        _c("feedback", "text", "what the customer said"),
        _c("source", "text", "who said it"),
        _c("response", "text", "the response"),
    ), ("week", "project_id", "update_week", "seq"),
        (Reference(("week", "project_id", "update_week"), "updates",
                   ("week", "project_id", "update_week")),)),
    Table("health_reasons", "why computed health is not green", (
        _WEEK, _PROJECT,
        _c("seq", "integer", "1, 2, … red reasons first"),
        _c("level", "text", "amber or red"),
        _c("code", "text", "e.g. customer-milestone-slipping, goal-behind, budget-ahead"),
        _c("subject_id", "text", "the milestone, goal or risk; empty for the budget"),
        _c("days", "integer", "milestones: days late"),
        _c("points", "real", "goals: points behind; budget: points ahead of time"),
    ), ("week", "project_id", "seq"), (_OF_PROJECT,)),
)

TABLE = {t.name: t for t in TABLES}


@dataclass(frozen=True)
class Export:
    """The rows of every table, and what the user should know about them."""

    as_of: date
    week: str
    weeks: tuple[str, ...]  # the snapshot weeks, oldest first
    rows: Mapping[str, Sequence[Row]]
    notes: tuple[str, ...]


# --- rows ---------------------------------------------------------------------------------------


def _real(value: float | None) -> float | None:
    return None if value is None else round(value, _DECIMALS)


def _lines(items: Iterable[str]) -> str | None:
    text = "\n".join(items)
    return text or None


def _snapshot(week: str, as_of: date, project: Project, settings: Settings,
              kickoff: Mapping[str, date] | None) -> dict[str, list[Row]]:
    """The rows of every snapshot table for one project and week."""
    f = compute_facts(project, as_of, settings, kickoff)
    pid = project.id
    base: Row = {"week": week, "project_id": pid}
    out: dict[str, list[Row]] = {t.name: [] for t in TABLES}
    budget = f.budget
    out["projects"].append({
        "week": week, "as_of": as_of, "project_id": pid, "name": project.name,
        "customer": project.customer, "status": project.status, "start": project.start,
        "end": project.end, "locale": f.locale,
        "coordinator": project.communication.coordinator if project.communication else None,
        "health_reported": f.health.reported, "health_computed": f.health.level,
        "watermelon": f.health.watermelon, "progress": _real(f.progress),
        "elapsed": _real(f.elapsed),
        "budget_currency": budget.budget.currency if budget else None,
        "budget_planned": budget.budget.planned if budget else None,
        "budget_spent": budget.budget.spent if budget else None,
        "budget_ahead_points": _real(budget.ahead_points) if budget else None,
        "open_asks": len(f.open_asks),
    })
    for person_id, person in project.people.items():
        out["people"].append({**base, "person_id": person_id, "name": person.name,
                              "role": person.role, "team": person.team, "email": person.email,
                              "brief": person.brief})
    seen: set[tuple[str, str, str]] = set()
    for area in project.responsibilities:
        letters = (("responsible", (area.responsible,)), ("accountable", (area.accountable,)),
                   ("consulted", area.consulted), ("informed", area.informed))
        for raci, people in letters:
            for person_id in people:
                if (area.area, person_id, raci) not in seen:
                    seen.add((area.area, person_id, raci))
                    out["responsibilities"].append(
                        {**base, "area": area.area, "person_id": person_id, "raci": raci})
    for m in f.milestones:
        out["milestones"].append({
            **base, "milestone_id": m.milestone.id, "phase_id": m.phase_id,
            "name": m.milestone.name, "customer_facing": m.customer_facing,
            "owner": m.milestone.owner, "baseline": m.milestone.due,
            "forecast": m.milestone.forecast, "expected": m.expected,
            "done": m.actual if m.days_until is None else None, "state": m.state,
            "slip_days": m.days, "variance_days": m.variance_days, "days_until": m.days_until,
            "first_promised": m.first_promised, "promised_days": m.promised_days,
        })
    for g in f.goals:
        out["goals"].append({
            **base, "goal_id": g.goal.id, "title": g.goal.title, "metric": g.goal.metric,
            "unit": g.goal.unit, "owner": g.goal.owner, "baseline": g.goal.baseline,
            "target": g.goal.target, "due": g.goal.due, "actual": g.actual,
            "actual_week": g.actual_week, "progress": _real(g.progress),
            "expected_progress": _real(g.expected), "state": g.state,
        })
        out["goal_actuals"].extend({**base, "goal_id": g.goal.id, "measured_week": w,
                                    "value": v} for w, v in g.history)
    for rf in f.risks:
        r = rf.risk
        out["risks"].append({
            **base, "risk_id": r.id, "title": r.title, "category": r.category,
            "owner": r.owner, "status": r.status, "likelihood": r.likelihood,
            "impact": r.impact, "score": rf.score, "level": rf.level, "raised": r.raised,
        })
    for u in project.updates:
        if u.week > week:
            break
        # The as-of week's row agrees with the projects table: both are as of the as-of date.
        day = as_of if u.week == week else friday_of(u.week)
        out["updates"].append({
            **base, "update_week": u.week, "health_reported": u.health,
            "health_computed": compute_health(project, day, settings.health).level,
            "summary": u.summary, "blockers": _lines(u.blockers),
            "decisions": _lines(u.decisions),
        })
        out["feedback"].extend(
            {**base, "update_week": u.week, "seq": i, "feedback": fb.feedback,
             "source": fb.source, "response": fb.response}
            for i, fb in enumerate(u.customer_feedback, 1))
    for i, span in enumerate(ask_spans(project.updates, week), 1):
        status = "open" if span.closed is None else (
            span.ask.status if span.ask.status != "open" else "closed")
        out["asks"].append({
            **base, "ask_no": i, "ask_id": span.ask.id, "ask": span.ask.ask,
            "owner": span.ask.owner, "due": span.ask.due, "status": status,
            "raised_week": span.raised, "closed_week": span.closed, "open_weeks": span.weeks,
        })
    for i, reason in enumerate(f.health.reasons, 1):
        out["health_reasons"].append({
            **base, "seq": i, "level": reason.level, "code": reason.code,
            "subject_id": reason.subject_id, "days": reason.days,
            "points": _real(reason.points),
        })
    return out


def _risk_scores(project_id: str, versions: Sequence[PlanVersion], now: Project | None,
                 as_of: date) -> list[Row]:
    """A row each time a risk's score changed, from its versions and then ``now``."""
    rows: list[Row] = []
    last: dict[str, tuple[int, int]] = {}
    counts: dict[str, int] = {}
    steps: list[tuple[date, str | None, Project]] = [(v.day, v.commit, v.project)
                                                     for v in versions]
    if now is not None:
        steps.append((as_of, None, now))
    for day, commit, project in steps:
        for r in project.risks:
            value = (r.likelihood, r.impact)
            if last.get(r.id) == value:
                continue
            last[r.id] = value
            counts[r.id] = counts.get(r.id, 0) + 1
            rows.append({"project_id": project_id, "risk_id": r.id, "seq": counts[r.id],
                         "changed_on": day, "commit": commit, "likelihood": r.likelihood,
                         "impact": r.impact, "score": r.score})
    return sorted(rows, key=lambda row: (str(row["risk_id"]), int(str(row["seq"]))))


def _weeks_between(first: date, last_week: str) -> Iterator[str]:
    """Every ISO week from the one holding ``first`` up to, not including, ``last_week``."""
    day = first
    while iso_week(day) < last_week:
        yield iso_week(day)
        day += timedelta(days=7)


def _kickoff(versions: Sequence[PlanVersion] | None) -> dict[str, date] | None:
    return kickoff_dues(plan_history(versions).agreed) if versions is not None else None


def collect(ws: Workspace, as_of: date, week: str, named_week: str | None = None,
            history: bool = False) -> Export:
    """Every table's rows as of a date (``named_week``: the week the user named, for
    messages); with ``history``, every week since the first commit of a plan as well."""
    plan = plan_as_of(ws, as_of, named_week)
    notes = [plan.notice] if plan.notice else []
    current: dict[str, Project] = {}
    for pid in plan.project_ids():
        try:
            current[pid] = plan.load(ws, pid)[0]
        except PlanforgeError:
            notes.append(f"skipped {pid}: its files have errors (planforge validate {pid})")
    try:
        log = plan_log(ws)
    except GitError as exc:
        log = None
        notes.append(f"git history not read ({exc}): no risk score history")
    versions: dict[str, list[PlanVersion]] = {}
    if log is not None and not log.shallow:
        for pid in sorted(set(log.revisions) | set(current)):
            found = plan_versions(ws, pid, as_of, log)
            if found:
                versions[pid] = found
    elif history:
        notes.append("no usable git history (not a repository, no commits, or a shallow "
                     "clone): only the as-of week is exported")

    rows: dict[str, list[Row]] = {t.name: [] for t in TABLES}
    weeks: list[str] = []
    if history and versions:
        first = min(v[0].day for v in versions.values())
        # The kickoff only changes with a new version: worked out once per version, not week.
        kickoffs: dict[tuple[str, int], dict[str, date] | None] = {}
        for past in _weeks_between(first, week):
            weeks.append(past)
            day = friday_of(past)
            for pid, found in versions.items():
                count = bisect_right([v.day for v in found], day)
                if not count:
                    continue
                then = found[:count]
                if (pid, count) not in kickoffs:
                    kickoffs[pid, count] = _kickoff(then)
                project = then[-1].project
                if pid in current:  # updates are read as the as-of plan has them
                    project = replace(project, updates=current[pid].updates,
                                      retrospective=current[pid].retrospective)
                _extend(rows, _snapshot(past, day, project, ws.settings, kickoffs[pid, count]))
    weeks.append(week)
    for pid, project in current.items():
        kickoff = _kickoff(versions.get(pid, [])) if log is not None else None
        _extend(rows, _snapshot(week, as_of, project, ws.settings, kickoff))
    for pid in sorted(set(versions) | set(current)):
        rows["risk_scores"].extend(
            _risk_scores(pid, versions.get(pid, []), current.get(pid), as_of))
    return Export(as_of, week, tuple(weeks), rows, tuple(notes))


def _extend(rows: dict[str, list[Row]], more: Mapping[str, list[Row]]) -> None:
    for name, found in more.items():
        rows[name].extend(found)


# --- formats ------------------------------------------------------------------------------------


def _text(value: Value) -> str:
    """A value as a CSV cell: ISO dates, 1/0 for booleans, empty for none."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _sql(value: Value) -> str | int | float | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _json(value: Value) -> str | int | float | bool | None:
    return value.isoformat() if isinstance(value, date) else value


def csv_bytes(table: Table, rows: Iterable[Row]) -> bytes:
    """One table as CSV: UTF-8 with a byte order mark, so that Excel reads Chinese text right,
    comma-separated, CRLF line ends, a header row of the column names."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.names)
    writer.writerows([_text(row[name]) for name in table.names] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def sqlite_schema() -> str:
    """The CREATE TABLE statements of the database, with its keys."""
    statements = []
    for t in TABLES:
        lines = [f'  "{c.name}" {_SQL[c.type]}' for c in t.columns]
        lines.append(f"  PRIMARY KEY ({', '.join(t.key)})")
        lines.extend(f"  FOREIGN KEY ({', '.join(r.columns)}) REFERENCES {r.table} "
                     f"({', '.join(r.to)})" for r in t.references)
        statements.append(f"CREATE TABLE {t.name} (\n" + ",\n".join(lines) + "\n);")
    return "\n".join(statements) + "\n"


def sqlite_bytes(export: Export) -> bytes:
    """The whole export as one SQLite database file."""
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(sqlite_schema())
        meta = {"as_of": export.as_of.isoformat(), "week": export.week,
                "weeks": ",".join(export.weeks)}
        db.execute("CREATE TABLE export (name TEXT PRIMARY KEY, value TEXT)")
        db.executemany("INSERT INTO export VALUES (?, ?)", sorted(meta.items()))
        for t in TABLES:
            marks = ", ".join("?" * len(t.columns))
            db.executemany(f"INSERT INTO {t.name} VALUES ({marks})",
                           ([_sql(row[n]) for n in t.names] for row in export.rows[t.name]))
        db.commit()
        return db.serialize()
    finally:
        db.close()


def json_bytes(export: Export) -> bytes:
    """The whole export as one JSON document: ``tables`` maps each table to its rows."""
    doc = {
        "as_of": export.as_of.isoformat(),
        "week": export.week,
        "weeks": list(export.weeks),
        "tables": {t.name: [{n: _json(row[n]) for n in t.names} for row in export.rows[t.name]]
                   for t in TABLES},
    }
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def write_export(export: Export, fmt: ExportFormat, target: Path) -> list[Path]:
    """Write the export in a format: ``target`` is a folder for CSV (one file per table), a
    file for SQLite and JSON. Each file is replaced whole or not at all."""
    if fmt == "csv":
        if target.exists() and not target.is_dir():
            raise UsageError(f"-o {target}: is a file; CSV is written into a folder")
        written = []
        for t in TABLES:
            path = target / f"{t.name}.csv"
            write_atomic(path, csv_bytes(t, export.rows[t.name]))
            written.append(path)
        return written
    if target.is_dir():
        raise UsageError(f"-o {target}: is a folder; name the file to write")
    write_atomic(target, sqlite_bytes(export) if fmt == "sqlite" else json_bytes(export))
    return [target]


def columns_markdown() -> str:
    """The README's reference of every table and column, made from ``TABLES``."""
    parts = []
    for t in TABLES:
        keys = ", ".join(t.key)
        refs = "".join(f"; ({', '.join(r.columns)}) → {r.table}" for r in t.references)
        parts.append(f"**{t.name}**: {t.about}. Key: ({keys}){refs}.\n\n"
                     "| column | type | meaning |\n| --- | --- | --- |\n"
                     + "".join(f"| `{c.name}` | {_TYPE_TEXT[c.type]} | {c.about} |\n"
                               for c in t.columns))
    return "\n".join(parts)
