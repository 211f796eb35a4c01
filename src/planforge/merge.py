"""One output folder from the N shards of a CI matrix (``build --merge``), rendering nothing
again but the index.

Every shard builds from the whole workspace, and each portfolio brief and sales person's
calendar is built by exactly one shard (the one its address falls in), so the documents that
span shards already exist, made from every project; what no shard can write is the index and
the manifest of all of them, which the merge writes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath

from . import __version__
from .errors import WorkspaceError
from .files import FileRefused, read_file
from .outputs import (
    INDEX,
    MANIFEST,
    MAX_PDF_BYTES,
    FileRecord,
    Manifest,
    ProjectRecord,
    ShardOutput,
    Stamp,
    Written,
    output_lock,
    read_shard,
    record_build,
    shared_inputs,
    workspace_key,
    write_output,
)
from .workspace import Workspace

#: Writes output/index.html from the merged manifest, as of a date and week.
IndexWriter = Callable[[date, str, Manifest], None]


@dataclass(frozen=True)
class MergeReport:
    shards: int
    files: int
    output: Path


def merge_shards(ws: Workspace, folders: Sequence[Path], write_index: IndexWriter) -> MergeReport:
    """Copy the files of every shard into the output folder, checked against the manifests
    that recorded them, then write one manifest and one index. WorkspaceError, before anything
    is written, if the shards are not the N shares of one build of this workspace."""
    if not folders:
        raise WorkspaceError("build --merge takes the output folders of the N shards")
    shards = [read_shard(folder) for folder in folders]
    for shard in shards:
        if shard.folder.resolve() == ws.output_dir.resolve():
            raise WorkspaceError(f"{shard.folder}: the output folder itself; the merge writes "
                                 "there, so give the shards' folders elsewhere")
    _check_one_build(ws, shards)
    sources = _files(shards)
    projects = _projects(shards)
    for name, (shard, record) in sources.items():  # every file as recorded, before any write
        _read(shard, name, record)
    first = shards[0]
    as_of = date.fromisoformat(first.as_of)
    with output_lock(ws):
        previous = Manifest.load(ws.output_dir)
        written = [Written(name, record.source, record.inputs,
                           _copy(ws, shard, name, record))
                   for name, (shard, record) in sources.items()]
        manifest = record_build(ws, previous, first.week, as_of, written, projects)
        write_index(as_of, first.week, manifest)
    return MergeReport(len(shards), len(written), ws.output_dir)


def _check_one_build(ws: Workspace, shards: list[ShardOutput]) -> None:
    """The shards are the N shares of one build, by this planforge, of this workspace as it is
    checked out here (the index is rendered here, from its templates and settings)."""
    for shard in shards:
        if shard.planforge != __version__:
            raise WorkspaceError(
                f"{shard.folder}: built by planforge {shard.planforge}, and this is planforge "
                f"{__version__}; build the shards and merge them with the same planforge")
    first = shards[0]
    for shard in shards[1:]:
        if (shard.week, shard.as_of) != (first.week, first.as_of):
            raise WorkspaceError(
                f"{first.folder} holds the week {first.week} (as of {first.as_of}) but "
                f"{shard.folder} the week {shard.week} (as of {shard.as_of}); build every shard "
                "with the same --week")
        if shard.shard.formats != first.shard.formats:
            raise WorkspaceError(
                f"{first.folder} was built with --formats {','.join(first.shard.formats)} but "
                f"{shard.folder} with {','.join(shard.shard.formats)}")
        if shard.shard.count != first.shard.count:
            raise WorkspaceError(
                f"{first.folder} is shard {first.shard.index}/{first.shard.count} but "
                f"{shard.folder} is shard {shard.shard.index}/{shard.shard.count}: the shards "
                "of one build share N")
        if shard.shard.workspace != first.shard.workspace:
            raise WorkspaceError(
                f"{first.folder} and {shard.folder} were built from different workspaces, or "
                "different commits or settings of one")
    count = first.shard.count
    seen: dict[int, ShardOutput] = {}
    for shard in shards:
        if shard.shard.index in seen:
            raise WorkspaceError(f"{seen[shard.shard.index].folder} and {shard.folder} are both "
                                 f"shard {shard.shard.index}/{count}")
        seen[shard.shard.index] = shard
    missing = [f"{i}/{count}" for i in range(1, count + 1) if i not in seen]
    if missing:
        raise WorkspaceError(f"shard {', '.join(missing)} missing: the merge needs all {count} "
                             f"(given: {', '.join(str(s.folder) for s in shards)})")
    if first.shard.workspace != _this_workspace(ws, date.fromisoformat(first.as_of)):
        raise WorkspaceError(
            f"the shards were built from another workspace, or another commit or settings of "
            f"this one, than the one here ({ws.root}); merge in a checkout of the commit the "
            "shards built")


def _this_workspace(ws: Workspace, as_of: date) -> str:
    from .history import history_key
    from .timeline import plan_as_of

    plan = plan_as_of(ws, as_of)
    return workspace_key(shared_inputs(ws, as_of, history_key(ws, as_of)), plan.project_ids())


def _files(shards: list[ShardOutput]) -> dict[str, tuple[ShardOutput, FileRecord]]:
    """Every file to copy, by name, with the shard that holds it. The shards partition the
    outputs, so a name in two shards is an error unless both hold the very same file."""
    found: dict[str, tuple[ShardOutput, FileRecord]] = {}
    for shard in shards:
        for name, record in sorted(shard.manifest.files.items()):
            _check_name(shard, name)
            other = found.get(name)
            if other is not None and other[1].sha256 != record.sha256:
                raise WorkspaceError(f"{other[0].folder} and {shard.folder} hold different "
                                     f"files {name}: shards of one build never do")
            found.setdefault(name, (shard, record))
    return dict(sorted(found.items()))


def _projects(shards: list[ShardOutput]) -> dict[str, ProjectRecord | None]:
    found: dict[str, tuple[ShardOutput, ProjectRecord]] = {}
    for shard in shards:
        for pid, record in shard.manifest.projects.items():
            other = found.get(pid)
            if other is not None and other[1] != record:
                raise WorkspaceError(f"{other[0].folder} and {shard.folder} both built the "
                                     f"project {pid}, differently")
            found.setdefault(pid, (shard, record))
    return {pid: record for pid, (_, record) in sorted(found.items())}


def _check_name(shard: ShardOutput, name: str) -> None:
    """A manifest from an artifact names files inside the output folder, and only documents."""
    path = PurePosixPath(name)
    if (not name or path.is_absolute() or "\\" in name
            or any(part in ("", ".", "..") for part in name.split("/"))
            or name in (MANIFEST, INDEX)):
        raise WorkspaceError(f"{shard.folder / MANIFEST}: lists '{name}', which is no document "
                             "of an output folder")


def _read(shard: ShardOutput, name: str, record: FileRecord) -> bytes:
    path = shard.folder / name
    try:
        data = read_file(path, shard.folder, MAX_PDF_BYTES)
    except FileNotFoundError:
        raise WorkspaceError(f"{path}: missing, though the shard's manifest lists it (an "
                             "incomplete artifact?)") from None
    except (FileRefused, OSError) as exc:
        raise WorkspaceError(f"{path}: {exc}") from None
    if len(data) != record.size or hashlib.sha256(data).hexdigest() != record.sha256:
        raise WorkspaceError(f"{path}: not the file the shard's build wrote (changed or damaged "
                             "since)")
    return data


def _copy(ws: Workspace, shard: ShardOutput, name: str, record: FileRecord) -> Stamp:
    return write_output(ws, name, _read(shard, name, record))
