"""The plan as of a date: where each project of a document's date is read from.

A document of the current ISO week, or a later one, is made from the working tree, uncommitted
edits included (a preview). A document of a past date is made from the plan as committed on the
current branch at the end of that day (for ``--week``, the end of its Friday in the workspace
time zone), so that it shows the dates, people and status of then and comes out the same however
often it is rendered again. That week's update is the exception: it is read as the branch has it
now, since teams often commit Friday's update on Monday. Without such a commit (no repository,
a shallow clone) the working tree is used, with a one-line notice.

A retrospective reads the whole history of a plan (``project_history``): the kickoff baseline
and every re-baseline since, by the rules of ``baselines``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from .baselines import PlanHistory, PlanVersion, kickoff_dues, plan_history
from .dashboard import TrendPoint
from .dates import friday_of, iso_week, monday_of
from .errors import Finding, GitError, InvalidFilesError, PlanforgeError, WorkspaceError
from .facts import compute_health
from .history import PlanLog, PlanRevision, plan_revisions, snapshot_before
from .model import Project
from .outputs import BuiltOutputs
from .sources import UPDATES_DIR, FolderSource, Source, display_path
from .validate import load_project
from .workspace import PROJECT_ID, Workspace


@dataclass(frozen=True)
class DatedPlan:
    """The projects a document of a date is made from, by id; ``commit`` None: the working
    tree."""

    as_of: date
    when: str  # the date as the user gave it, for messages: "2026-W40" or "2026-10-01"
    sources: Mapping[str, Source]
    commit: str | None = None
    notice: str | None = None  # for the user: a past date read from the working tree, or
    # a late update not committed yet and so not used

    def project_ids(self) -> list[str]:
        """The projects of that date, sorted."""
        return sorted(self.sources)

    def source(self, ws: Workspace, project_id: str) -> Source:
        """One project's files; WorkspaceError if it did not exist on that date."""
        if self.commit is None:
            return FolderSource(ws.project_dir(project_id))  # checks the id, names the others
        if not PROJECT_ID.fullmatch(project_id) or project_id not in self.sources:
            known = ", ".join(self.project_ids()) or "none"
            raise WorkspaceError(
                f"no project '{project_id}' in {display_path(ws.projects_dir)} at the end of "
                f"{self.when} (commit {self.commit[:7]}; projects then: {known})")
        return self.sources[project_id]

    def load(self, ws: Workspace, project_id: str) -> tuple[Project, list[Finding]]:
        """One project as of the date, checked as ``validate`` checks it."""
        return load_project(ws, self.source(ws, project_id), self.as_of)

    def load_all(self, ws: Workspace) -> list[Project]:
        """Every project of that date; InvalidFilesError for the first invalid one."""
        return [self.load(ws, pid)[0] for pid in self.project_ids()]


def end_of(day: date, ws: Workspace) -> datetime:
    """Midnight after ``day`` in the workspace time zone: what was committed by then counts."""
    return datetime.combine(day + timedelta(days=1), time(), ws.timezone())


def plan_commits(ws: Workspace, log: PlanLog, project_id: str, as_of: date) -> list[str]:
    """The commits of a project's plan made by the end of ``as_of``: part of what its
    documents are made from (``outputs.with_commits``)."""
    until = end_of(as_of, ws)
    return [r.commit for r in log.of(project_id) if r.moment < until]


def built_outputs(ws: Workspace, dated: DatedPlan) -> BuiltOutputs:
    """What ``planforge build`` made for this plan and date, found by the inputs the build
    hashed (the plans' commits included), for ``send`` to attach instead of making again."""
    from .history import history_key, plan_log

    try:
        log = plan_log(ws)
    except GitError:
        log = None
    commits = ({pid: plan_commits(ws, log, pid, dated.as_of) for pid in dated.project_ids()}
               if log is not None else None)
    return BuiltOutputs(ws, dated.as_of, history_key(ws, dated.as_of),
                        None if dated.commit is None else dated.sources, commits)


def plan_as_of(ws: Workspace, as_of: date, week: str | None = None) -> DatedPlan:
    """Where the projects of a document as of ``as_of`` come from; ``week`` is the ISO week when
    the user named one (``--week``, as of its Friday), for messages."""
    when = week or as_of.isoformat()
    if iso_week(as_of) >= iso_week(ws.today()):
        return _working_tree(ws, as_of, when)
    late = f"{UPDATES_DIR}/{iso_week(as_of)}.yaml"
    found = snapshot_before(ws, end_of(as_of, ws), late)
    if found.commit is None:
        return _working_tree(ws, as_of, when, f"no git history at the end of {when} "
                             f"({found.missing}): using the working tree")
    notice: str | None = None
    if found.uncommitted:
        # Said, not used: a past document is made from commits only, so that it stays the same.
        notice = (f"{late} of {', '.join(found.uncommitted)} has changes not committed: a past "
                  "week is read from commits (commit them to use them)")
    return DatedPlan(as_of, when, {s.project_id: s for s in found.sources}, found.commit,
                     notice)


def _working_tree(ws: Workspace, as_of: date, when: str, notice: str | None = None) -> DatedPlan:
    sources = {pid: FolderSource(ws.projects_dir / pid) for pid in ws.project_ids()}
    return DatedPlan(as_of, when, sources, None, notice)


def _versions(ws: Workspace, revisions: Iterable[PlanRevision], until: date
              ) -> Iterator[PlanVersion]:
    """The valid versions among revisions committed by the end of ``until``, oldest first,
    each loaded only when asked for. Versions that do not validate are skipped."""
    cutoff = end_of(until, ws)
    for rev in revisions:
        if rev.moment >= cutoff:
            break
        if rev.source is None:  # the plan was deleted, and maybe committed again later
            continue
        day = rev.moment.astimezone(ws.timezone()).date()
        try:
            project = load_project(ws, rev.source, day)[0]
        except InvalidFilesError:
            continue
        yield PlanVersion(day, rev.commit, rev.subject, project)


def _revisions(ws: Workspace, project_id: str, log: PlanLog | None
               ) -> Sequence[PlanRevision] | None:
    """The project's plan revisions, from ``log`` where a build read them for all projects;
    None without usable history (a shallow clone included)."""
    if log is not None:
        return None if log.shallow else log.of(project_id)
    try:
        return plan_revisions(ws, project_id)
    except GitError:
        return None


def plan_versions(ws: Workspace, project_id: str, until: date,
                  log: PlanLog | None = None) -> list[PlanVersion] | None:
    """The valid versions of a project's plan committed by the end of ``until``, oldest first,
    read from ``log`` if given; None without usable history (as ``project_history``)."""
    revisions = _revisions(ws, project_id, log)
    return None if revisions is None else list(_versions(ws, revisions, until))


def project_history(ws: Workspace, project_id: str, until: date,
                    log: PlanLog | None = None) -> PlanHistory | None:
    """The kickoff baseline, re-baselines and occurred risks of a project, from the versions of
    its plan committed on the current branch by the end of ``until`` (``baselines`` gives the
    rules), read from ``log`` if given. None when there is no history to read: not a
    repository, a shallow clone, or git failing."""
    versions = plan_versions(ws, project_id, until, log)
    return None if versions is None else plan_history(versions)


def first_promised(ws: Workspace, project_id: str, until: date,
                   log: PlanLog | None = None) -> dict[str, date] | None:
    """Each milestone's due in the plan agreed at kickoff (committed by the end of ``until``),
    by id: the date first promised to the customer. None without history, as for
    ``project_history``."""
    history = project_history(ws, project_id, until, log)
    return kickoff_dues(history.agreed) if history is not None else None


def closing_projects(ws: Workspace, projects: Sequence[Project], week: str) -> frozenset[str]:
    """The projects that closed (done or cancelled) in ``week``: active at the end of the week
    before, by the history. Without history the week it closed cannot be told, and none is."""
    closed = [p for p in projects if p.status in ("done", "cancelled")]
    if not closed:
        return frozenset()
    before = plan_as_of(ws, monday_of(friday_of(week)) - timedelta(days=1))
    if before.commit is None:
        return frozenset()
    found = set()
    for p in closed:
        if p.id not in before.sources:
            continue
        try:
            was = before.load(ws, p.id)[0]
        except PlanforgeError:
            continue  # not valid then: it was not sending briefs either
        if was.status == "active":
            found.add(p.id)
    return frozenset(found)


def health_trend(ws: Workspace, project: Project, facts_health: tuple[str, str | None],
                 as_of: date, log: PlanLog | None, weeks: int) -> list[TrendPoint]:
    """The project's health in each of the ``weeks`` ISO weeks up to ``as_of``'s, oldest first:
    the as-of week's as computed for the documents (``facts_health``: computed, reported), each
    earlier one computed as of its Friday from the plan as committed by then, with the updates
    as they are now (they are kept whole, week by week). Weeks before the plan's first commit
    are left out; without history (``log`` None), only the as-of week is known."""
    points: list[TrendPoint] = []
    # From the build's log only: no git call per project, and none at all without history.
    revisions = log.of(project.id) if log is not None and not log.shallow else ()
    loaded: dict[str, Project | None] = {}
    for back in range(weeks - 1, 0, -1):
        week = iso_week(monday_of(as_of) - timedelta(weeks=back))
        day = friday_of(week)
        cutoff = end_of(day, ws)
        committed = [r for r in revisions if r.moment < cutoff]
        source = committed[-1].source if committed else None
        if source is None:  # not committed yet, or deleted then
            continue
        if source.commit not in loaded:
            try:
                loaded[source.commit] = load_project(ws, source, day)[0]
            except InvalidFilesError:
                loaded[source.commit] = None
        then = loaded[source.commit]
        if then is None:
            continue
        health = compute_health(replace(then, updates=project.updates), day,
                                ws.settings.health)
        points.append(TrendPoint(week, health.level, health.reported))
    computed, reported = facts_health
    points.append(TrendPoint(iso_week(as_of), computed, reported))
    return points
