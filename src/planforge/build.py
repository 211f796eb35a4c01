"""The build pipeline: load → validate → facts → render → write, atomically and in parallel.

Returns what it did as data; never prints. One project's failure never stops the others.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .audience import brief_recipients, by_address, portfolios
from .baselines import PlanHistory
from .dashboard import TREND_WEEKS, DashboardRow, dashboard_row
from .errors import InvalidFilesError, PlanforgeError, UsageError, os_error_text
from .facts import ProjectFacts
from .model import Project
from .outputs import (
    FORMATS,
    INDEX,
    MANIFEST,
    PORTFOLIO_FORMATS,
    Format,
    Manifest,
    ProjectRecord,
    ShardStamp,
    Stamp,
    Written,
    calendar_inputs,
    output_lock,
    person_calendar_name,
    portfolio_folder,
    portfolio_inputs,
    portfolio_stem,
    project_calendar_name,
    project_documents,
    project_inputs,
    record_build,
    shared_inputs,
    source_inputs,
    with_commits,
    workspace_key,
    write_output,
)
from .sources import Source
from .usercache import CACHE_VARIABLE
from .validate import load_project
from .workspace import Workspace

if TYPE_CHECKING:
    from .history import PlanLog
    from .timeline import DatedPlan

Status = Literal["built", "skipped", "failed"]


@dataclass(frozen=True)
class BuildOptions:
    """What to build: which projects, which formats, as of which day."""

    as_of: date
    week: str
    formats: tuple[Format, ...] = FORMATS
    projects: tuple[str, ...] = ()  # empty: every project of the workspace
    jobs: int = 1
    changed_since: str | None = None
    shard: tuple[int, int] | None = None  # (index from 1, count)
    force: bool = False
    read_history: bool = True  # False where the workspace has no git history (found once)
    by_week: bool = False  # the user named the week: messages name it rather than the day


@dataclass(frozen=True)
class Result:
    """The outcome of one unit of work: a project, or one sales person's portfolio."""

    name: str  # project id, or "portfolio/<address>"
    status: Status
    files: tuple[str, ...] = ()  # relative to the output folder
    inputs: str = ""  # the inputs' hash
    error: str = ""  # for a failure: the message, findings included
    traceback: str = ""  # for a failure planforge did not raise itself: where, for --debug
    bug: bool = False  # a failure neither planforge nor the machine explains
    record: ProjectRecord | None = None  # of a project built or unchanged, for the manifest
    portfolio: bool = False
    stamps: tuple[Stamp, ...] = ()  # of the files built, as written, in the order of files
    calendar: bool = False  # a sales person's calendar (a project's is among its files)
    loaded: bytes | None = None  # from a worker: the project as loaded (_Loaded), pickled


@dataclass
class BuildReport:
    results: list[Result]
    seconds: float
    output: Path
    notice: str | None = None  # on where a past week was read from (``timeline``)

    def count(self, status: Status, *, portfolios: bool = False) -> int:
        """How many projects (or portfolio briefs) ended with this status."""
        return sum(r.status == status and r.portfolio == portfolios and not r.calendar
                   and r.name not in (MANIFEST, INDEX) for r in self.results)

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if r.status == "failed"]


def shard_of(name: str, count: int) -> int:
    """The shard (1..count) a project belongs to: stable across machines and runs, unlike
    Python's salted hash()."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % count + 1


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` → ``(2, 4)``."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard takes I/N such as 2/4, not '{text}'") from None
    if not 1 <= index <= count:
        raise UsageError(f"--shard {text}: I must be between 1 and N")
    return index, count


def parse_formats(text: str) -> tuple[Format, ...]:
    """``"md,pdf"`` → ``("md", "pdf")``."""
    names = [f.strip() for f in text.split(",") if f.strip()]
    chosen = tuple(f for f in FORMATS if f in names)
    if not names or len(set(names)) != len(chosen):
        raise UsageError(f"--formats takes a list of {', '.join(FORMATS)}")
    return tuple(sorted(chosen, key=names.index))


def _select(ws: Workspace, options: BuildOptions, plan: DatedPlan) -> list[str]:
    ws.require_projects()
    every = plan.project_ids()
    if options.projects:
        for pid in options.projects:
            plan.source(ws, pid)  # a clear error for an unknown or malformed id
        chosen = sorted(set(options.projects))
    else:
        chosen = every
    if options.changed_since:
        from .history import changed_projects

        changed = changed_projects(ws, options.changed_since)
        chosen = [pid for pid in chosen if pid in changed]
    if options.shard:
        index, count = options.shard
        chosen = [pid for pid in chosen if shard_of(pid, count) == index]
    return chosen


def _failure(name: str, exc: Exception, *, portfolio: bool = False) -> Result:
    """A failed result. An error planforge raises says what to fix, and an operating system
    error (a full disk) names its path and reason; anything else is a bug, whose type is named
    (a KeyError's message alone is just the key). Both keep their traceback."""
    if isinstance(exc, PlanforgeError):
        return Result(name, "failed", error=str(exc), portfolio=portfolio)
    where = "".join(traceback.format_exception(exc))
    if isinstance(exc, OSError):
        return Result(name, "failed", error=os_error_text(exc), traceback=where,
                      portfolio=portfolio)
    return Result(name, "failed", error=f"internal error: {type(exc).__name__}: {exc}",
                  traceback=where, bug=True, portfolio=portfolio)


@dataclass(frozen=True)
class _Loaded:
    project: Project
    facts: ProjectFacts
    changes: list[Any] | None  # since last week; None where history cannot tell
    history: PlanHistory | None  # the charter's kickoff version and the retrospective's
    # baselines; None: no history
    # The brief's Markdown body as rendered, by whether its view drew charts: the portfolio
    # brief prints it again instead of rendering it again (a tenth of a Markdown build).
    bodies: dict[bool, str] = field(default_factory=dict)


#: Projects loaded in this process during one build, by folder and inputs' hash, with their
#: facts: each document and the portfolio briefs reuse them instead of loading again.
_LOADED: dict[tuple[str, str], _Loaded] = {}
#: Projects a worker loaded, pickled, by the same key: a worker's result carries its project
#: back, and the portfolio briefs and calendars that need it unpickle it (a tenth of a
#: millisecond per kilobyte) instead of parsing and validating its files again, which made
#: --jobs 2 barely faster than --jobs 1 on Markdown.
_SHARED: dict[tuple[str, str], bytes] = {}


def _loaded_key(ws: Workspace, project_id: str, inputs: str) -> tuple[str, str]:
    return str(ws.projects_dir / project_id), inputs


def _load(ws: Workspace, project_id: str, options: BuildOptions, inputs: str,
          source: Source | None = None, log: PlanLog | None = None) -> _Loaded:
    """A project (from its folder, or ``source`` for a past week) with its facts and changes;
    what history says comes from ``log``, read once for the build (None: no history)."""
    key = _loaded_key(ws, project_id, inputs)
    if key not in _LOADED and key in _SHARED:
        _LOADED[key] = pickle.loads(_SHARED[key])
        gc.freeze()  # as below
    if key not in _LOADED:
        from .baselines import kickoff_dues
        from .facts import compute_facts
        from .history import changes_since_last_week
        from .timeline import project_history

        # The inputs' hash covers every file of the project: a project kept today is found
        # by it without reading the files again (its warnings are not shown by a build).
        project, _warnings = load_project(ws, source or project_id, options.as_of, inputs)
        changes = (changes_since_last_week(ws, project, options.as_of, log)
                   if options.read_history and log is not None else None)
        # The whole history of the plan, for its charter (the kickoff version), the dates
        # first promised and the retrospective: read from the build's log, at no git call.
        history = project_history(ws, project_id, options.as_of, log) if log is not None else None
        kickoff = kickoff_dues(history.agreed) if history is not None else None
        _LOADED[key] = _Loaded(project,
                               compute_facts(project, options.as_of, ws.settings, kickoff),
                               changes, history)
        # What is kept here lives until the build ends, as do the modules imported: frozen,
        # the collector stops walking them at each full collection (a sixth of a 1,000-project
        # Markdown build). Unfrozen when the build ends.
        gc.freeze()
    return _LOADED[key]


def project_key(ws: Workspace, project_id: str, shared: str, source: Source | None,
                log: PlanLog | None, as_of: date) -> str:
    """The hash of what a project's documents are made from: its files (or ``source``, a past
    week's content as read from history), ``shared``, and the commits of its plan in ``log``."""
    key = (source_inputs(source, shared) if source is not None
           else project_inputs(ws, project_id, shared))
    if log is None:
        return key
    from .timeline import plan_commits

    return with_commits(key, plan_commits(ws, log, project_id, as_of))


def unchanged_project(ws: Workspace, project_id: str, options: BuildOptions, inputs: str,
                      previous: Manifest) -> Result | None:
    """The result of a project whose documents were made from these inputs and are still
    there, from what the manifest recorded; None if it must be built."""
    known = previous.projects.get(project_id)
    if options.force or known is None or known.inputs != inputs or not known.stems:
        return None
    files = (*(f"{stem}.{fmt}" for stem in known.stems for fmt in options.formats),
             project_calendar_name(project_id))
    if not previous.up_to_date(ws, files, inputs):
        return None
    return Result(project_id, "skipped", files, inputs, record=known)


def build_project(ws: Workspace, project_id: str, options: BuildOptions, inputs: str,
                  source: Source | None = None, log: PlanLog | None = None,
                  share: bool = False) -> Result:
    """Every document of one project (from ``source`` for a past week; ``log`` its history);
    ``share``: the result carries the project as loaded, for the build's other tasks."""
    try:
        loaded = _load(ws, project_id, options, inputs, source, log)
    except InvalidFilesError as exc:
        return _failure(project_id, exc)
    from .documents import render_formats

    project, health = loaded.project, loaded.facts.health
    files: list[str] = []
    stamps: list[Stamp] = []
    try:
        for kind, stem in project_documents(project, options.week):
            rendered = render_formats(ws, project, kind, options.as_of, options.formats,
                                      loaded.changes if kind == "brief" else None, loaded.facts,
                                      loaded.history if kind != "brief" else None,
                                      loaded.bodies if kind == "brief" else None)
            for fmt, data in rendered.items():
                stamps.append(write_output(ws, f"{stem}.{fmt}", data))
                files.append(f"{stem}.{fmt}")
        stems = tuple(sorted({f.rsplit(".", 1)[0] for f in files}))
        calendar = project_calendar_name(project_id)
        stamps.append(write_output(ws, calendar, _project_calendar(ws, loaded)))
        files.append(calendar)
    except PlanforgeError as exc:
        return _failure(project_id, exc)
    record = ProjectRecord(
        inputs=inputs, name=project.name, customer=project.customer, health=health.level,
        reported=health.reported, active=project.status == "active",
        recipients=brief_recipients(project, options.as_of), stems=stems,
        dashboard=_dashboard_row(ws, loaded, options, log))
    return Result(project_id, "built", tuple(files), inputs, record=record, stamps=tuple(stamps),
                  loaded=pickle.dumps(loaded, pickle.HIGHEST_PROTOCOL) if share else None)


def _dashboard_row(ws: Workspace, loaded: _Loaded, options: BuildOptions,
                   log: PlanLog | None) -> DashboardRow:
    """The project's row of the dashboard, its health trend read from the build's log."""
    from .timeline import health_trend

    health = loaded.facts.health
    trend = health_trend(ws, loaded.project, (health.level, health.reported), options.as_of,
                         log if options.read_history else None, TREND_WEEKS)
    return dashboard_row(loaded.facts, trend)


def _project_calendar(ws: Workspace, loaded: _Loaded) -> bytes:
    from .calendars import CalendarInput, project_calendar
    from .i18n import translator

    t = translator(loaded.facts.locale, ws.templates_dir)
    return project_calendar(CalendarInput(loaded.facts, loaded.history), t, ws.settings.timezone)


def build_person_calendar(ws: Workspace, address: str, members: Mapping[str, str],
                          options: BuildOptions, inputs: str,
                          sources: Mapping[str, Source] | None = None,
                          log: PlanLog | None = None) -> Result:
    """One sales person's calendar over the projects whose brief they receive."""
    from .audience import brief_locale
    from .calendars import CalendarInput, person_calendar
    from .i18n import translator

    name = person_calendar_name(address)
    try:
        loaded = [_load(ws, pid, options, key, (sources or {}).get(pid), log)
                  for pid, key in sorted(members.items())]
        locale = brief_locale([one.project for one in loaded], ws.settings.locale)
        data = person_calendar(address, [CalendarInput(one.facts, one.history)
                                         for one in loaded],
                               translator(locale, ws.templates_dir), ws.settings.timezone)
        stamp = write_output(ws, name, data)
    except PlanforgeError as exc:
        return replace(_failure(name, exc), calendar=True)
    return Result(name, "built", (name,), inputs, stamps=(stamp,), calendar=True)


def _portfolio_formats(options: BuildOptions) -> list[Format]:
    return [f for f in PORTFOLIO_FORMATS if f in options.formats]


def unchanged_portfolio(ws: Workspace, address: str, options: BuildOptions, inputs: str,
                        previous: Manifest) -> Result | None:
    """The result of a portfolio brief still made from these inputs; None if it must be built."""
    stem = portfolio_stem(address, options.week)
    files = tuple(f"{stem}.{fmt}" for fmt in _portfolio_formats(options))
    if options.force or not previous.up_to_date(ws, files, inputs):
        return None
    return Result(portfolio_folder(address), "skipped", files, inputs, portfolio=True)


def build_portfolio(ws: Workspace, address: str, project_inputs: dict[str, str],
                    options: BuildOptions, inputs: str,
                    sources: Mapping[str, Source] | None = None,
                    log: PlanLog | None = None) -> Result:
    """One sales person's portfolio brief over their active projects."""
    stem, name = portfolio_stem(address, options.week), portfolio_folder(address)
    from .documents import render_portfolio_formats

    try:
        loaded = {pid: _load(ws, pid, options, key, (sources or {}).get(pid), log)
                  for pid, key in project_inputs.items()}
        rendered = render_portfolio_formats(
            ws, address, [one.project for one in loaded.values()], options.as_of,
            _portfolio_formats(options),
            {pid: one.changes for pid, one in loaded.items()},
            {pid: one.facts for pid, one in loaded.items()},
            {pid: one.bodies for pid, one in loaded.items()},
        )
        files = [f"{stem}.{fmt}" for fmt in rendered]
        stamps = tuple(write_output(ws, f"{stem}.{fmt}", data) for fmt, data in rendered.items())
    except PlanforgeError as exc:
        return _failure(name, exc, portfolio=True)
    return Result(name, "built", tuple(files), inputs, portfolio=True, stamps=stamps)


@dataclass(frozen=True)
class ProjectTask:
    """Render one project's documents."""

    project_id: str
    inputs: str  # the hash of what its documents are made from; "": to be made from ``shared``
    source: Source | None = None  # a past week's files from history; None: the folder
    log: PlanLog | None = None  # the history of this project's plan; None: no history
    share: bool = False  # in a worker: send the project as loaded back with the result
    shared: str = ""  # what every document depends on (shared_inputs), when inputs is ""

    @property
    def name(self) -> str:
        return self.project_id


@dataclass(frozen=True)
class PersonTask:
    """One sales person's portfolio brief and calendar, over the projects whose brief they
    receive: one task, so that a worker takes each member in once for both."""

    address: str  # its key (audience.address_key)
    members: tuple[tuple[str, str], ...]  # (project id, its inputs' hash), by id
    portfolio: str | None  # the portfolio brief's inputs' hash; None: not built by this task
    calendar: str | None  # the calendar's inputs' hash; None: not built by this task
    sources: tuple[tuple[str, Source], ...] = ()  # a past week's members from history
    log: PlanLog | None = None  # the history of the members' plans; None: no history
    shared: tuple[tuple[str, bytes], ...] = ()  # members as a worker loaded them (_SHARED)

    @property
    def name(self) -> str:
        return (portfolio_folder(self.address) if self.portfolio is not None
                else person_calendar_name(self.address))


Task = ProjectTask | PersonTask


def _task_failure(task: Task, exc: Exception) -> list[Result]:
    """The failed results of a task that could not run (its worker died)."""
    if isinstance(task, ProjectTask):
        return [_failure(task.name, exc)]
    return ([_brief_failure(task.address, exc)] * (task.portfolio is not None)
            + [_calendar_failure(task.address, exc)] * (task.calendar is not None))


def _brief_failure(address: str, exc: Exception) -> Result:
    return _failure(portfolio_folder(address), exc, portfolio=True)


def _calendar_failure(address: str, exc: Exception) -> Result:
    return replace(_failure(person_calendar_name(address), exc), calendar=True)


def _shared(ws: Workspace, ids: Iterable[str],
            inputs: Mapping[str, str]) -> tuple[tuple[str, bytes], ...]:
    """What a task over these projects takes along of them as loaded by the workers."""
    blobs = ((pid, _SHARED.get(_loaded_key(ws, pid, inputs[pid]))) for pid in ids)
    return tuple((pid, blob) for pid, blob in blobs if blob is not None)


def _execute(ws: Workspace, options: BuildOptions, task: Task) -> list[Result]:
    """Run one task, in this process or a worker; whatever goes wrong becomes a failed result
    that keeps the traceback of where it happened (a bug in one project must not lose the
    others' work)."""
    try:
        if isinstance(task, ProjectTask):
            inputs = task.inputs or project_key(ws, task.project_id, task.shared, task.source,
                                                task.log, options.as_of)
            return [build_project(ws, task.project_id, options, inputs, task.source, task.log,
                                  task.share)]
        return _person(ws, options, task)
    except Exception as exc:
        return _task_failure(task, exc)


def _person(ws: Workspace, options: BuildOptions, task: PersonTask) -> list[Result]:
    """A person's portfolio brief and calendar: a bug in one does not lose the other."""
    members = dict(task.members)
    _SHARED.update((_loaded_key(ws, pid, members[pid]), blob) for pid, blob in task.shared)
    results = []
    if task.portfolio is not None:
        try:
            results.append(build_portfolio(ws, task.address, members, options, task.portfolio,
                                           dict(task.sources), task.log))
        except Exception as exc:
            results.append(_brief_failure(task.address, exc))
    if task.calendar is not None:
        try:
            results.append(build_person_calendar(ws, task.address, members, options,
                                                 task.calendar, dict(task.sources), task.log))
        except Exception as exc:
            results.append(_calendar_failure(task.address, exc))
    return results


def _exit_with(parent: int) -> None:
    """End this worker once the build that started it is gone: killed with SIGKILL, a build
    cannot stop its workers, which would go on rendering for nobody (half a gigabyte each)."""
    while True:
        time.sleep(0.5)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # the pid exists, under another user: not ours any more
            os._exit(1)


def _worker_init(formats: tuple[str, ...], parent: int, cache: str | None) -> None:
    """Watch the build's process, use its cache folder, and pay the PDF stack's import once per
    worker process, not once per document."""
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    # A worker starts from the fork server, whose environment is that of the first build of
    # the process: a later one may name another cache folder (PLANFORGE_CACHE).
    if cache is None:
        os.environ.pop(CACHE_VARIABLE, None)
    else:
        os.environ[CACHE_VARIABLE] = cache
    from . import documents  # noqa: F401 - the documents' modules, imported once per worker

    if "pdf" in formats:
        from .pdf import preload

        preload()


def _started() -> None:
    """A task that only makes a worker start (see _Pool.start)."""


class _Pool:
    """The worker processes of one build (projects, then portfolios), started only when two or
    more things are to be rendered with --jobs above 1: each worker pays the PDF stack's import
    once, and a rebuild of one project pays no pool at all. forkserver: workers start from a
    clean process (no threads or locks of the parent)."""

    def __init__(self, options: BuildOptions) -> None:
        self.options = options
        self.executor: ProcessPoolExecutor | None = None

    def parallel(self, tasks: int) -> bool:
        """Whether this many tasks run in worker processes."""
        return self.options.jobs > 1 and tasks > 1

    def get(self, tasks: int) -> ProcessPoolExecutor | None:
        if self.executor is None and self.parallel(tasks):
            from . import forkserver

            self.executor = ProcessPoolExecutor(
                self.options.jobs, mp_context=forkserver.context(),
                initializer=_worker_init,
                initargs=(self.options.formats, os.getpid(), os.environ.get(CACHE_VARIABLE)))
        return self.executor

    def start(self, tasks: int) -> None:
        """Start the workers now, for a build that will likely render ``tasks`` things: they
        import what they need while the build's process reads and hashes the inputs, which
        took a tenth of a --jobs 2 Markdown build of a thousand projects when done in turn."""
        with suppress(Exception):  # only a head start: _run reports a failure on each task
            executor = self.get(tasks)
            if executor is not None:
                for _ in range(self.options.jobs):
                    executor.submit(_started)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown()


def _run(ws: Workspace, options: BuildOptions, pool: _Pool, ready: list[Result],
         tasks: Sequence[Task],
         progress: Callable[[Result, int, int], None] | None) -> list[Result]:
    """``ready`` (decided without work) then the results of ``tasks``, in or out of process."""
    results: list[Result] = []
    total = len(ready) + len(tasks)

    def done(result: Result) -> None:
        results.append(result)
        if progress:
            progress(result, len(results), total)

    for result in ready:
        done(result)
    executor = pool.get(len(tasks))
    if executor is None:
        for task in tasks:
            for result in _execute(ws, options, task):
                done(result)
        return results
    futures: dict[Future[list[Result]], Sequence[Task]] = {}
    for batch in _batches(tasks, options):
        try:
            futures[executor.submit(_execute_all, ws, options, batch)] = batch
        except Exception as exc:  # a worker or the fork server died (killed): these cannot run
            for task in batch:
                for result in _task_failure(task, exc):
                    done(result)
    # as_completed waits on every future once; a loop of wait(FIRST_COMPLETED) installed a
    # waiter on each pending future at each result, and at a thousand projects the build's
    # process, holding the interpreter's lock for it, starved the thread that feeds the workers.
    for future in as_completed(futures):
        try:
            batch_results = future.result()
        except Exception as exc:  # the worker itself died, or a result did not pickle
            batch_results = [r for task in futures[future] for r in _task_failure(task, exc)]
        for result in batch_results:
            done(result)
    return results


#: The most tasks sent to a worker at once, and the fewest groups each worker is to receive.
_BATCH = 16
_GROUPS_PER_WORKER = 8


def _batches(tasks: Sequence[Task], options: BuildOptions) -> list[Sequence[Task]]:
    """The tasks in the groups sent to the workers. A Markdown or HTML document takes a few
    milliseconds, and sending each task and its result on its own cost the build's process half
    a millisecond, a tenth of the workers' time at a thousand projects; so small tasks go
    several at a time, while there are still eight groups per worker to share out at the end.
    A PDF takes a second: those go one by one, so that no worker is left with a long queue."""
    size = (1 if "pdf" in options.formats
            else max(1, min(_BATCH, len(tasks) // (options.jobs * _GROUPS_PER_WORKER))))
    return [tasks[at:at + size] for at in range(0, len(tasks), size)]


def _execute_all(ws: Workspace, options: BuildOptions, tasks: Sequence[Task]) -> list[Result]:
    """Several tasks in turn, in a worker."""
    return [result for task in tasks for result in _execute(ws, options, task)]


def build_workspace(
    ws: Workspace,
    options: BuildOptions,
    progress: Callable[[Result, int, int], None] | None = None,
) -> BuildReport:
    """Render every selected project's documents and the portfolio briefs; write the index and
    the manifest. Failures are results, not exceptions."""
    started = time.perf_counter()
    if not options.formats or not set(options.formats) <= set(FORMATS):
        raise UsageError(f"--formats takes a list of {', '.join(FORMATS)}")
    from .timeline import plan_as_of

    plan = plan_as_of(ws, options.as_of, options.week if options.by_week else None)
    selected = _select(ws, options, plan)
    with output_lock(ws):
        return _build(ws, options, plan, selected, progress, started)


def _build(ws: Workspace, options: BuildOptions, plan: DatedPlan, selected: list[str],
           progress: Callable[[Result, int, int], None] | None, started: float) -> BuildReport:
    previous = Manifest.load(ws.output_dir)
    pool = _Pool(options)
    try:  # the workers end with the build, whatever happens before they are used
        every_one = options.force or not previous.projects  # everything selected is rendered
        if every_one:
            pool.start(len(selected))
        from .history import history_key

        history = history_key(ws, options.as_of)
        # Portfolios and calendars may reach projects outside the selection: every plan's history
        # is read (one git log all the same).
        log = _plan_log(ws, selected, every=True)
        options = replace(options, read_history=bool(history))
        shared = shared_inputs(ws, options.as_of, history)
        # A past week read from history is hashed from the content read, not the folder's files.
        past = plan.sources if plan.commit is not None else {}
        # When every selected project is rendered in the workers, each hashes its own files
        # there: done here first, it held the workers back for a tenth of the build.
        hashed_by_task = (set(selected) if every_one and pool.parallel(len(selected))
                          else set())
        inputs = {pid: project_key(ws, pid, shared, past.get(pid), log, options.as_of)
                  for pid in (past or plan.project_ids()) if pid not in hashed_by_task}
        ready: list[Result] = []
        todo: list[str] = []
        for pid in selected:
            unchanged = (None if pid in hashed_by_task
                         else unchanged_project(ws, pid, options, inputs[pid], previous))
            if unchanged is not None:
                ready.append(unchanged)
            else:
                todo.append(pid)
        share = pool.parallel(len(todo))
        tasks: list[Task] = [ProjectTask(pid, inputs.get(pid, ""), past.get(pid),
                                         log.only([pid]) if log is not None else None, share,
                                         shared if pid in hashed_by_task else "")
                             for pid in todo]
        results = _run(ws, options, pool, ready, tasks, progress)
        inputs.update((r.name, r.inputs) for r in results if r.name in hashed_by_task
                      and r.inputs is not None)
        for pid in hashed_by_task.difference(inputs):  # it failed before hashing its files
            inputs[pid] = project_key(ws, pid, shared, past.get(pid), log, options.as_of)
        _SHARED.update((_loaded_key(ws, r.name, r.inputs), r.loaded) for r in results
                       if r.loaded is not None)
        recipients = _recipients(ws, options, selected, inputs, past, results, previous)
        results += _build_people(ws, options, selected, inputs, past, recipients, previous,
                                 pool, progress, log)
    finally:
        _LOADED.clear()
        _SHARED.clear()
        gc.unfreeze()
        pool.close()
    try:
        manifest = record_build(
            ws, previous, options.week, options.as_of,
            [Written(f, r.name, r.inputs, s) for r in results if r.status == "built"
             for f, s in zip(r.files, r.stamps, strict=True)],
            {r.name: r.record for r in results if not r.portfolio},
            _shard_stamp(options, shared, plan))
    except (OSError, PlanforgeError) as exc:  # a full disk: each project's reason still shows
        results.append(_failure(MANIFEST, exc))
        return BuildReport(results, time.perf_counter() - started, ws.output_dir, plan.notice)
    try:
        write_index(ws, manifest, options.as_of, options.week)
    except (OSError, PlanforgeError) as exc:  # a broken index template fails the index alone
        results.append(_failure(INDEX, exc))
    return BuildReport(results, time.perf_counter() - started, ws.output_dir, plan.notice)


def _shard_stamp(options: BuildOptions, shared: str, plan: DatedPlan) -> ShardStamp | None:
    """What a shard's manifest records for ``build --merge`` to check its shards agree."""
    if options.shard is None:
        return None
    index, count = options.shard
    return ShardStamp(index, count, workspace_key(shared, plan.project_ids()), options.formats)


def _plan_log(ws: Workspace, selected: list[str], every: bool) -> PlanLog | None:
    """The history of the selected plans (``every``: of all plans), read at once for the build:
    one git log and one git cat-file, however many projects. None without history, or where git
    fails (the documents then say history is not known)."""
    from .errors import GitError
    from .history import plan_log

    if not selected:
        return None
    try:
        return plan_log(ws, None if every else selected)
    except GitError:
        return None


def _build_people(
    ws: Workspace,
    options: BuildOptions,
    selected: list[str],
    inputs: dict[str, str],
    past: Mapping[str, Source],
    recipients: Mapping[str, tuple[str, ...]],
    previous: Manifest,
    pool: _Pool,
    progress: Callable[[Result, int, int], None] | None,
    log: PlanLog | None = None,
) -> list[Result]:
    """The portfolio briefs and the calendars of the sales people the selected projects touch:
    a brief for each who receives two projects' or more, a calendar for each who receives
    one's. Both of one person are one task, in the workers where the projects were loaded."""
    with_briefs = set(portfolios(recipients)) if _portfolio_formats(options) else set()
    ready: list[Result] = []
    tasks: list[PersonTask] = []
    for address, ids in by_address(recipients).items():
        if not _touches(options, selected, address, ids):
            continue
        brief: str | None = None
        if address in with_briefs:
            brief = portfolio_inputs(inputs[i] for i in ids)
            unchanged = unchanged_portfolio(ws, address, options, brief, previous)
            if unchanged is not None:
                ready.append(unchanged)
                brief = None
        name = person_calendar_name(address)
        key = calendar_inputs(inputs[i] for i in ids)
        calendar: str | None = key
        if not options.force and previous.up_to_date(ws, [name], key):
            ready.append(Result(name, "skipped", (name,), key, calendar=True))
            calendar = None
        if brief is not None or calendar is not None:
            tasks.append(PersonTask(address, tuple((pid, inputs[pid]) for pid in ids), brief,
                                    calendar, tuple((pid, past[pid]) for pid in ids if pid in past),
                                    log.only(ids) if log is not None else None,
                                    _shared(ws, ids, inputs)))
    # Progress is told of the portfolio briefs, as of the projects: not of the calendars.
    briefs = sum(r.portfolio for r in ready) + sum(t.portfolio is not None for t in tasks)
    told = 0

    def brief_done(result: Result, _done: int, _total: int) -> None:
        nonlocal told
        if result.portfolio and progress is not None:
            told += 1
            progress(result, told, briefs)

    results = _run(ws, options, pool, ready, tasks, brief_done)
    return sorted(results, key=lambda r: r.calendar)  # the briefs first, as they were told


def _touches(options: BuildOptions, selected: list[str], address: str,
             ids: tuple[str, ...]) -> bool:
    """Whether this build makes a person's portfolio brief or calendar. With shards, each
    belongs to one shard (by its address), so no two machines build the same file; otherwise
    it is built when one of its projects is selected."""
    if options.shard:
        return shard_of(address, options.shard[1]) == options.shard[0]
    return bool(set(selected).intersection(ids))


def _recipients(ws: Workspace, options: BuildOptions, selected: list[str],
                inputs: dict[str, str], past: Mapping[str, Source], results: list[Result],
                previous: Manifest) -> dict[str, tuple[str, ...]]:
    """Who receives each project's brief, for the portfolio briefs and the calendars."""
    # Needed of every project, as a portfolio or a calendar may reach outside this selection or
    # shard. An unselected project's recipients are known from the manifest while its inputs
    # are unchanged.
    recipients = {r.name: r.record.recipients for r in results if r.record is not None}
    for pid in inputs:
        record = previous.projects.get(pid)
        if pid in recipients or pid in selected:
            continue
        if record is not None and record.inputs == inputs[pid]:
            recipients[pid] = record.recipients
        else:
            try:
                project, _ = load_project(ws, past.get(pid) or pid, options.as_of)
            except PlanforgeError:
                continue  # reported when that project itself is built
            recipients[pid] = brief_recipients(project, options.as_of)
    return recipients


def write_index(ws: Workspace, manifest: Manifest, as_of: date, week: str) -> None:
    """``output/index.html``, the portfolio dashboard, from the manifest alone (each project's
    dashboard row and every file built), with relative links so it opens from the file system.
    A merge of shard outputs calls it with the merged manifest."""
    from .documents import render_index

    write_output(ws, INDEX, render_index(ws, manifest, as_of, week))
