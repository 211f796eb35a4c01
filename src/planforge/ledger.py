"""The send ledger: one line per message a recipient's server (or chat service) accepted, so that
every recipient gets a week's brief once, and a re-send can be told apart from the first.

Channel-neutral: an entry is keyed by its channel ("email" today), its week and its recipient on
that channel (an address, compared without case), so that every channel that delivers a week's
brief goes through the same file and the same exactly-once rule. Each entry also records what the
brief showed (a hash per part, per project: ``content``), which is how a later run tells that a
brief changed after it was sent.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import IO, Any

from .audience import address_key
from .errors import MailError

EMAIL = "email"

#: (channel, week, recipient as compared): the unit of "sent once".
LedgerKey = tuple[str, str, str]


def ledger_key(channel: str, week: str, recipient: str) -> LedgerKey:
    """The key of one recipient's brief of a week on one channel."""
    return (channel, week, address_key(recipient))


@dataclass(frozen=True)
class LedgerEntry:
    """One message the server accepted."""

    week: str
    address: str  # the recipient on its channel: an email address for email
    kind: str
    projects: tuple[str, ...]
    sha256: str  # of the attachment
    message_id: str
    sent_at: str  # ISO 8601, UTC
    channel: str = EMAIL
    revision: int = 0  # 0: the week's first message to this recipient; n: its n-th re-send
    # What the brief showed, per project: part name → hash (see ``sendpolicy.brief_content``).
    content: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def key(self) -> LedgerKey:
        return ledger_key(self.channel, self.week, self.address)

    def sent_on(self, zone: tzinfo) -> date | None:
        """The day it was sent in that time zone; None for an entry without a readable time."""
        try:
            return datetime.fromisoformat(self.sent_at).astimezone(zone).date()
        except ValueError:
            return None

    def to_json(self) -> str:
        data = {**self.__dict__, "projects": list(self.projects)}
        return json.dumps(data, ensure_ascii=False, sort_keys=True)


def _content(value: Any) -> dict[str, dict[str, str]]:
    if not isinstance(value, dict):
        return {}
    return {str(pid): {str(k): str(v) for k, v in parts.items()}
            for pid, parts in value.items() if isinstance(parts, dict)}


def _entry(data: Any) -> LedgerEntry | None:
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), str) for k in ("week", "address")
    ):
        return None
    revision = data.get("revision", 0)
    return LedgerEntry(
        week=data["week"],
        address=data["address"],
        kind=str(data.get("kind", "")),
        projects=tuple(str(p) for p in data.get("projects") or ()),
        sha256=str(data.get("sha256", "")),
        message_id=str(data.get("message_id", "")),
        sent_at=str(data.get("sent_at", "")),
        # Entries written before channels existed are emails.
        channel=str(data.get("channel") or EMAIL),
        revision=revision if isinstance(revision, int) else 0,
        content=_content(data.get("content")),
    )


def parse_ledger(raw: bytes, name: str) -> tuple[list[LedgerEntry], int]:
    """The entries of a ledger file and the length of its intact part.

    An unfinished last line (a crash mid-write) is ignored; any other unreadable line is an
    error, since guessing could send a brief twice or never.
    """
    entries: list[LedgerEntry] = []
    lines = raw.split(b"\n")
    tail = lines.pop()  # after the last newline: empty, or a line whose write was cut off
    offset = 0
    for number, line in enumerate(lines, start=1):
        offset += len(line) + 1
        if not line.strip():
            continue
        try:
            entry = _entry(json.loads(line))
        except ValueError:
            entry = None
        if entry is None:
            raise MailError(f"{name}:{number}: not a record of the send ledger; fix or delete that "
                            "line (each line is one JSON object with week and address)")
        entries.append(entry)
    if tail.strip():
        try:
            entry = _entry(json.loads(tail))
        except ValueError:
            entry = None
        if entry is not None:  # complete but for its newline, e.g. after a hand edit
            entries.append(entry)
            offset += len(tail)
    return entries, offset


def read_ledger(path: Path) -> list[LedgerEntry]:
    """Every entry of a ledger file (none if it does not exist)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    return parse_ledger(raw, str(path))[0]


class Ledger:
    """The send ledger, open for appending and locked against a second ``planforge send``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[LedgerEntry] = []
        self._by_key: dict[LedgerKey, list[LedgerEntry]] = {}
        self.repaired = False  # an unfinished last line was cut off
        self._file: IO[bytes] | None = None

    def __enter__(self) -> Ledger:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            created = not self.path.exists()
            # Held open (and locked) for the whole run; never through a link, never a FIFO.
            flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
            fd = os.open(self.path, flags, 0o666)
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                raise MailError(f"the send ledger {self.path} is not a regular file")
            self._file = os.fdopen(fd, "a+b")
        except OSError as exc:
            raise MailError(f"cannot open the send ledger {self.path}: {exc.strerror}") from None
        try:
            self._lock()
            self._file.seek(0)
            raw = self._file.read()
            self.entries, intact = parse_ledger(raw, str(self.path))
            for entry in self.entries:
                self._count(entry)
            if intact < len(raw):
                # Cut the torn line off, or the next record would be glued to it and lost.
                self._file.truncate(intact)
                self.repaired = True
            elif raw and not raw.endswith(b"\n"):
                self._file.write(b"\n")
            self._sync()
            if created:
                _sync_dir(self.path.parent)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _lock(self) -> None:
        if sys.platform == "win32":  # pragma: no cover - no flock; one sender at a time by hand
            return
        import fcntl

        assert self._file is not None
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise MailError(f"another planforge send is using {self.path}; wait until it has "
                            "finished, then run this again") from None

    def _sync(self) -> None:
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()  # also releases the lock
            self._file = None

    def _count(self, entry: LedgerEntry) -> None:
        self._by_key.setdefault(entry.key, []).append(entry)

    def sent(self, week: str, recipient: str, channel: str = EMAIL) -> list[LedgerEntry]:
        """What went to this recipient for this week on this channel, oldest first."""
        return self._by_key.get(ledger_key(channel, week, recipient), [])

    def count(self, week: str, recipient: str, channel: str = EMAIL) -> int:
        """How many times this week's brief went to this recipient."""
        return len(self.sent(week, recipient, channel))

    def resent_on(self, day: date, recipient: str, zone: tzinfo, channel: str = EMAIL) -> int:
        """How many re-sends (of any week's brief) went to this recipient on ``day``."""
        key = address_key(recipient)
        return sum(1 for e in self.entries
                   if e.revision and e.channel == channel and address_key(e.address) == key
                   and e.sent_on(zone) == day)

    def record(self, entry: LedgerEntry) -> None:
        """Append one entry and make it durable before anything else is sent."""
        assert self._file is not None
        try:
            self._file.write(entry.to_json().encode() + b"\n")
            self._sync()
        except OSError as exc:
            raise MailError(
                f"the message to {entry.address} was accepted but cannot be recorded in "
                f"{self.path}: {exc.strerror}; it may go out again on the next run"
            ) from None
        self.entries.append(entry)
        self._count(entry)


def _sync_dir(folder: Path) -> None:
    # A new file's directory entry survives a power cut only once the directory is synced.
    if sys.platform == "win32":  # pragma: no cover
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
