"""Where a project's files come from: a folder on disk, or a git tree at a commit.

A source hands the loader bytes and the name each file goes by in messages; it neither parses
nor checks. Reading git is not done here: the caller lists the tree and reads its blobs (every
git call lives in one module) and gives the contents to a ``GitTreeSource``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .files import read_file

PROJECT_FILE = "project.yaml"
RETRO_FILE = "retrospective.yaml"
UPDATES_DIR = "updates"


def display_path(path: Path) -> str:
    """How a file is named in messages: relative to the current directory when inside it, so
    that editors and CI annotations can open it; absolute otherwise."""
    # The folder is resolved, not the file: a link is named as the link, not as its target.
    path = path.absolute()
    path = path.parent.resolve() / path.name if path.name not in ("", "..") else path.resolve()
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def lookalike(name: str) -> str | None:
    """The plan file a misnamed one was probably meant to be (``project.yml``, ``Project.YAML``,
    ``retro.yaml``); None for any other file, such as a team's ``notes.yaml``."""
    stem, dot, suffix = name.lower().rpartition(".")
    if not dot or suffix not in ("yaml", "yml"):
        return None
    meant = {"project": PROJECT_FILE, "plan": PROJECT_FILE, "retrospective": RETRO_FILE,
             "retro": RETRO_FILE}
    return meant.get(stem)


def is_project_file(rel: str) -> bool:
    """Whether a path inside a project folder (posix) is one that planforge reads."""
    folder, _, name = rel.rpartition("/")
    if not folder:
        return name in (PROJECT_FILE, RETRO_FILE)
    return folder == UPDATES_DIR and bool(name)


class Source(Protocol):
    """A project's files: paths relative to its folder (posix), their bytes, their names."""

    @property
    def project_id(self) -> str: ...

    def paths(self) -> list[str]:
        """The project's files that planforge reads, sorted."""
        ...

    def read(self, rel: str) -> bytes:
        """The content of one file."""
        ...

    def display(self, rel: str = "") -> str:
        """How a file, or the project folder for "", is named in messages."""
        ...

    def ignored(self) -> list[str]:
        """Files beside the plan that look like plan files but that planforge does not read
        (``project.yml``, ``Project.yaml``): worth a warning, as they are likely mistakes."""
        ...


@dataclass(frozen=True)
class FolderSource:
    """A project folder on disk; files are read when asked for."""

    folder: Path

    @property
    def project_id(self) -> str:
        return self.folder.name

    def paths(self) -> list[str]:
        """The files present, sorted; folders and other non-files among the updates are left
        out (a link counts as a file here, and is refused when read)."""
        found = [rel for rel in (PROJECT_FILE, RETRO_FILE) if (self.folder / rel).is_file()]
        updates = self.folder / UPDATES_DIR
        if updates.is_dir():
            found.extend(
                f"{UPDATES_DIR}/{entry.name}" for entry in updates.iterdir() if entry.is_file()
            )
        return sorted(found)

    def read(self, rel: str) -> bytes:
        """The file's bytes; FileRefused for a link, a special file or one too large."""
        return read_file(self.folder / rel, self.folder)

    def ignored(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(
            entry.name for entry in self.folder.iterdir()
            if entry.name not in (PROJECT_FILE, RETRO_FILE) and lookalike(entry.name)
        )

    def display(self, rel: str = "") -> str:
        return display_path(self.folder / rel if rel else self.folder)


@dataclass(frozen=True)
class GitTreeSource:
    """A project folder as committed: its blobs, already read from the repository."""

    project_id: str
    commit: str
    folder: str  # the project folder relative to the top of the repository, posix
    blobs: Mapping[str, bytes]  # path inside the project folder → content
    # Files taken from a later commit (a week's update committed late): path → that commit.
    later: Mapping[str, str] = field(default_factory=dict)

    def paths(self) -> list[str]:
        return sorted(rel for rel in self.blobs if is_project_file(rel))

    def read(self, rel: str) -> bytes:
        return self.blobs[rel]

    def ignored(self) -> list[str]:
        return []  # the tree was listed for what planforge reads only

    def display(self, rel: str = "") -> str:
        # git's own ``commit:path`` notation: `git show` opens exactly what was checked.
        path = f"{self.folder}/{rel}" if rel else self.folder
        return f"{self.later.get(rel, self.commit)[:7]}:{path}"
