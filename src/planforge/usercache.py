"""The per-user cache of work that depends only on planforge's own inputs (compiled schema
checks, compiled templates, the PDF fonts' index), so that one command in a new process does not
pay again for what the last one already did.

Nothing here holds a workspace's data. Every entry is named by a digest of everything it was made
from, so a changed input is a new name and never a stale hit; a folder that cannot be written
only means the work is done again in memory.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import CodeType

#: The environment variable that names the cache folder, or turns the cache off.
CACHE_VARIABLE = "PLANFORGE_CACHE"


def cache_root() -> Path | None:
    """The user's cache folder (``PLANFORGE_CACHE``, else ``$XDG_CACHE_HOME/planforge`` or
    ``~/.cache/planforge``), or None when ``PLANFORGE_CACHE=off`` turns it off."""
    chosen = os.environ.get(CACHE_VARIABLE, "")
    if chosen.lower() in ("off", "0", "no", "false"):
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "planforge"


def cache_dir(kind: str) -> Path | None:
    """The folder for one kind of entry, created on first use; None when the cache is off or
    the folder cannot be written."""
    root = cache_root()
    if root is None:
        return None
    folder = root / kind
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


def digest(*parts: str | bytes) -> str:
    """A name for an entry made from ``parts`` (hex of a SHA-256)."""
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part.encode() if isinstance(part, str) else part)
        sha.update(b"\0")
    return sha.hexdigest()


def write_entry(path: Path, data: bytes) -> None:
    """Write through a temporary file, so a process reading at the same time sees the whole
    entry or none."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)


def compiled_code(kind: str, key: str, source: Callable[[], str], filename: str) -> CodeType:
    """Python ``source()`` compiled, read from the cache under ``key`` when it is there: compiling
    a large generated module costs far more than loading its bytecode."""
    path = _code_path(kind, key)
    code = _read_code(path)
    if code is None:
        code = compile(source(), filename, "exec")
        if path is not None:
            write_entry(path, marshal.dumps(code))
    return code


def cached_code(kind: str, key: str) -> CodeType | None:
    """The code ``compiled_code`` kept under ``key``, if the cache holds it."""
    return _read_code(_code_path(kind, key))


def _read_code(path: Path | None) -> CodeType | None:
    if path is None:
        return None
    try:
        code = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return code if isinstance(code, CodeType) else None


def _code_path(kind: str, key: str) -> Path | None:
    folder = cache_dir(kind)
    # Bytecode is valid only for the interpreter that wrote it.
    return folder / f"{digest(key, sys.implementation.cache_tag or '')}.bin" if folder else None
