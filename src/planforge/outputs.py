"""Where every output goes, what it is made from, and the manifest of what was built.

The layout of the output folder (documents, portfolio briefs, the index, the manifest, the
outbox) and of the send ledger is spelled here only; ``build``, ``render`` and ``send`` ask.
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import json
import os
import re
import stat
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from . import __version__
from .audience import address_key
from .dashboard import DashboardRow, row_from_json, row_json
from .errors import WorkspaceError
from .files import LINK_REFUSED, FileRefused, read_file
from .model import Project
from .sources import Source
from .workspace import PROJECT_FILE, RETRO_FILE, UPDATES_DIR, Workspace

DocumentKind = Literal["charter", "brief", "retro"]
Format = Literal["md", "html", "pdf"]
FORMATS: tuple[Format, ...] = ("md", "html", "pdf")
PORTFOLIO_FORMATS: tuple[Format, ...] = ("md", "pdf")  # a portfolio brief is read: no HTML
MANIFEST = "manifest.json"
#: A manifest of 10,000 projects is about 10 MiB; one far larger is damaged or hostile.
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
#: A brief is one or two pages, a portfolio brief a few more: far below this.
MAX_PDF_BYTES = 32 * 1024 * 1024
INDEX = "index.html"
PORTFOLIO_DIR = "portfolio"
OUTBOX_DIR = "outbox"

_STEMS: dict[DocumentKind, str] = {"charter": "charter", "brief": "briefs/{week}",
                                   "retro": "retrospective"}


# --- the layout ------------------------------------------------------------------------------


def document_stem(project_id: str, kind: DocumentKind, week: str) -> str:
    """A project document's name in the output folder, without the extension."""
    return f"{project_id}/{_STEMS[kind].format(week=week)}"


def project_documents(project: Project, week: str) -> list[tuple[DocumentKind, str]]:
    """(kind, stem) of every document a project has."""
    kinds: list[DocumentKind] = ["charter", "brief"]
    if project.retrospective is not None:
        kinds.append("retro")
    return [(kind, document_stem(project.id, kind, week)) for kind in kinds]


#: Folder names that every file system, artifact upload and URL takes as they are.
_PLAIN_FOLDER = re.compile(r"[a-z0-9][a-z0-9._+-]*@[a-z0-9][a-z0-9.-]*")


def portfolio_folder(address: str) -> str:
    """The folder of a person's portfolio briefs in the output folder: the address itself when
    it is plain, else with '_' for each character that Windows, CI artifact uploads or a URL
    would refuse (an address may hold | * ? / and more), and a short hash to keep it unique."""
    key = address_key(address)
    if _PLAIN_FOLDER.fullmatch(key):
        return f"{PORTFOLIO_DIR}/{key}"
    safe = re.sub(r"[^a-z0-9._+@-]", "_", key).lstrip(".")
    return f"{PORTFOLIO_DIR}/{safe}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


CALENDAR_DIR = "calendars"
CALENDAR_FILE = "calendar.ics"


def project_calendar_name(project_id: str) -> str:
    """A project's calendar in the output folder: one file for every week, so that a
    subscription's address stays the same."""
    return f"{project_id}/{CALENDAR_FILE}"


def person_calendar_name(address: str) -> str:
    """A sales person's calendar in the output folder, named as their portfolio folder."""
    return f"{CALENDAR_DIR}/{portfolio_folder(address).removeprefix(PORTFOLIO_DIR + '/')}.ics"


def portfolio_stem(address: str, week: str) -> str:
    """A portfolio brief's name in the output folder, without the extension."""
    return f"{portfolio_folder(address)}/{week}"


def outbox_dir(ws: Workspace) -> Path:
    """Where ``send --dry-run`` writes its messages by default."""
    return ws.output_dir / OUTBOX_DIR


def ledger_path(ws: Workspace) -> Path:
    """Where the workspace's send ledger lives: inside the workspace (the schema says so) and
    reached through no link, as it is appended to on the machine that holds the password."""
    return ws.inside("email.ledger", ws.settings.email.ledger)


@dataclass(frozen=True)
class Stamp:
    """A file as it was written: what the manifest records, taken when the file was written
    rather than at the end of the build, when another process may have replaced it."""

    sha256: str
    size: int
    mtime_ns: int


def _folders_below(base: Path, folder: Path) -> None:
    """Make ``folder`` below ``base``, refusing a way through a symbolic link or out of
    ``base``: an output folder restored from a CI cache may hold a link to anywhere."""
    try:
        parts = folder.relative_to(base).parts
    except ValueError:
        raise WorkspaceError(f"{folder}: outside {base}; planforge writes only inside the "
                             "workspace") from None
    here = base
    for part in parts:
        here = here / part
        try:
            mode = os.lstat(here).st_mode
        except FileNotFoundError:
            try:
                os.mkdir(here)
                continue
            except FileExistsError:  # made meanwhile by a build's other worker: check it
                mode = os.lstat(here).st_mode
        if stat.S_ISLNK(mode):
            raise WorkspaceError(f"{here}: a symbolic link; planforge writes nothing through a "
                                 "link (remove it, and the build writes a real folder)")
        if not stat.S_ISDIR(mode):
            raise WorkspaceError(f"{here}: not a folder")


_TEMPORARY = itertools.count()
_TEMPORARY_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
                    | getattr(os, "O_NOFOLLOW", 0))


def _temporary(path: Path) -> tuple[int, Path]:
    """A new file beside ``path``, hidden, named by this process and a counter, created with
    the permissions the umask leaves (as any file written the plain way)."""
    while True:
        tmp = path.with_name(f".{path.name}.{os.getpid()}-{next(_TEMPORARY)}.tmp")
        try:
            return os.open(tmp, _TEMPORARY_FLAGS, 0o666), tmp
        except FileExistsError:  # left by a killed process that had the same id
            continue


def write_atomic(path: Path, data: bytes, *, inside: Path | None = None) -> Stamp:
    """Write to a temporary file beside ``path`` and rename it into place: readers and later
    runs see the old file or the new one, never half of one, even if the process is killed.
    Only a regular file is ever replaced (not a FIFO, a device or a link); with ``inside``, no
    folder between it and the file may be a link. There is no fsync: outputs can be rebuilt,
    and one per file was a fifth of a Markdown build (what must survive a power cut, the mail
    ledger, syncs its own writes)."""
    if inside is not None:
        _folders_below(inside, path.parent)
    elif not path.parent.is_dir():  # mkdir of an existing folder costs 100 times a stat
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        pass
    else:
        if not stat.S_ISREG(mode):
            what = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
            raise WorkspaceError(f"{path}: {what}; planforge replaces only regular files")
    fd, tmp = _temporary(path)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            written = os.fstat(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Stamp(hashlib.sha256(data).hexdigest(), written.st_size, written.st_mtime_ns)


def write_output(ws: Workspace, name: str, data: bytes) -> Stamp:
    """Write a file of the output folder (``name`` relative to it), through no link."""
    return write_atomic(ws.output_dir / name, data, inside=ws.root)


@contextmanager
def output_lock(ws: Workspace, wait: float = 600.0) -> Iterator[None]:
    """Hold the output folder for one build or render at a time: two builds of one workspace
    would otherwise record each other's half-finished files as current. A second one waits
    for the first, up to ``wait`` seconds. The lock is on the folder itself, so the output
    holds no lock file to publish."""
    _folders_below(ws.root, ws.output_dir)
    fd = os.open(ws.output_dir, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0))
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WorkspaceError(
                        f"{ws.output_dir}: another planforge build is writing here; waited "
                        f"{wait:.0f} s") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


# --- what an output is made from ------------------------------------------------------------


class _Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...


def _digest_tree(digest: _Digest, folder: Path) -> None:
    # Links are not followed (a link in a workspace's templates could point at /dev/zero), and
    # a file planforge would refuse to read is hashed by its refusal: rendering then reports it.
    if not folder.is_dir():
        return
    for here, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            path = Path(here, name)
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            try:
                digest.update(read_file(path, folder) + b"\0")
            except FileRefused as exc:
                digest.update(f"{exc}\0".encode())


def _project_files(folder: Path) -> Iterator[tuple[str, Path, bool]]:
    """Each file of a project: its name in the folder, its path, and whether it lies in a
    folder reached through a link (the updates folder), which refuses it. One listing of the
    updates folder and one check of it: each update was checked for a link and stat'ed on its
    own, 6,000 system calls of a 1,000-project build."""
    yield PROJECT_FILE, folder / PROJECT_FILE, False
    if (folder / RETRO_FILE).is_file():
        yield RETRO_FILE, folder / RETRO_FILE, False
    updates = folder / UPDATES_DIR
    try:
        through_link = stat.S_ISLNK(os.lstat(updates).st_mode)
        with os.scandir(updates) as entries:
            names = sorted(entry.name for entry in entries if entry.is_file())
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in names:
        yield f"{UPDATES_DIR}/{name}", updates / name, through_link


def shared_inputs(ws: Workspace, as_of: date, history: str) -> str:
    """What every document depends on besides its project: planforge, templates, settings,
    the as-of date and the git revision "since last week" compares with (``history``)."""
    from .i18n import builtin_templates

    digest = hashlib.sha256()
    digest.update(f"{__version__}\0{as_of}\0{history}\0".encode())
    _digest_tree(digest, Path(str(builtin_templates())))
    _digest_tree(digest, ws.templates_dir)
    if ws.config_path is not None:
        digest.update(ws.config_path.read_bytes())
    if ws.settings.logo:
        try:
            digest.update(read_file(ws.root / ws.settings.logo, ws.root))
        except (FileRefused, OSError) as exc:
            digest.update(str(exc).encode())
    return digest.hexdigest()


def project_inputs(ws: Workspace, project_id: str, shared: str) -> str:
    """The hash of everything one project's documents are made from. A file planforge will
    not read (a link, a file too large) is hashed by its refusal, which loading reports."""
    digest = hashlib.sha256(shared.encode())
    folder = ws.projects_dir / project_id
    for name, path, through_link in _project_files(folder):
        try:
            if through_link:
                raise FileRefused(path, LINK_REFUSED)
            content = read_file(path)  # the file itself is opened without following a link
        except (FileRefused, OSError) as exc:
            content = f"\0{exc}".encode()
        digest.update(name.encode() + b"\0" + content)
    return digest.hexdigest()


def source_inputs(source: Source, shared: str) -> str:
    """The hash of a project's documents made from files read from history: its content as
    read, in the form ``project_inputs`` gives the same files in a folder."""
    digest = hashlib.sha256(shared.encode())
    for rel in source.paths():
        digest.update(rel.encode() + b"\0" + source.read(rel))
    return digest.hexdigest()


def portfolio_inputs(project_hashes: Iterable[str]) -> str:
    """A portfolio brief's inputs: those of its projects, in the order of their ids."""
    return hashlib.sha256("".join(project_hashes).encode()).hexdigest()


def with_commits(inputs: str, commits: Sequence[str]) -> str:
    """A project's inputs with the commits of its plan up to the as-of date: the charter and the
    retrospective read them, so committing an edit (the files unchanged) must rebuild them,
    while a commit after a past week leaves that week's documents as they were."""
    if not commits:
        return inputs
    return hashlib.sha256(f"{inputs}\0{' '.join(commits)}".encode()).hexdigest()


def calendar_inputs(project_hashes: Iterable[str]) -> str:
    """A sales person's calendar's inputs: those of its projects, in the order of their ids."""
    return hashlib.sha256(f"calendar\0{portfolio_inputs(project_hashes)}".encode()).hexdigest()


# --- the manifest ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FileRecord:
    """One file of the output folder as the build that wrote it left it."""

    source: str  # the project id, or "portfolio/<address>"
    inputs: str  # the inputs' hash
    sha256: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class ProjectRecord:
    """What a build learned of a project, so that an unchanged one is not even loaded next
    time (its portfolio recipients and health are known from its inputs' hash)."""

    inputs: str
    name: str = ""
    customer: str = ""
    health: str | None = None
    reported: str | None = None
    active: bool = False
    recipients: tuple[str, ...] = ()  # address keys of its brief, as audience.brief_recipients
    stems: tuple[str, ...] = ()  # its documents, without the extension
    dashboard: DashboardRow | None = None  # its row of the dashboard (index.html)


@dataclass(frozen=True)
class Written:
    """A file a build has just written, and what it was made from."""

    name: str  # relative to the output folder
    source: str
    inputs: str
    stamp: Stamp


def _file_record(data: Any) -> FileRecord | None:
    try:
        return FileRecord(str(data["source"]), str(data["inputs"]), str(data["sha256"]),
                          int(data["size"]), int(data["mtime_ns"]))
    except (KeyError, TypeError, ValueError):
        return None


def _optional(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _project_record(data: Any) -> ProjectRecord | None:
    if not isinstance(data, dict) or not isinstance(data.get("inputs"), str):
        return None
    return ProjectRecord(
        inputs=data["inputs"], name=str(data.get("name") or ""),
        customer=str(data.get("customer") or ""), health=_optional(data.get("health")),
        reported=_optional(data.get("reported")), active=data.get("active") is True,
        recipients=tuple(str(r) for r in data.get("recipients") or ()),
        stems=tuple(str(s) for s in data.get("stems") or ()),
        dashboard=row_from_json(data.get("dashboard")))


@dataclass(frozen=True)
class Manifest:
    """``output/manifest.json``: every file with its inputs' hash, and what the last build
    learned of each project."""

    files: Mapping[str, FileRecord] = field(default_factory=dict)
    projects: Mapping[str, ProjectRecord] = field(default_factory=dict)

    @classmethod
    def load(cls, output: Path) -> Manifest:
        """The manifest in this output folder; an empty one if there is none or it is damaged
        (everything is then built again)."""
        try:
            data = json.loads(read_file(output / MANIFEST, output, MAX_MANIFEST_BYTES))
        except (FileRefused, OSError, ValueError):
            return cls()
        files, projects = (data.get("files"), data.get("projects")) if isinstance(data, dict) \
            else (None, None)
        if not isinstance(files, dict) or not isinstance(projects, dict):
            return cls()
        return cls(
            {name: f for name, entry in files.items() if (f := _file_record(entry)) is not None},
            {pid: p for pid, entry in projects.items()
             if (p := _project_record(entry)) is not None})

    def up_to_date(self, ws: Workspace, names: Iterable[str], inputs: str) -> bool:
        """Whether each file was made from these inputs and is still the file written then (a
        file rewritten since, say by ``planforge render``, is stale)."""
        names = list(names)
        return bool(names) and all(self._unchanged(ws.output_dir / n, n, inputs) for n in names)

    def _unchanged(self, path: Path, name: str, inputs: str) -> bool:
        entry = self.files.get(name)
        try:
            now = path.lstat()  # a link put in place of a built file is no built file
        except OSError:
            return False
        return (entry is not None and entry.inputs == inputs and stat.S_ISREG(now.st_mode)
                and entry.size == now.st_size and entry.mtime_ns == now.st_mtime_ns)


def record_build(ws: Workspace, previous: Manifest, week: str, as_of: date,
                 written: Iterable[Written],
                 projects: Mapping[str, ProjectRecord | None],
                 shard: ShardStamp | None = None) -> Manifest:
    """Write the manifest: every file written with its inputs' hash and its own, and each
    project's record (None forgets it: it failed). Entries this run did not touch are kept
    while their files and projects exist. A shard's build says which shard it is."""
    files = dict(previous.files)
    now = set()
    for w in written:
        files[w.name] = FileRecord(w.source, w.inputs, w.stamp.sha256, w.stamp.size,
                                   w.stamp.mtime_ns)
        now.add(w.name)
    records = dict(previous.projects)
    for pid, record in projects.items():
        if record is None:
            records.pop(pid, None)
        else:
            records[pid] = record
    manifest = Manifest(
        {n: r for n, r in sorted(files.items()) if n in now or (ws.output_dir / n).is_file()},
        {p: r for p, r in sorted(records.items()) if (ws.projects_dir / p).is_dir()})
    data = {"planforge": __version__, "week": week, "as_of": as_of.isoformat(),
            **({"shard": _shard_json(shard)} if shard is not None else {}),
            "files": {n: _fields(r) for n, r in manifest.files.items()},
            "projects": {p: _project_json(r) for p, r in manifest.projects.items()}}
    write_output(ws, MANIFEST, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())
    return manifest


def _fields(record: FileRecord | ProjectRecord) -> dict[str, Any]:
    """A record's fields in their order, as they are: asdict copied each dashboard row deeply,
    only for _project_json to replace it (a third of writing a 1,000-project manifest)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


def _project_json(record: ProjectRecord) -> dict[str, Any]:
    return {**_fields(record), "recipients": list(record.recipients),
            "stems": list(record.stems),
            "dashboard": row_json(record.dashboard) if record.dashboard else None}


# --- the shards of a CI matrix ---------------------------------------------------------------


@dataclass(frozen=True)
class ShardStamp:
    """What a shard's manifest says of the build it is a share of, so that a merge can tell
    shards of one build from shards of different ones."""

    index: int  # from 1
    count: int
    workspace: str  # workspace_key: the same workspace at the same commit, as of the same day
    formats: tuple[str, ...]


def workspace_key(shared: str, project_ids: Iterable[str]) -> str:
    """What every shard of one build shares: the inputs of all documents (``shared_inputs``:
    planforge, templates, settings, the date, the history) and the list of projects."""
    return hashlib.sha256("\0".join([shared, *project_ids]).encode()).hexdigest()


def _shard_json(shard: ShardStamp) -> dict[str, Any]:
    return {**asdict(shard), "formats": list(shard.formats)}


@dataclass(frozen=True)
class ShardOutput:
    """The output folder of one ``build --shard I/N``, as its manifest describes it."""

    folder: Path
    planforge: str
    week: str
    as_of: str
    shard: ShardStamp
    manifest: Manifest


def read_shard(folder: Path) -> ShardOutput:
    """The shard whose output is in ``folder``; WorkspaceError saying what is wrong if the
    folder is not the output of ``build --shard I/N``."""
    what = "the output folder of planforge build --shard I/N"
    if not folder.is_dir():
        raise WorkspaceError(f"{folder}: no such folder; a shard is {what}")
    try:
        raw = read_file(folder / MANIFEST, folder, MAX_MANIFEST_BYTES)
    except FileNotFoundError:
        raise WorkspaceError(f"{folder}: no {MANIFEST}; a shard is {what}") from None
    except (FileRefused, OSError) as exc:
        raise WorkspaceError(f"{folder / MANIFEST}: {exc}") from None
    try:
        data = json.loads(raw)
        stamp = data.get("shard") if isinstance(data, dict) else None
        if stamp is None:
            raise WorkspaceError(f"{folder}: built without --shard; a shard is {what}")
        shard = ShardStamp(int(stamp["index"]), int(stamp["count"]), str(stamp["workspace"]),
                           tuple(str(f) for f in stamp["formats"]))
        files, projects = data["files"], data["projects"]
        manifest = Manifest(
            {str(n): _checked(_file_record(e)) for n, e in files.items()},
            {str(p): _checked(_project_record(e)) for p, e in projects.items()})
        return ShardOutput(folder, str(data["planforge"]), str(data["week"]),
                           str(data["as_of"]), shard, manifest)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise WorkspaceError(f"{folder / MANIFEST}: not a manifest planforge wrote (damaged, or "
                             "edited by hand)") from None


_T = TypeVar("_T")


def _checked(record: _T | None) -> _T:
    if record is None:
        raise ValueError("an entry planforge did not write")
    return record


# --- reading what a build made ---------------------------------------------------------------


class BuiltOutputs:
    """The PDF briefs in the output folder that a build made from the current inputs, so that
    ``planforge send`` after ``planforge build`` attaches them instead of rendering them again.
    The manifest says what each file was made from; a file changed since is not used.
    ``history`` is the git revision key the build used (``history.history_key``); ``sources``
    the projects of a past week as read from history (None: the working tree); ``commits``
    each plan's commits up to the date, as the build counted them (``timeline.built_outputs``).
    """

    def __init__(self, ws: Workspace, as_of: date, history: str,
                 sources: Mapping[str, Source] | None = None,
                 commits: Mapping[str, Sequence[str]] | None = None) -> None:
        from .dates import iso_week

        self.ws = ws
        self.week = iso_week(as_of)
        self.manifest = Manifest.load(ws.output_dir)
        self.shared = shared_inputs(ws, as_of, history)
        self.sources = sources
        self.commits = commits or {}
        self._inputs: dict[str, str] = {}

    def _project(self, project_id: str) -> str:
        if project_id not in self._inputs:
            self._inputs[project_id] = with_commits(
                project_inputs(self.ws, project_id, self.shared) if self.sources is None
                else source_inputs(self.sources[project_id], self.shared),
                self.commits.get(project_id, ()))
        return self._inputs[project_id]

    def _read(self, name: str, inputs: str) -> bytes | None:
        if not self.manifest.up_to_date(self.ws, [name], inputs):
            return None
        try:  # read as any workspace file: the output folder may come from a CI cache
            data = read_file(self.ws.output_dir / name, self.ws.root, MAX_PDF_BYTES)
        except (FileRefused, OSError):
            return None
        entry = self.manifest.files[name]
        return data if hashlib.sha256(data).hexdigest() == entry.sha256 else None

    def brief(self, project_id: str) -> bytes | None:
        """The project's brief of the week as built, if current."""
        stem = document_stem(project_id, "brief", self.week)
        return self._read(f"{stem}.pdf", self._project(project_id))

    def portfolio(self, address: str, project_ids: Iterable[str]) -> bytes | None:
        """The portfolio brief of the week as built for these projects, if current."""
        key = portfolio_inputs(self._project(pid) for pid in sorted(project_ids))
        return self._read(f"{portfolio_stem(address, self.week)}.pdf", key)

    def calendar(self, address: str, project_ids: Iterable[str]) -> bytes | None:
        """The sales person's calendar as built over these projects, if current."""
        key = calendar_inputs(self._project(pid) for pid in sorted(project_ids))
        return self._read(person_calendar_name(address), key)
