"""Validation in three layers (YAML, schema, meaning) and loading a project into the model.

Every layer returns findings as data and nothing here prints; load_project raises
InvalidFilesError, carrying them all, when a project cannot be used.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from . import loadcache
from .audience import is_placeholder, sales_risks
from .dates import WEEK_FILE, WEEKDAYS, friday_of, iso_week, monday_of, week_problem, years_after
from .errors import Finding, InvalidFilesError
from .facts import ScheduleItem, compute_health, knock_on, on_cadence, ranked_risks
from .files import FileRefused
from .members import owner_on
from .model import (
    HealthSettings,
    Project,
    build_handovers,
    build_meeting,
    build_project,
    build_update,
)
from .schema import check_document
from .sources import (
    PROJECT_FILE,
    RETRO_FILE,
    UPDATES_DIR,
    FolderSource,
    Source,
    display_path,
    lookalike,
)
from .usercache import cache_root
from .workspace import CONFIG_FILE, PROJECT_ID, Workspace, check_timezone, load_settings
from .yamlio import Document, PathPart, format_path, load_bytes

#: The longest project planforge plans: documents draw and list its weeks, so the length bounds
#: their size and the time to build them.
MAX_PROJECT_YEARS = 10


@dataclass
class ProjectFiles:
    """The loaded documents of one project (None where a file failed to parse)."""

    source: Source
    project: Document | None = None
    updates: list[Document] = field(default_factory=list)
    retrospective: Document | None = None
    findings: list[Finding] = field(default_factory=list)
    read: int = 0  # files read
    weeks: set[str] = field(default_factory=set)  # weeks with an update file, valid or not
    named: dict[str, str] = field(default_factory=dict)  # update's file → week in its name
    model: Project | None = None  # built once, for the health check and the caller alike

    @property
    def project_id(self) -> str:
        return self.source.project_id


def _load(rel: str, kind: str, files: ProjectFiles) -> Document | None:
    files.read += 1
    try:
        raw = files.source.read(rel)
    except (FileRefused, OSError) as exc:
        reason = str(exc) if isinstance(exc, FileRefused) else f"cannot read: {exc.strerror}"
        files.findings.append(Finding(files.source.display(rel), None, None, "", "error", reason))
        return None
    doc, findings = load_bytes(raw, files.source.display(rel))
    files.findings.extend(findings)
    if doc is None:
        return None
    schema_findings = check_document(doc, kind)
    files.findings.extend(schema_findings)
    return None if findings or schema_findings else doc


def read_project(source: Source) -> ProjectFiles:
    """Parse and schema-check every file of a project, from a folder or a git tree alike."""
    files = ProjectFiles(source)
    files.project = _load(PROJECT_FILE, "project", files)
    paths = source.paths()
    for name in source.ignored():
        files.findings.append(Finding(
            source.display(name), None, None, "", "warning",
            f"planforge does not read this file: the plan is {PROJECT_FILE} and the "
            f"retrospective {RETRO_FILE} (rename it to {lookalike(name)})"))
    for rel in paths:
        folder, _, name = rel.rpartition("/")
        if folder != UPDATES_DIR or PurePosixPath(name).suffix.lower() not in (".yaml", ".yml"):
            continue
        if not WEEK_FILE.fullmatch(name):
            files.findings.append(
                Finding(
                    source.display(rel), None, None, "", "error",
                    "update files are named after their ISO week, such as 2026-W47.yaml",
                )
            )
            continue
        week = PurePosixPath(name).stem
        files.weeks.add(week)
        doc = _load(rel, "update", files)
        if doc is not None:
            files.named[doc.file] = week
            files.updates.append(doc)
    if RETRO_FILE in paths:
        files.retrospective = _load(RETRO_FILE, "retrospective", files)
    return files


class _Checker:
    """The meaning layer for one project: references, ids, dates, cycles, weeks."""

    def __init__(self, files: ProjectFiles, as_of: date, today: date) -> None:
        self.files = files
        self.as_of = as_of
        self.today = today  # "done in the future" means after this day, not after as_of
        self.out: list[Finding] = []

    def error(self, doc: Document, path: list[PathPart], message: str) -> None:
        self.out.append(doc.finding(path, message))

    def warn(self, doc: Document, path: list[PathPart], message: str) -> None:
        self.out.append(doc.finding(path, message, "warning"))

    def person(self, doc: Document, path: list[PathPart], ref: Any, people: dict[str, Any]) -> None:
        if ref is None or ref in people:
            return
        close = difflib.get_close_matches(str(ref), list(people), n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else "add them to people or fix the key"
        self.error(doc, path, f"'{ref}' is not in people; {hint}")

    def run(self) -> list[Finding]:
        files = self.files
        if not PROJECT_ID.fullmatch(files.project_id):
            self.out.append(
                Finding(
                    files.source.display(), None, None, "", "error",
                    f"'{files.project_id}' is not a valid project id (the folder name): use "
                    "lowercase letters, digits and hyphens, starting with a letter or digit, at "
                    "most 63 characters",
                )
            )
        if files.project is None:
            return self.out
        self.check_project(files.project)
        data = files.project.data
        for doc in files.updates:
            self.check_update(doc, data)
        self.check_asks()
        if files.retrospective is not None:
            retro = files.retrospective.data
            people = data["people"]
            self.person(files.retrospective, ["facilitator"], retro.get("facilitator"), people)
            for i, action in enumerate(retro.get("actions") or ()):
                self.person(files.retrospective, ["actions", i, "owner"], action["owner"], people)
        self.check_last_update(files.project)
        self.check_members(files.project)
        return self.out

    def check_project(self, doc: Document) -> None:
        d = doc.data
        people = d["people"]
        for i, row in enumerate(d.get("responsibilities") or ()):
            for role in ("responsible", "accountable"):
                self.person(doc, ["responsibilities", i, role], row[role], people)
            for role in ("consulted", "informed"):
                for j, ref in enumerate(row.get(role) or ()):
                    self.person(doc, ["responsibilities", i, role, j], ref, people)
        comm = d.get("communication") or {}
        self.person(doc, ["communication", "coordinator"], comm.get("coordinator"), people)
        for key, person in people.items():
            email = person.get("email")
            if isinstance(email, str) and is_placeholder(email):
                self.warn(doc, ["people", key, "email"], f"{email} is a placeholder: replace it "
                          "with the real address (nothing is sent to it until then)")

        start, end = date.fromisoformat(d["start"]), date.fromisoformat(d["end"])
        if end < start:
            self.error(doc, ["end"], f"the project ends ({end}) before it starts ({start})")
        elif end > years_after(start, MAX_PROJECT_YEARS):
            self.error(doc, ["end"], f"the project lasts more than {MAX_PROJECT_YEARS} years "
                       f"({start} to {end}): split it into projects of that length at most")

        seen: dict[str, str] = {}
        dated: dict[str, tuple[list[PathPart], date, list[str]]] = {}
        items: dict[str, ScheduleItem] = {}  # milestones and tasks, for the knock-on check

        def unique(path: list[PathPart], ident: str) -> None:
            if ident in seen:
                self.error(
                    doc, [*path, "id"], f"id '{ident}' is already used at {seen[ident]}; "
                    "ids must be unique within a project",
                )
            else:
                seen[ident] = format_path(path)

        for i, goal in enumerate(d["goals"]):
            unique(["goals", i], goal["id"])
            self.person(doc, ["goals", i, "owner"], goal["owner"], people)
            if "baseline" not in goal:
                self.warn(
                    doc, ["goals", i], "no baseline: progress cannot be measured from a starting "
                    "value; add baseline (the value at the start)",
                )
            elif goal["baseline"] == goal["target"]:
                self.error(doc, ["goals", i, "target"], "the target equals the baseline")
            self.check_measure_from(doc, ["goals", i], goal, d["phases"])
        for i, phase in enumerate(d["phases"]):
            here: list[PathPart] = ["phases", i]
            unique(here, phase["id"])
            self.person(doc, [*here, "owner"], phase.get("owner"), people)
            p_start, p_end = date.fromisoformat(phase["start"]), date.fromisoformat(phase["end"])
            if p_end < p_start:
                self.error(doc, [*here, "end"], f"the phase ends ({p_end}) before it starts "
                           f"({p_start})")
            if p_start < start or p_end > end:
                self.error(
                    doc, [*here, "start" if p_start < start else "end"],
                    f"the phase ({p_start} to {p_end}) lies outside the project ({start} to "
                    f"{end})",
                )
            for j, ms in enumerate(phase.get("milestones") or ()):
                mp: list[PathPart] = [*here, "milestones", j]
                unique(mp, ms["id"])
                self.person(doc, [*mp, "owner"], ms.get("owner"), people)
                due = date.fromisoformat(ms["due"])
                dated[ms["id"]] = (mp, due, list(ms.get("depends_on") or ()))
                items[ms["id"]] = self.schedule_item(ms, due, ms.get("forecast") or ms["due"])
                self.check_done(doc, mp, ms.get("done"))
                forecast = ms.get("forecast")
                if forecast and date.fromisoformat(forecast) > due and not ms.get("reason"):
                    self.warn(doc, [*mp, "forecast"], "the forecast is later than due but no "
                              "reason says why: add reason, in words sales can repeat")
                if not ms.get("done") and due < self.as_of and not forecast:
                    self.warn(doc, [*mp, "due"], f"overdue since {due} with no forecast: add "
                              "forecast (the date now expected) and reason")
            for j, task in enumerate(phase.get("tasks") or ()):
                tp: list[PathPart] = [*here, "tasks", j]
                unique(tp, task["id"])
                self.person(doc, [*tp, "owner"], task["owner"], people)
                t_end = date.fromisoformat(task["end"])
                if task.get("start") and date.fromisoformat(task["start"]) > t_end:
                    self.error(doc, [*tp, "end"], f"the task ends ({t_end}) before it starts "
                               f"({task['start']})")
                dated[task["id"]] = (tp, t_end, list(task.get("depends_on") or ()))
                items[task["id"]] = self.schedule_item(task, t_end, task["end"])
                self.check_done(doc, tp, task.get("done"))
        for i, risk in enumerate(d.get("risks") or ()):
            unique(["risks", i], risk["id"])
            self.person(doc, ["risks", i, "owner"], risk["owner"], people)
            self.check_done(doc, ["risks", i], risk.get("raised"), key="raised")
            score = risk["likelihood"] * risk["impact"]
            if risk.get("status", "open") == "open" and score >= 15 and not risk.get("contingency"):
                self.warn(doc, ["risks", i], f"open risk of score {score} has no contingency: "
                          "add what you will do if it happens")
        for i, meeting in enumerate(d.get("meetings") or ()):
            unique(["meetings", i], meeting["id"])
            for j, ref in enumerate(meeting["attendees"]):
                self.person(doc, ["meetings", i, "attendees", j], ref, people)
            found = len(self.out)
            self.check_meeting(doc, ["meetings", i], meeting)
            if len(self.out) == found:  # a meeting without a valid day has no cadence to check
                self.check_skip(doc, ["meetings", i], meeting, date.fromisoformat(d["start"]))
        self.check_dependencies(doc, dated, items)

    def schedule_item(self, d: dict[str, Any], planned: date, own: str) -> ScheduleItem:
        """A milestone or task for the knock-on computation, done as of the as-of date."""
        done = d.get("done")
        finished = done is not None and date.fromisoformat(done) <= self.as_of
        return ScheduleItem(d["id"], planned, date.fromisoformat(str(done) if finished else own),
                            finished, tuple(d.get("depends_on") or ()))

    def check_measure_from(self, doc: Document, path: list[PathPart], goal: dict[str, Any],
                           phases: list[dict[str, Any]]) -> None:
        """``measure_from`` names a milestone of this project, or a date by the goal's due."""
        start = goal.get("measure_from")
        due = date.fromisoformat(goal["due"])
        here: list[PathPart] = [*path, "measure_from"]
        if isinstance(start, str) and date.fromisoformat(start) > due:
            self.error(doc, here, f"measuring starts ({start}) after the goal is due ({due}): "
                       "measure_from is the day the metric can start to move")
        if not isinstance(start, dict):
            return
        milestones = {m["id"]: m for p in phases for m in p.get("milestones") or ()}
        ref = start["milestone"]
        if ref not in milestones:
            close = difflib.get_close_matches(str(ref), list(milestones), n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else "use the id of one of its milestones"
            self.error(doc, [*here, "milestone"], f"'{ref}' is not a milestone of this project; "
                       f"{hint}")
            return
        m = milestones[ref]
        when = date.fromisoformat(m.get("done") or m.get("forecast") or m["due"])
        if when > due:
            self.warn(doc, [*here, "milestone"], f"milestone '{ref}' is expected {when}, after the "
                      f"goal is due ({due}): the goal cannot be measured in time")

    def check_done(self, doc: Document, path: list[PathPart], value: str | None,
                   key: str = "done") -> None:
        if value and date.fromisoformat(value) > self.today:
            self.error(doc, [*path, key], f"{value} is in the future (today is {self.today})")

    def check_meeting(self, doc: Document, path: list[PathPart], m: dict[str, Any]) -> None:
        cadence, day = m["cadence"], m.get("day")
        if cadence == "daily" and day is not None:
            self.error(doc, [*path, "day"], "daily meetings take no day (they skip weekends)")
        elif cadence in ("weekly", "biweekly") and day not in WEEKDAYS:
            self.error(doc, [*path, "day"] if day is not None else path,
                       f"{cadence} meetings need a day: a weekday such as thursday")
        elif cadence == "monthly" and (day is None or day in WEEKDAYS):
            self.error(doc, [*path, "day"] if day is not None else path,
                       'monthly meetings need a day of the month (1–28) or a form such as '
                       '"first monday"')
        if m.get("timezone"):
            problem = check_timezone(doc, [*path, "timezone"], m["timezone"])
            if problem:
                self.out.append(problem)

    def check_skip(self, doc: Document, path: list[PathPart], m: dict[str, Any],
                   start: date) -> None:
        """A skipped day the meeting would not take place on skips nothing: a typo, most
        likely (the 24th for the 23rd)."""
        if not m.get("skip"):
            return
        meeting = build_meeting(m)
        for k, text in enumerate(m.get("skip") or ()):
            day = date.fromisoformat(text)
            if not on_cadence(meeting, day, start):
                self.warn(doc, [*path, "skip", k], f"{text} ({WEEKDAYS[day.weekday()]}) is not a "
                          f"day this {m['cadence']} meeting takes place: skipping it changes "
                          "nothing")

    def check_dependencies(
        self,
        doc: Document,
        dated: dict[str, tuple[list[PathPart], date, list[str]]],
        items: dict[str, ScheduleItem],
    ) -> None:
        for ident, (path, when, deps) in dated.items():
            for k, dep in enumerate(deps):
                if dep == ident:
                    self.error(doc, [*path, "depends_on", k], "an item cannot depend on itself")
                elif dep not in dated:
                    close = difflib.get_close_matches(dep, list(dated), n=1, cutoff=0.6)
                    hint = f"; did you mean '{close[0]}'?" if close else ""
                    self.error(doc, [*path, "depends_on", k],
                               f"'{dep}' is not a milestone or task of this project{hint}")
                elif "milestones" in path and when < dated[dep][1]:
                    dep_path, dep_when, _ = dated[dep]
                    if "milestones" in dep_path:
                        self.error(doc, [*path, "due"], f"due {when}, before milestone '{dep}' "
                                   f"(due {dep_when}) which it depends on")
        self.check_knock_on(doc, dated, items)
        for cycle in _cycles({i: [d for d in v[2] if d in dated and d != i]
                              for i, v in dated.items()}):
            path = dated[cycle[0]][0]
            self.error(doc, [*path, "depends_on"],
                       f"depends_on forms a cycle: {' → '.join([*cycle, cycle[0]])}")

    def check_knock_on(
        self,
        doc: Document,
        dated: dict[str, tuple[list[PathPart], date, list[str]]],
        items: dict[str, ScheduleItem],
    ) -> None:
        """A milestone's forecast (or due) earlier than its dependencies' forecasts allow."""
        for ident, pushed in knock_on(items).items():
            item, path = items[ident], dated[ident][0]
            if item.done or "milestones" not in path or pushed.expected <= item.own:
                continue
            chain = " → ".join(f"'{i}'" for i in pushed.driven_by)
            key = "forecast" if item.own != item.planned else "due"
            self.warn(doc, [*path, key], f"expected {item.own}, earlier than its dependencies "
                      f"allow: {chain} puts it at {pushed.expected} at the earliest (keeping the "
                      f"planned gap); set forecast: {pushed.expected} and say why in reason")

    def check_update(self, doc: Document, project: dict[str, Any]) -> None:
        data = doc.data
        week = data["week"]
        expected = self.files.named[doc.file]
        problem = week_problem(week)
        if problem:
            self.error(doc, ["week"], problem)
        if week != expected:
            self.error(doc, ["week"], f"week {week} does not match the file name {expected}.yaml")
        goals = {g["id"] for g in project["goals"]}
        for goal_id in data.get("actuals") or {}:
            if goal_id not in goals:
                close = difflib.get_close_matches(str(goal_id), sorted(goals), n=1, cutoff=0.6)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                self.out.append(doc.finding(["actuals", goal_id], f"'{goal_id}' is not a goal "
                                            f"of this project{hint}", at_key=True))
        for i, ask in enumerate(data.get("sales_asks") or ()):
            self.person(doc, ["sales_asks", i, "owner"], ask.get("owner"), project["people"])

    def check_asks(self) -> None:
        """An ask id names one ask; closing an ask needs an earlier update that asked it."""
        asked: set[str] = set()  # keys listed as open by an earlier update, or earlier in this one
        for doc in sorted(self.files.updates, key=lambda d: str(d.data["week"])):
            texts: dict[str, tuple[int, str]] = {}  # id → (index, text) within this update
            for i, ask in enumerate(build_update(doc.data).sales_asks):
                text = " ".join(ask.ask.split())
                if ask.id is not None:
                    first = texts.setdefault(ask.id, (i, text))
                    if first[1] != text:
                        self.error(doc, ["sales_asks", i, "id"],
                                   f"ask id '{ask.id}' already names another ask in this update "
                                   f"(sales_asks[{first[0]}]): give each ask its own id")
                if ask.status == "open":
                    asked.add(ask.key)
                elif not {ask.key, ask.text_key} & asked:
                    hint = (f"no earlier update asks '{ask.id}': check the id" if ask.id else
                            "no earlier update asks it in these words: copy the text of the ask, "
                            "or give both an id")
                    self.warn(doc, ["sales_asks", i, "status"],
                              f"the ask is marked {ask.status}, but {hint}")

    def check_last_update(self, doc: Document) -> None:
        d = doc.data
        if d.get("status", "active") != "active":
            return
        # The last full week: the newest whose Sunday is on or before as_of.
        sunday = self.as_of - timedelta(days=self.as_of.isoweekday())
        monday, week = sunday - timedelta(days=6), iso_week(sunday)
        if monday < date.fromisoformat(d["start"]) or monday > date.fromisoformat(d["end"]):
            return
        # By file name: an update that exists but has errors is reported as such, not missing.
        if week not in self.files.weeks:
            self.warn(doc, [], f"no weekly update for {week}, the last full week: add "
                      f"updates/{week}.yaml")


    # --- people over time: joined, left, handed_over (the README's "When people join and leave")

    def check_members(self, doc: Document) -> None:
        """Dates of joining and leaving in order, and no one who has left still owning open work
        or named in anything dated after they left."""
        d = doc.data
        people = d["people"]
        start, end = date.fromisoformat(d["start"]), date.fromisoformat(d["end"])
        left: dict[str, date] = {}
        for key, person in people.items():
            joined = _date_or_none(person.get("joined"))
            gone = _date_or_none(person.get("left"))
            here: list[PathPart] = ["people", key]
            if joined is not None and joined > end:
                self.error(doc, [*here, "joined"], f"joined {joined}, after the project ends "
                           f"({end})")
            if gone is None:
                continue
            if joined is not None and gone < joined:
                self.error(doc, [*here, "left"], f"left {gone}, before they joined ({joined})")
            elif gone < start:
                self.error(doc, [*here, "left"], f"left {gone}, before the project starts "
                           f"({start}): remove them, or correct the date")
            elif gone < self.as_of:
                left[key] = gone
        for path, item in _owned(d):
            self.check_handovers(doc, path, item, people, start)
        if not left:
            return
        if d.get("status", "active") in ("active", "planned", "on-hold"):
            self.check_open_work(doc, left)
        self.check_done_by(doc, left)
        for i, risk in enumerate(d.get("risks") or ()):
            raised = _date_or_none(risk.get("raised"))
            if raised is not None and risk["owner"] in left and raised > left[risk["owner"]]:
                self.warn(doc, ["risks", i, "owner"], f"raised {raised}, after "
                          f"{_who(people, risk['owner'])} left ({left[risk['owner']]}): name who "
                          "watches it now")
        for upd in self.files.updates:
            problem = week_problem(str(upd.data["week"]))
            if problem:
                continue
            monday = monday_of(friday_of(str(upd.data["week"])))
            for i, ask in enumerate(upd.data.get("sales_asks") or ()):
                owner = ask.get("owner")
                if owner in left and monday > left[owner]:
                    self.warn(upd, ["sales_asks", i, "owner"], f"{_who(people, owner)} left on "
                              f"{left[owner]}, before week {upd.data['week']}: name who owns the "
                              "ask now")
        retro = self.files.retrospective
        if retro is not None:
            held = _date_or_none(retro.data.get("held"))
            facilitator = retro.data.get("facilitator")
            if held is not None and facilitator in left and held > left[facilitator]:
                self.warn(retro, ["facilitator"], f"held {held}, after {_who(people, facilitator)} "
                          f"left ({left[facilitator]})")
            for i, action in enumerate(retro.data.get("actions") or ()):
                if action["owner"] in left:
                    self.warn(retro, ["actions", i, "owner"], f"{_who(people, action['owner'])} "
                              f"left on {left[action['owner']]}: give the action to someone who "
                              "is still here")

    def check_handovers(self, doc: Document, path: list[PathPart], item: dict[str, Any],
                        people: dict[str, Any], start: date) -> None:
        """Each previous owner is a person; the handover days are in order and not before the
        project starts."""
        previous: date | None = None
        for k, h in enumerate(item.get("handed_over") or ()):
            here: list[PathPart] = [*path, "handed_over", k]
            self.person(doc, [*here, "from"], h["from"], people)
            on = date.fromisoformat(h["on"])
            if on < start:
                self.error(doc, [*here, "on"], f"handed over {on}, before the project starts "
                           f"({start})")
            elif previous is not None and on < previous:
                self.error(doc, [*here, "on"], f"handed over {on}, before the handover above it "
                           f"({previous}): list the owners oldest first")
            if on > self.today:
                self.error(doc, [*here, "on"], f"{on} is in the future (today is {self.today}): "
                           "hand over on the day it happens")
            previous = on

    def check_open_work(self, doc: Document, left: dict[str, date]) -> None:
        """Open work, a RACI row, the coordinator or a meeting naming someone who has left."""
        d = doc.data
        people = d["people"]
        for path, item in _owned(d):
            owner = item.get("owner")
            if owner in left and _open(path, item, self.as_of):
                noun = str(path[-2])[:-1]  # "milestones" → "milestone"
                self.warn(doc, [*path, "owner"], f"{_who(people, owner)} left on {left[owner]} but "
                          f"still owns this open {noun} '{item['id']}': hand it over (owner: the "
                          f"new owner, handed_over: [{{from: {owner}, on: <day>}}])")
        for i, row in enumerate(d.get("responsibilities") or ()):
            for role in ("responsible", "accountable"):
                if row[role] in left:
                    self.warn(doc, ["responsibilities", i, role], f"{_who(people, row[role])} left "
                              f"on {left[row[role]]}: name who is {role} now")
        coordinator = (d.get("communication") or {}).get("coordinator")
        if coordinator in left:
            self.warn(doc, ["communication", "coordinator"], f"{_who(people, coordinator)} left "
                      f"on {left[coordinator]}: name the coordinator now")
        for i, meeting in enumerate(d.get("meetings") or ()):
            for j, ref in enumerate(meeting["attendees"]):
                if ref in left:
                    self.warn(doc, ["meetings", i, "attendees", j], f"{_who(people, ref)} left on "
                              f"{left[ref]}: remove them from the attendees")

    def check_done_by(self, doc: Document, left: dict[str, date]) -> None:
        """Work done after its owner of then had left: a handover is missing."""
        people = self.files.project.data["people"] if self.files.project else {}
        for path, item in _owned(doc.data):
            done = _date_or_none(item.get("done"))
            if done is None:
                continue
            owner = owner_on(item.get("owner"), build_handovers(item), done)
            if owner in left and done > left[owner]:
                self.warn(doc, [*path, "done"], f"done {done}, after its owner then, "
                          f"{_who(people, owner)}, left ({left[owner]}): add handed_over to say "
                          "who took it over and when")


def _date_or_none(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


def _who(people: dict[str, Any], key: str) -> str:
    return f"{people[key]['name']} ({key})" if key in people else key


def _owned(d: dict[str, Any]) -> Iterator[tuple[list[PathPart], dict[str, Any]]]:
    """Every item that has an owner, with its path: goals, phases, milestones, tasks, risks."""
    for i, goal in enumerate(d["goals"]):
        yield ["goals", i], goal
    for i, phase in enumerate(d["phases"]):
        yield ["phases", i], phase
        for kind in ("milestones", "tasks"):
            for j, item in enumerate(phase.get(kind) or ()):
                yield ["phases", i, kind, j], item
    for i, risk in enumerate(d.get("risks") or ()):
        yield ["risks", i], risk


def _open(path: list[PathPart], item: dict[str, Any], as_of: date) -> bool:
    """Whether an owned item still needs someone: not done, not closed, not over."""
    kind = str(path[-2])
    if kind in ("milestones", "tasks"):
        return not item.get("done")
    if kind == "risks":
        return item.get("status", "open") in ("open", "occurred")
    if kind == "phases":
        return date.fromisoformat(item["end"]) >= as_of
    return date.fromisoformat(item["due"]) >= as_of  # a goal, until it is due


def _cycles(graph: dict[str, list[str]]) -> Iterator[list[str]]:
    """Each dependency cycle once, as the ids along it (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    for root in sorted(graph):
        if root in state:
            continue
        path: list[str] = []
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(graph[root]))]
        state[root] = 1
        path.append(root)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(child) == 1:
                yield path[path.index(child):]
            elif child not in state:
                state[child] = 1
                path.append(child)
                stack.append((child, iter(graph[child])))


def _build(files: ProjectFiles) -> Project:
    assert files.project is not None
    if files.model is None:
        files.model = build_project(
            files.project_id,
            files.project.data,
            [u.data for u in files.updates],
            files.retrospective.data if files.retrospective else None,
        )
    return files.model


def _reason_text(code: str, subject: str | None, days: int | None) -> str:
    text = code.replace("-", " ")
    if subject:
        text += f" '{subject}'"
    return text + (f" (+{days} days)" if days else "")


def _health_findings(files: ProjectFiles, as_of: date, health: HealthSettings) -> list[Finding]:
    """A warning where the team reports a better health than the computed one (the rules:
    "How health is computed" in the README)."""
    project = _build(files)
    # A finished project has nothing left to steer: its last reported health stands, and
    # --strict stays usable on a workspace that keeps its closed projects.
    if project.status in ("done", "cancelled"):
        return []
    facts = compute_health(project, as_of, health)
    week = iso_week(as_of)
    reported = [u for u in files.updates if u.data["week"] <= week]
    # Only a rosier report than computed misleads: a team more cautious than the rules is not.
    if not facts.watermelon or not reported:
        return []
    doc = max(reported, key=lambda u: str(u.data["week"]))
    reasons = "; ".join(_reason_text(r.code, r.subject_id, r.days) for r in facts.reasons)
    message = (f"reported {facts.reported} but computed {facts.level}: "
               f"{reasons or 'no reason found'}")
    return [doc.finding(["health"], message, "warning")]


def _top_risk_findings(files: ProjectFiles) -> list[Finding]:
    """A warning when the top risk the brief shows sales has no words for the customer."""
    assert files.project is not None
    project = _build(files)
    if project.status != "active":
        return []
    top = next((r.risk for r in sales_risks(ranked_risks(project.risks))
                if r.risk.status == "open"), None)
    if top is None or top.customer_message:
        return []
    i = project.risks.index(top)
    return [files.project.finding(
        ["risks", i], f"'{top.id}' is the top risk sales reads in the brief and has no "
        "customer_message: add what sales may tell the customer, or mark it visibility: "
        "internal", "warning")]


def check_project_files(
    files: ProjectFiles,
    as_of: date,
    health: HealthSettings | None = None,
    today: date | None = None,
) -> list[Finding]:
    """All findings of one project: parse and schema findings, the meaning layer, and (when the
    project is otherwise valid) whether the reported health agrees with the computed one.
    ``today`` (default ``as_of``) is the day nothing may be done after: a document of a past
    week is made from a plan that already records later work."""
    findings = [*files.findings, *_Checker(files, as_of, today or as_of).run()]
    if files.project is not None and not any(f.severity == "error" for f in findings):
        findings.extend(_health_findings(files, as_of, health or HealthSettings()))
        findings.extend(_top_risk_findings(files))
    return sorted(findings)


def load_project(
    ws: Workspace, project: str | Source, as_of: date, contents: str | None = None
) -> tuple[Project, list[Finding]]:
    """The project (an id, for its folder in the workspace, or a source) as a model and its
    warnings; InvalidFilesError with every finding if any is an error. ``contents``: a hash
    the caller made of every file the project has, names and bytes (a build's inputs), so
    that a project kept today is found without reading its files again."""
    source = FolderSource(ws.project_dir(project)) if isinstance(project, str) else project
    # Work done after as_of but by today is the normal case for a document of a past week.
    today = max(as_of, ws.today())
    if contents is not None and cache_root() is not None:
        key: str | None = loadcache.entry_key([
            "contents", contents, source.project_id, source.display(), as_of, today,
            ws.settings.health])
    else:
        source, key = _read_all(source, as_of, today, ws.settings.health)
    kept = loadcache.get(key, today) if key is not None else None
    if kept is not None:
        loaded: tuple[Project, list[Finding]] = kept
        return loaded
    files = read_project(source)
    findings = check_project_files(files, as_of, ws.settings.health, today)
    if any(f.severity == "error" for f in findings) or files.project is None:
        raise InvalidFilesError(findings)
    loaded = _build(files), [f for f in findings if f.severity == "warning"]
    if key is not None:
        loadcache.put(key, today, loaded)
    return loaded


@dataclass(frozen=True)
class _ReadSource:
    """A source whose files were read once, for the cache key, and are served from memory."""

    inner: Source
    contents: dict[str, bytes]

    @property
    def project_id(self) -> str:
        return self.inner.project_id

    def paths(self) -> list[str]:
        return self.inner.paths()

    def read(self, rel: str) -> bytes:
        return self.contents[rel] if rel in self.contents else self.inner.read(rel)

    def display(self, rel: str = "") -> str:
        return self.inner.display(rel)

    def ignored(self) -> list[str]:
        return self.inner.ignored()


def _read_all(source: Source, as_of: date, today: date,
              health: HealthSettings) -> tuple[Source, str | None]:
    """The source with the files planforge reads already read, and the key of what loading
    them gives (None when the cache is off or a file cannot be read: the load reports it)."""
    if cache_root() is None:
        return source, None
    paths = source.paths()
    wanted = [rel for rel in paths if rel in (PROJECT_FILE, RETRO_FILE) or (
        rel.startswith(f"{UPDATES_DIR}/")
        and PurePosixPath(rel).suffix.lower() in (".yaml", ".yml"))]
    try:
        contents = {rel: source.read(rel) for rel in wanted}
    except (FileRefused, OSError):
        return source, None
    ignored = source.ignored()
    key = loadcache.entry_key([
        source.project_id, source.display(), as_of, today, health, paths, ignored,
        *((rel, hashlib.sha256(data).hexdigest()) for rel, data in contents.items())])
    return _ReadSource(source, contents), key


def _owner_folder(path: Path, ws: Workspace) -> Path | None:
    """The project folder a file or folder belongs to, if any."""
    for candidate in (path, *path.parents):
        if (candidate / PROJECT_FILE).is_file():
            return candidate
        if candidate == ws.root:
            break
    return None


def validate_paths(
    ws: Workspace, paths: Iterable[Path], as_of: date
) -> tuple[list[Finding], int]:
    """Findings for the named files and folders (the whole workspace if none), and how many files
    were read: the files given are checked within their project, and only their findings are
    reported."""
    targets = [p.resolve() for p in paths]
    if not targets:
        ws.require_projects()
        targets = [ws.root]
    folders: dict[Path, set[str] | None] = {}  # project folder → files to report (None: all)
    findings: list[Finding] = []
    read = 0
    for target in targets:
        if not target.exists():
            findings.append(Finding(display_path(target), None, None, "", "error",
                                    "no such file or folder"))
            continue
        if target.is_file() and target.name == CONFIG_FILE:
            read += 1
            try:
                load_settings(target)
            except InvalidFilesError as exc:
                findings.extend(exc.findings)
            continue
        owner = _owner_folder(target, ws)
        if owner is not None:
            if target.is_file():
                wanted = folders.setdefault(owner, set())
                if wanted is not None:
                    wanted.add(display_path(target))
            else:
                folders[owner] = None
            continue
        if target.is_dir():
            if target == ws.root:
                found = [ws.projects_dir / pid for pid in ws.project_ids()]
                findings.extend(ws.ignored_folders())
            else:
                found = sorted(p.parent for p in target.rglob(PROJECT_FILE))
            if not found and target != ws.root:
                findings.append(Finding(display_path(target), None, None, "", "error",
                                        f"no {PROJECT_FILE} in this folder or below"))
            for folder in found:
                folders[folder] = None
            if target == ws.root and ws.config_path is not None:
                read += 1
                try:
                    load_settings(ws.config_path)
                except InvalidFilesError as exc:
                    findings.extend(exc.findings)
            continue
        findings.append(Finding(display_path(target), None, None, "", "error",
                                f"not part of a project: no {PROJECT_FILE} beside or above it"))
    for folder, wanted in sorted(folders.items()):
        files = read_project(FolderSource(folder))
        read += files.read if wanted is None else len(wanted)
        # A file is checked against its project.yaml; if that fails, its errors are reported
        # too, since the file named could not be checked without it.
        plan_broken = files.project is None
        plan_file = display_path(folder / PROJECT_FILE)
        for finding in check_project_files(files, as_of, ws.settings.health):
            reported = wanted is None or finding.file in wanted
            if reported or (plan_broken and finding.file == plan_file):
                findings.append(finding)
    return sorted(set(findings)), read
