"""The projects this planforge loaded today, kept so that the same files are not parsed and
validated again: a project whose files, date, health settings and planforge (its version, its
code and its schemas) are all the same loads as it did, warnings included.

Parsing and validating is half of a Markdown build; a second build of the day, a render after
a build, or a preview before a send then load from here. Only projects that loaded without
error are kept, so every mistake is always found again, and ``planforge validate`` never reads
the cache. Kept under the user's cache folder (``PLANFORGE_CACHE``, else
``$XDG_CACHE_HOME/planforge`` or ``~/.cache/planforge``), never in the workspace: an entry is
a pickle, and a workspace may come from a pull request. ``PLANFORGE_CACHE=off`` turns it off.
Entries of an earlier day or another planforge are removed as today's are written.
"""

from __future__ import annotations

import hashlib
import pickle
import shutil
from collections.abc import Iterable
from datetime import date
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from .usercache import cache_root, digest, write_entry

PACKAGE = Path(__file__).resolve().parent


@cache
def planforge_stamp() -> str:
    """What decides how files load: the version, and every module and schema of the package
    (an editable install changes code without changing its version)."""
    from . import __version__

    sha = hashlib.sha256(__version__.encode())
    for path in sorted(PACKAGE.rglob("*.py")):
        sha.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes())
    for schema in sorted(schema_folder().iterdir(), key=lambda s: s.name):
        if schema.name.endswith(".json"):
            sha.update(schema.name.encode() + b"\0" + schema.read_bytes())
    return sha.hexdigest()[:32]


def schema_folder() -> Traversable:
    """The schemas planforge validates with (shipped as the package planforge.schemas)."""
    return resources.files("planforge.schemas")


def entry_key(parts: Iterable[Any]) -> str:
    """The key of an entry: a hash of everything the loaded project depends on."""
    return digest(*(repr(part) for part in parts))


def _folder(today: date) -> Path | None:
    root = cache_root()
    return None if root is None else root / "projects" / planforge_stamp() / today.isoformat()


def get(key: str, today: date) -> Any | None:
    """The value kept under ``key`` today, or None."""
    folder = _folder(today)
    if folder is None:
        return None
    try:
        data = (folder / f"{key}.pickle").read_bytes()
        return pickle.loads(data)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None  # nothing kept, or an entry cut short: load as if never kept


def put(key: str, today: date, value: Any) -> None:
    """Keep ``value`` under ``key`` for today; a cache that cannot be written is no cache."""
    folder = _folder(today)
    if folder is None:
        return
    try:
        if not folder.is_dir():
            _forget_others(folder)
            folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    write_entry(folder / f"{key}.pickle", pickle.dumps(value, pickle.HIGHEST_PROTOCOL))


def _forget_others(today_folder: Path) -> None:
    """Remove what other days and other planforges kept: it can never be read again."""
    projects = today_folder.parent.parent
    if not projects.is_dir():
        return
    for stamp in projects.iterdir():
        for day in (stamp.iterdir() if stamp.is_dir() else []):
            if day != today_folder:
                shutil.rmtree(day, ignore_errors=True)
        if stamp != today_folder.parent:
            shutil.rmtree(stamp, ignore_errors=True)
