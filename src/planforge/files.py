"""Reading a workspace's files, which are untrusted input: a workspace may come from a pull
request. A file is read only if it is a regular file reached without a symbolic link below the
folder it belongs to, and only if its size is within a limit checked before reading."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .errors import PlanforgeError

#: Files larger than this are not plans, templates or label catalogs; refusing them before
#: reading bounds time and memory (a 3 GB file is refused at once, not after reading it).
MAX_FILE_BYTES = 4 * 1024 * 1024


class FileRefused(PlanforgeError):
    """A workspace file planforge will not read; ``str()`` says why, ``path`` which file."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(reason)
        self.path = path


LINK_REFUSED = "a symbolic link: planforge reads no file through a link"


def no_link_below(root: Path, path: Path) -> None:
    """Refuse a path that leaves ``root`` or passes through a symbolic link on the way down;
    the root itself is the caller's to trust."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        raise FileRefused(path, f"outside {root.name}/") from None
    if ".." in parts:
        raise FileRefused(path, f"outside {root.name}/")
    here = root
    for part in parts:
        here = here / part
        if here.is_symlink():
            raise FileRefused(path, LINK_REFUSED)


def read_file(path: Path, root: Path | None = None, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; with ``root``, also refused when
    reached through a symbolic link below ``root``. Raises FileRefused or OSError."""
    if root is not None:
        no_link_below(root, path)
    # O_NOFOLLOW closes the gap between the check above and the open for the file itself;
    # O_NONBLOCK keeps a FIFO from blocking the open (it is then refused as not a regular file).
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # the file itself is a link
            raise FileRefused(path, LINK_REFUSED) from None
        raise
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(path, "not a regular file")
        if info.st_size > limit:
            raise FileRefused(path, f"file too large ({_size(info.st_size)}; the limit is "
                                    f"{_size(limit)})")
        data = handle.read(limit + 1)  # a file that grows while read is still bounded
    if len(data) > limit:
        raise FileRefused(path, f"file too large (over {_size(limit)})")
    return data


def logo_problem(name: str, data: bytes) -> str | None:
    """Why an image cannot be a workspace's logo, or None. An SVG is a program of sorts: nested
    <use> elements or entities grow exponentially while it is drawn (a logo of a few hundred
    bytes held the PDF renderer for minutes), so an SVG logo may hold neither."""
    if not name.lower().endswith((".svg", ".svgz")):
        return None
    text = data.decode("utf-8", "replace").lower()
    for marker, what in (("<use", "<use> elements"), ("<!entity", "entities"),
                         ("<!doctype", "a DOCTYPE")):
        if marker in text:
            return f"an SVG logo may not hold {what}; export it flat, or use a PNG"
    return None


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MiB" if n >= 1024 * 1024 else f"{n:,} bytes"
