"""The build pipeline: load → validate → facts → render → write, atomically and in parallel.

Returns what it did as data; never prints. One project's failure never stops the others.
"""

from __future__ import annotations

import hashlib
import html
import json
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from . import __version__
from .errors import InvalidFilesError, PlanforgeError, UsageError
from .facts import ProjectFacts
from .model import Project
from .schema import is_address
from .validate import load_project
from .workspace import PROJECT_FILE, RETRO_FILE, UPDATES_DIR, Workspace, write_atomic

FORMATS = ("md", "html", "pdf")
PORTFOLIO_FORMATS = ("md", "pdf")  # a portfolio brief is read, not published: no HTML
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class BuildOptions:
    """What to build: which projects, which formats, as of which day."""

    as_of: date
    week: str
    formats: tuple[str, ...] = FORMATS
    projects: tuple[str, ...] = ()  # empty: every project of the workspace
    jobs: int = 1
    changed_since: str | None = None
    shard: tuple[int, int] | None = None  # (index from 1, count)
    force: bool = False
    read_history: bool = True  # False where the workspace has no git history (found once)


@dataclass
class Result:
    """The outcome of one unit of work: a project, or one sales person's portfolio."""

    name: str  # project id, or "portfolio/<email>"
    status: str  # built | skipped | failed
    files: list[str] = field(default_factory=list)  # relative to the output folder
    inputs: str = ""  # the inputs' hash
    error: str = ""  # for a failure: the message, findings included
    health: str | None = None  # computed health, for the index
    reported: str | None = None
    project_name: str = ""
    customer: str = ""
    active: bool = False
    recipients: list[str] = field(default_factory=list)  # brief addresses, if active

    def record(self) -> dict[str, Any]:
        """What the manifest keeps of a project, so that an unchanged one is not even loaded
        next time (its portfolio recipients and health are known from its inputs' hash)."""
        return {"inputs": self.inputs, "name": self.project_name, "customer": self.customer,
                "health": self.health, "reported": self.reported, "active": self.active,
                "recipients": self.recipients}


@dataclass
class BuildReport:
    results: list[Result]
    seconds: float
    output: Path

    def count(self, status: str, *, portfolios: bool = False) -> int:
        """How many projects (or portfolio briefs) ended with this status."""
        return sum(r.status == status and r.name.startswith("portfolio/") == portfolios
                   for r in self.results)

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


def _select(ws: Workspace, options: BuildOptions) -> list[str]:
    ws.require_projects()
    every = ws.project_ids()
    if options.projects:
        for pid in options.projects:
            ws.project_dir(pid)  # a clear error for an unknown or malformed id
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


def _digest_tree(digest: Any, folder: Path) -> None:
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")


def _project_files(folder: Path) -> Iterator[Path]:
    yield folder / PROJECT_FILE
    if (folder / RETRO_FILE).is_file():
        yield folder / RETRO_FILE
    if (folder / UPDATES_DIR).is_dir():
        yield from sorted(p for p in (folder / UPDATES_DIR).iterdir() if p.is_file())


def shared_inputs(ws: Workspace, as_of: date, history: str) -> str:
    """What every document depends on besides its project: planforge, templates, settings,
    the as-of date and the git revision "since last week" compares with."""
    from .i18n import builtin_templates

    digest = hashlib.sha256()
    digest.update(f"{__version__}\0{as_of}\0{history}\0".encode())
    _digest_tree(digest, Path(str(builtin_templates())))
    _digest_tree(digest, ws.templates_dir)
    if ws.config_path is not None:
        digest.update(ws.config_path.read_bytes())
    if ws.settings.logo:
        logo = ws.root / ws.settings.logo
        if logo.is_file():
            digest.update(logo.read_bytes())
    return digest.hexdigest()


def portfolio_inputs(project_hashes: Iterable[str]) -> str:
    """A portfolio brief's inputs: those of its projects, in the order of their ids."""
    return hashlib.sha256("".join(project_hashes).encode()).hexdigest()


def project_inputs(ws: Workspace, project_id: str, shared: str) -> str:
    """The hash of everything one project's documents are made from."""
    digest = hashlib.sha256(shared.encode())
    folder = ws.projects_dir / project_id
    for path in _project_files(folder):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _outputs(project: Project, week: str) -> list[tuple[str, str]]:
    """(kind, path without extension) of each document of a project."""
    docs = [("charter", f"{project.id}/charter"), ("brief", f"{project.id}/briefs/{week}")]
    if project.retrospective is not None:
        docs.append(("retro", f"{project.id}/retrospective"))
    return docs


def _failure(name: str, exc: Exception) -> Result:
    return Result(name, "failed", error=str(exc))


@dataclass(frozen=True)
class _Loaded:
    project: Project
    facts: ProjectFacts
    changes: list[Any] | None  # since last week; None where history cannot tell


#: Projects loaded in this process during one build, by folder and inputs' hash, with their
#: facts: each document and the portfolio briefs reuse them instead of loading again.
_LOADED: dict[tuple[str, str], _Loaded] = {}


def _load(ws: Workspace, project_id: str, options: BuildOptions, inputs: str) -> _Loaded:
    key = (str(ws.projects_dir / project_id), inputs)
    if key not in _LOADED:
        from .facts import compute_facts
        from .history import changes_since_last_week

        project, _warnings = load_project(ws, project_id, options.as_of)
        changes = (changes_since_last_week(ws, project, options.as_of)
                   if options.read_history else None)
        _LOADED[key] = _Loaded(project, compute_facts(project, options.as_of, ws.settings),
                               changes)
    return _LOADED[key]


def _recipients(project: Project) -> list[str]:
    if project.status != "active":
        return []
    return sorted({p.email.lower() for p in project.people.values() if p.brief and p.email})


def unchanged_project(ws: Workspace, project_id: str, options: BuildOptions, inputs: str,
                      previous: Manifest) -> Result | None:
    """The result of a project whose documents were made from these inputs and are still
    there, from what the manifest recorded; None if it must be built."""
    known = previous.projects.get(project_id, {})
    stems = known.get("stems") if known.get("inputs") == inputs else None
    files = [f"{stem}.{fmt}" for stem in stems or () for fmt in options.formats]
    if options.force or not stems or not previous.up_to_date(ws, files, inputs):
        return None
    return Result(project_id, "skipped", inputs=inputs, files=files,
                  health=known.get("health"), reported=known.get("reported"),
                  project_name=known.get("name", ""), customer=known.get("customer", ""),
                  active=bool(known.get("active")), recipients=known.get("recipients", []))


def build_project(ws: Workspace, project_id: str, options: BuildOptions, inputs: str) -> Result:
    """Every document of one project."""
    try:
        loaded = _load(ws, project_id, options, inputs)
    except InvalidFilesError as exc:
        return _failure(project_id, exc)
    from .documents import render_formats

    project, health = loaded.project, loaded.facts.health
    result = Result(project_id, "built", inputs=inputs, health=health.level,
                    reported=health.reported, project_name=project.name,
                    customer=project.customer, active=project.status == "active",
                    recipients=_recipients(project))
    try:
        for kind, stem in _outputs(project, options.week):
            rendered = render_formats(ws, project, kind, options.as_of, options.formats,
                                      loaded.changes if kind == "brief" else None, loaded.facts)
            for fmt, data in rendered.items():
                write_atomic(ws.output_dir / f"{stem}.{fmt}", data)
                result.files.append(f"{stem}.{fmt}")
    except PlanforgeError as exc:
        return _failure(project_id, exc)
    return result


def _portfolio_files(email: str, options: BuildOptions) -> list[str]:
    return [f"portfolio/{email}/{options.week}.{fmt}" for fmt in PORTFOLIO_FORMATS
            if fmt in options.formats]


def unchanged_portfolio(ws: Workspace, email: str, options: BuildOptions, inputs: str,
                        previous: Manifest) -> Result | None:
    """The result of a portfolio brief still made from these inputs; None if it must be built."""
    files = _portfolio_files(email, options)
    if options.force or not previous.up_to_date(ws, files, inputs):
        return None
    return Result(f"portfolio/{email}", "skipped", files=files, inputs=inputs)


def build_portfolio(ws: Workspace, email: str, project_inputs: dict[str, str],
                    options: BuildOptions, inputs: str) -> Result:
    """One sales person's portfolio brief over their active projects."""
    name = f"portfolio/{email}"
    formats = [f for f in PORTFOLIO_FORMATS if f in options.formats]
    from .documents import render_portfolio_formats

    try:
        loaded = {pid: _load(ws, pid, options, key) for pid, key in project_inputs.items()}
        rendered = render_portfolio_formats(
            ws, email, [one.project for one in loaded.values()], options.as_of, formats,
            {pid: one.changes for pid, one in loaded.items()},
            {pid: one.facts for pid, one in loaded.items()},
        )
        files = []
        for fmt, data in rendered.items():
            name_of_file = f"portfolio/{email}/{options.week}.{fmt}"
            write_atomic(ws.output_dir / name_of_file, data)
            files.append(name_of_file)
    except PlanforgeError as exc:
        return _failure(name, exc)
    return Result(name, "built", files=files, inputs=inputs)


@dataclass
class Manifest:
    """``output/manifest.json``: every file with its inputs' hash, and what the last build
    learned of each project."""

    files: dict[str, Any] = field(default_factory=dict)
    projects: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, output: Path) -> Manifest:
        try:
            data = json.loads((output / MANIFEST).read_text("utf-8"))
            files, projects = data.get("files", {}), data.get("projects", {})
            if isinstance(files, dict) and isinstance(projects, dict):
                return cls(files, projects)
        except (OSError, ValueError, AttributeError):
            pass  # no manifest, or a damaged one: everything is built again
        return cls()

    def up_to_date(self, ws: Workspace, names: Iterable[str], inputs: str) -> bool:
        """Whether each file was made from these inputs and is still the file written then (a
        file rewritten since, say by ``planforge render``, is stale)."""
        names = list(names)
        return bool(names) and all(self._unchanged(ws.output_dir / n, n, inputs) for n in names)

    def _unchanged(self, path: Path, name: str, inputs: str) -> bool:
        entry = self.files.get(name, {})
        try:
            stat = path.stat()
        except OSError:
            return False
        return bool(entry.get("inputs") == inputs and entry.get("size") == stat.st_size
                    and entry.get("mtime_ns") == stat.st_mtime_ns)


def _worker_init(formats: tuple[str, ...]) -> None:
    """Pay the PDF stack's import once per worker process, not once per document."""
    if "pdf" in formats:
        from .pdf import preload

        preload()


class BuiltOutputs:
    """The PDF briefs in the output folder that a build made from the current inputs, so that
    ``planforge send`` after ``planforge build`` attaches them instead of rendering them again.
    The manifest says what each file was made from; a file changed since is not used."""

    def __init__(self, ws: Workspace, as_of: date) -> None:
        from .dates import iso_week

        self.ws = ws
        self.week = iso_week(as_of)
        self.manifest = Manifest.load(ws.output_dir)
        from .history import history_key

        self.shared = shared_inputs(ws, as_of, history_key(ws, as_of))
        self._inputs: dict[str, str] = {}

    def _project(self, project_id: str) -> str:
        if project_id not in self._inputs:
            self._inputs[project_id] = project_inputs(self.ws, project_id, self.shared)
        return self._inputs[project_id]

    def _read(self, name: str, inputs: str) -> bytes | None:
        if not self.manifest.up_to_date(self.ws, [name], inputs):
            return None
        try:
            return (self.ws.output_dir / name).read_bytes()
        except OSError:
            return None

    def brief(self, project_id: str) -> bytes | None:
        """The project's brief of the week as built, if current."""
        return self._read(f"{project_id}/briefs/{self.week}.pdf", self._project(project_id))

    def portfolio(self, email: str, project_ids: Iterable[str]) -> bytes | None:
        """The portfolio brief of the week as built for these projects, if current."""
        key = portfolio_inputs(self._project(pid) for pid in sorted(project_ids))
        return self._read(f"portfolio/{email.lower()}/{self.week}.pdf", key)


class _Pool:
    """The worker processes of one build (projects, then portfolios), started only when two or
    more things are to be rendered with --jobs above 1: each worker pays the PDF stack's import
    once, and a rebuild of one project pays no pool at all. forkserver: workers start from a
    clean process (no threads or locks of the parent)."""

    def __init__(self, options: BuildOptions) -> None:
        self.options = options
        self.executor: ProcessPoolExecutor | None = None

    def get(self, tasks: int) -> ProcessPoolExecutor | None:
        if self.executor is None and self.options.jobs > 1 and tasks > 1:
            import multiprocessing

            self.executor = ProcessPoolExecutor(
                self.options.jobs, mp_context=multiprocessing.get_context("forkserver"),
                initializer=_worker_init, initargs=(self.options.formats,))
        return self.executor

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown()


Task = tuple[str, Callable[..., Result], tuple[Any, ...]]  # result name, function, arguments


def _run(pool: _Pool, ready: list[Result], tasks: list[Task],
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
        for name, func, args in tasks:
            try:
                done(func(*args))
            except Exception as exc:  # a bug in one project must not lose the others' work
                done(_failure(name, exc))
        return results
    futures: dict[Future[Result], str] = {
        executor.submit(func, *args): name for name, func, args in tasks
    }
    pending = set(futures)
    while pending:
        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
        for future in sorted(finished, key=lambda f: futures[f]):
            try:
                done(future.result())
            except Exception as exc:
                done(_failure(futures[future], exc))
    return results


def build_workspace(
    ws: Workspace,
    options: BuildOptions,
    progress: Callable[[Result, int, int], None] | None = None,
) -> BuildReport:
    """Render every selected project's documents and the portfolio briefs; write the index and
    the manifest. Failures are results, not exceptions."""
    started = time.perf_counter()
    unknown = set(options.formats) - set(FORMATS)
    if unknown or not options.formats:
        raise UsageError(f"--formats takes a list of {', '.join(FORMATS)}")
    selected = _select(ws, options)
    previous = Manifest.load(ws.output_dir)
    from .history import history_key

    history = history_key(ws, options.as_of)
    options = replace(options, read_history=bool(history))
    shared = shared_inputs(ws, options.as_of, history)
    inputs = {pid: project_inputs(ws, pid, shared) for pid in ws.project_ids()}
    ready: list[Result] = []
    tasks: list[Task] = []
    for pid in selected:
        unchanged = unchanged_project(ws, pid, options, inputs[pid], previous)
        if unchanged is not None:
            ready.append(unchanged)
        else:
            tasks.append((pid, build_project, (ws, pid, options, inputs[pid])))
    pool = _Pool(options)
    try:
        results = _run(pool, ready, tasks, progress)
        results += _build_portfolios(ws, options, selected, inputs, results, previous, pool,
                                     progress)
    finally:
        _LOADED.clear()
        pool.close()
    manifest = write_manifest(ws, options, results, previous)
    write_index(ws, options, manifest)
    return BuildReport(results, time.perf_counter() - started, ws.output_dir)


def _build_portfolios(
    ws: Workspace,
    options: BuildOptions,
    selected: list[str],
    inputs: dict[str, str],
    results: list[Result],
    previous: Manifest,
    pool: _Pool,
    progress: Callable[[Result, int, int], None] | None,
) -> list[Result]:
    """The portfolio briefs touched by the selected projects."""
    if not any(f in options.formats for f in PORTFOLIO_FORMATS):
        return []

    # Portfolios: every brief recipient of the selected projects, over all their active
    # projects (which may lie outside this selection or shard). What an unselected project's
    # recipients are is known from the manifest while its inputs are unchanged.
    known: dict[str, Result] = {r.name: r for r in results if r.status != "failed"}
    for pid in ws.project_ids():
        record = previous.projects.get(pid)
        if pid in known or pid in selected:
            continue
        if record and record.get("inputs") == inputs[pid]:
            known[pid] = Result(pid, "skipped", inputs=inputs[pid],
                                active=bool(record.get("active")),
                                recipients=record.get("recipients", []))
        else:
            try:
                project, _ = load_project(ws, pid, options.as_of)
            except PlanforgeError:
                continue  # reported when that project itself is built
            known[pid] = Result(pid, "skipped", inputs=inputs[pid],
                                active=project.status == "active",
                                recipients=_recipients(project))
    recipients: dict[str, list[str]] = {}
    for pid, result in sorted(known.items()):
        for email in result.recipients if result.active else ():
            recipients.setdefault(email, []).append(pid)
    ready: list[Result] = []
    portfolio_tasks: list[Task] = []
    for email, ids in sorted(recipients.items()):
        # A portfolio bundles several projects; with one, that project's brief is the brief
        # (and the one planforge send mails).
        # The address names a folder: is_address admits nothing that could leave portfolio/.
        if len(ids) < 2 or not is_address(email):
            continue
        # With shards, each portfolio belongs to one shard (by its address), so no two machines
        # build the same file; otherwise it is built when one of its projects is selected.
        if options.shard:
            if shard_of(email, options.shard[1]) != options.shard[0]:
                continue
        elif not set(selected).intersection(ids):
            continue
        key = portfolio_inputs(inputs[i] for i in ids)
        unchanged = unchanged_portfolio(ws, email, options, key, previous)
        if unchanged is not None:
            ready.append(unchanged)
            continue
        members = {pid: inputs[pid] for pid in ids}
        portfolio_tasks.append(
            (f"portfolio/{email}", build_portfolio, (ws, email, members, options, key)))
    return _run(pool, ready, portfolio_tasks, progress)


def write_manifest(ws: Workspace, options: BuildOptions, results: list[Result],
                   previous: Manifest) -> Manifest:
    """Record every file with its inputs' hash and its own, and each project's record; entries
    this run did not touch are kept while their files exist."""
    files = dict(previous.files)
    projects = dict(previous.projects)
    for result in results:
        if result.status == "failed":
            projects.pop(result.name, None)
            continue
        if result.status == "built":
            for name in result.files:
                path = ws.output_dir / name
                stat = path.stat()
                files[name] = {
                    "source": result.name,
                    "inputs": result.inputs,
                    "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                    "size": stat.st_size,
                    "mtime_ns": stat.st_mtime_ns,
                }
        if not result.name.startswith("portfolio/"):
            record = result.record()
            record["stems"] = sorted({f.rsplit(".", 1)[0] for f in result.files})
            projects[result.name] = record
    files = {name: entry for name, entry in files.items() if (ws.output_dir / name).is_file()}
    projects = {pid: r for pid, r in projects.items() if (ws.projects_dir / pid).is_dir()}
    manifest = Manifest(dict(sorted(files.items())), dict(sorted(projects.items())))
    data = {"planforge": __version__, "week": options.week, "as_of": options.as_of.isoformat(),
            "files": manifest.files, "projects": manifest.projects}
    write_atomic(ws.output_dir / MANIFEST,
                 (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())
    return manifest


_HEALTH_STYLE = {"green": "#2e7d32", "amber": "#b26a00", "red": "#c62828"}


def write_index(ws: Workspace, options: BuildOptions, manifest: Manifest) -> None:
    """``output/index.html``: every project with its health and links to what exists on disk,
    with relative links so it opens from the file system."""
    out = ws.output_dir
    rows = []
    for pid in ws.project_ids():
        record = manifest.projects.get(pid)
        docs = []
        for label, pattern in (("Charter", f"{pid}/charter"),
                               ("Brief " + options.week, f"{pid}/briefs/{options.week}"),
                               ("Retrospective", f"{pid}/retrospective")):
            links = [f'<a href="{html.escape(pattern)}.{fmt}">{fmt.upper()}</a>'
                     for fmt in FORMATS if (out / f"{pattern}.{fmt}").is_file()]
            if links:
                docs.append(f"{label}: {' · '.join(links)}")
        briefs = out / pid / "briefs"
        weeks = sorted({p.stem for p in briefs.glob("*.md")} - {options.week}) \
            if briefs.is_dir() else []
        if weeks:
            docs.append("Briefs of other weeks: " + ", ".join(
                f'<a href="{html.escape(pid)}/briefs/{html.escape(w)}.md">{html.escape(w)}</a>'
                for w in weeks))
        health = record.get("health") if record else None
        if record is None:
            state = '<span class="failed">not built: run planforge validate</span>'
        elif health in _HEALTH_STYLE:
            state = (f'<span class="dot" style="background:{_HEALTH_STYLE[health]}"></span>'
                     f"{html.escape(health)}")
            reported = record.get("reported")
            if reported and reported != health:
                state += f" (reported {html.escape(reported)})"
        else:
            state = ""
        name = html.escape(record.get("name") or pid if record else pid)
        customer = html.escape(record.get("customer", "") if record else "")
        rows.append(f"<tr><td><strong>{name}</strong><br><small>{html.escape(pid)}</small></td>"
                    f"<td>{customer}</td><td>{state}</td><td>{'<br>'.join(docs)}</td></tr>")
    portfolios = []
    portfolio_dir = out / "portfolio"
    if portfolio_dir.is_dir():
        for folder in sorted(p for p in portfolio_dir.iterdir() if p.is_dir()):
            links = [f'<a href="portfolio/{html.escape(folder.name)}/{html.escape(options.week)}'
                     f'.{fmt}">{fmt.upper()}</a>' for fmt in PORTFOLIO_FORMATS
                     if (folder / f"{options.week}.{fmt}").is_file()]
            if links:
                portfolios.append(f"<li>{html.escape(folder.name)}: {' · '.join(links)}</li>")
    title = html.escape(ws.settings.organization or "planforge")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title} — project documents {html.escape(options.week)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; vertical-align: top; padding: .5rem; border-bottom: 1px solid #ddd; }}
.dot {{ display: inline-block; width: .8em; height: .8em; border-radius: 50%;
        margin-right: .4em; }}
.failed {{ color: #c62828; font-weight: bold; }}
small {{ color: #666; }}
</style></head><body>
<h1>{title} — project documents</h1>
<p>Week {html.escape(options.week)}, as of {options.as_of.isoformat()}.
Health is computed by planforge.</p>
<table><thead><tr><th>Project</th><th>Customer</th><th>Health</th><th>Documents</th></tr>
</thead><tbody>
{chr(10).join(rows)}
</tbody></table>
<h2>Portfolio briefs</h2>
<ul>
{chr(10).join(portfolios) or "<li>none</li>"}
</ul>
</body></html>
"""
    write_atomic(out / "index.html", page.encode())
