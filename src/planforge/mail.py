"""Email the weekly briefs: compose ``EmailMessage``s with the PDF attached and deliver them over
SMTP, recording each in the send ledger (``ledger``), so that every address gets one email per week
and no more.

The only module that imports ``smtplib`` and ``email``. Rendering is injected (``RenderPdf``), so
the SMTP behaviour can be exercised without the PDF stack.

Delivery is *exactly once* as far as a client can make it: a message is recorded in the ledger
only after the server accepted it, one fsync'd line per message, and a rerun sends only what the
ledger lacks. The one window left is a connection lost after the message was transmitted but
before the server's answer arrived: the client cannot know, retries, and the recipient may get a
second copy. It carries the same deterministic ``Message-ID``, which mail clients use to fold the
two together; a lost brief would be worse.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import smtplib
import ssl
import time
import unicodedata
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from pathlib import Path
from typing import Literal

from .audience import (
    Recipient,
    address_key,
    brief_locale,
    brief_recipients,
    recipients,
    without_address,
)
from .documents import render_email
from .errors import MailError, PlanforgeError, UsageError
from .facts import ProjectFacts, compute_facts
from .i18n import translator
from .ledger import Ledger, LedgerEntry
from .model import EmailSettings, Project, SmtpSettings
from .outputs import BuiltOutputs, ledger_path, outbox_dir, write_atomic
from .schema import is_address
from .sendpolicy import ADDED, Held, brief_content, decide, held_projects
from .workspace import Workspace, fill_subject

PASSWORD_ENV = "PLANFORGE_SMTP_PASSWORD"
ATTEMPTS = 3  # per message: the first try and two retries
BACKOFF_SECONDS = 2.0  # waits 2 s, then 4 s: long enough for a greylisting or a 421 "busy"

#: Renders the PDF one address receives: its project's brief, or a portfolio brief when it
#: follows several projects.
RenderPdf = Callable[[str, Sequence[Project]], bytes]
#: Makes the calendar one address receives (``email.attach_calendar``), given the ids of the
#: projects whose brief it receives: ``build``'s file when current, else ``feeds``.
RenderCalendar = Callable[[str, Sequence[str]], bytes]
OutcomeKind = Literal["sent", "skipped", "failed", "written", "held"]

# ---------------------------------------------------------------------------------------------
# Text that goes into headers and file names
# ---------------------------------------------------------------------------------------------

# Deliberately narrower than RFC 5321: no spaces, quotes, brackets, commas or control characters,
# so an address can go into an envelope, a header and a file name without any escaping.
_FILENAME_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


def one_line(text: str) -> str:
    """Text safe for a header: every line break and control character becomes a space.

    ``str.split()`` also splits on the Unicode line separators (U+2028, U+0085, ...), which the
    email package would otherwise count as line breaks too.
    """
    visible = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return " ".join(visible.split())


def _filename_part(text: str) -> str:
    # Readable, in the customer's own script, and safe on every file system.
    part = _FILENAME_UNSAFE.sub("-", unicodedata.normalize("NFC", one_line(text)))
    return re.sub(r"-{2,}", "-", part).strip("-.")[:80]


# ---------------------------------------------------------------------------------------------
# Planning: who gets what
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutgoingMessage:
    """One email to one address for one week, ready to compose; the PDF is rendered on demand,
    so a rerun renders only what it still has to send."""

    week: str
    address: str  # the envelope recipient, as written in the project (or on --to)
    name: str | None  # display name in the To header
    kind: Literal["brief", "portfolio"]
    project_ids: tuple[str, ...]
    locale: str
    subject: str
    filename: str  # of the attached PDF
    text: str
    html: str
    pdf: Callable[[], bytes] = field(repr=False, compare=False)
    # What the brief shows, per project (``sendpolicy.brief_content``), recorded in the ledger.
    content: dict[str, dict[str, str]] = field(default_factory=dict, compare=False)
    reply_to: tuple[tuple[str, str], ...] = ()  # the projects' coordinators: (name, address)
    updated: str | None = None  # the "Updated: ..." line of a re-sent brief
    sent_projects: tuple[str, ...] = ()  # of a re-send: the projects the recipient already had
    reviser: Callable[[OutgoingMessage, Sequence[str]], OutgoingMessage] | None = field(
        default=None, repr=False, compare=False)
    # The recipient's calendar (.ics), made on demand; None: no calendar attached.
    calendar: Callable[[], bytes] | None = field(default=None, repr=False, compare=False)
    calendar_filename: str = ""

    @property
    def key(self) -> str:
        return address_key(self.address)

    def as_update(self, changes: Sequence[str], sent: Iterable[str]) -> OutgoingMessage:
        """This message re-sent: its subject and first line say "Updated" and what changed."""
        msg = replace(self, sent_projects=tuple(sent))
        return msg.reviser(msg, changes) if msg.reviser is not None else msg


@dataclass(frozen=True)
class MailPlan:
    """The messages of a week, and notes on recipients that get none (no address, ...)."""

    week: str
    messages: tuple[OutgoingMessage, ...]
    notes: tuple[str, ...] = ()
    held: tuple[Held, ...] = ()  # projects whose brief waits (sendpolicy)


@dataclass(frozen=True)
class _Member:
    project: Project
    person_id: str
    name: str
    address: str
    brief: bool


def subject_for(template: str, project: Project, week: str) -> str:
    """The subject of a one-project brief from the workspace's ``email.subject`` template."""
    values = {"project": one_line(project.name), "customer": one_line(project.customer),
              "week": week}
    try:
        return one_line(fill_subject(template, values))
    except ValueError as exc:
        raise MailError(f"email.subject in planforge.yaml: {exc}") from None


def _default_render(ws: Workspace, as_of: date, built: BuiltOutputs | None,
                    facts: Mapping[str, ProjectFacts]) -> RenderPdf:
    def render(address: str, projects: Sequence[Project]) -> bytes:
        # What `planforge build` already made from the same inputs is attached as it is.
        if built is not None:
            current = (built.brief(projects[0].id) if len(projects) == 1
                       else built.portfolio(address, [p.id for p in projects]))
            if current is not None:
                return current
        # Imported here: planning and the SMTP code must not need the PDF stack.
        from .documents import render_document, render_portfolio
        from .history import changes_since_last_week

        changes = {p.id: changes_since_last_week(ws, p, as_of) for p in projects}
        if len(projects) == 1:
            one = projects[0]
            return render_document(ws, one, "brief", as_of, "pdf", changes[one.id], None,
                                   facts.get(one.id))
        return render_portfolio(ws, address, list(projects), as_of, "pdf", changes, facts)

    return render


def _default_calendar(ws: Workspace, as_of: date, built: BuiltOutputs | None) -> RenderCalendar:
    def calendar(address: str, project_ids: Sequence[str]) -> bytes:
        # The file `planforge build` wrote from the same inputs is attached as it is.
        if built is not None:
            current = built.calendar(address, project_ids)
            if current is not None:
                return current
        # Imported here: only a workspace that attaches calendars needs icalendar to send.
        from .feeds import sales_calendar

        return sales_calendar(ws, address, as_of)

    return calendar


def _with_calendar(ws: Workspace, msg: OutgoingMessage, projects: Sequence[Project],
                   calendar: RenderCalendar, on: date) -> OutgoingMessage:
    """The message with its recipient's calendar: the one ``build`` writes for the address,
    over every active project whose brief it receives. An address that receives none (an
    extra ``--to``) has no calendar, so gets none."""
    ids = tuple(sorted(p.id for p in projects if msg.key in brief_recipients(p, on)))
    if not ids:
        return msg
    name = _filename_part(translator(msg.locale, ws.templates_dir).label("email.calendar_file"))
    return replace(msg, calendar=lambda: calendar(msg.key, ids),
                   calendar_filename=f"{name or 'calendar'}.ics")


def _members(projects: Iterable[Project], on: date) -> list[_Member]:
    """The people with an address who are on their project on ``on``: ``--to`` never names
    someone who has left."""
    return [
        _Member(p, pid, person.name, person.email.strip(), person.brief)
        for p in projects
        for pid, person in p.people.items()
        if person.email and person.email.strip() and person.active_on(on)
    ]


def _resolve_to(
    tokens: Sequence[str], ws: Workspace, active: list[Project], members: list[_Member]
) -> list[tuple[str, str | None]]:
    """``--to`` values as (address, name), in order, without duplicates; a value that names
    nobody is a usage error."""
    lists = ws.settings.email.lists
    ids = {p.id for p in active}
    out: list[tuple[str, str | None]] = []
    for token in tokens:
        token = token.strip()
        if "@" in token or token in lists:
            for address in [token] if "@" in token else lists[token]:
                # A known person's address as the project writes it, with their name.
                named = [m for m in members if address_key(m.address) == address_key(address)]
                out.append((named[0].address, named[0].name) if named else (address, None))
        elif ":" in token:
            project_id, _, person_id = token.partition(":")
            if project_id not in ids:
                raise UsageError(f"--to {token}: '{project_id}' is not an active project "
                                f"(active: {', '.join(sorted(ids)) or 'none'})")
            found = [m for m in members if m.project.id == project_id and m.person_id == person_id]
            if not found:
                raise UsageError(f"--to {token}: no person '{person_id}' with an email address in "
                                f"project {project_id}")
            out.append((found[0].address, found[0].name))
        else:
            found = [m for m in members if m.person_id == token]
            addresses = {address_key(m.address) for m in found}
            if not found:
                known = ", ".join(sorted(lists)) or "none"
                raise UsageError(
                    f"--to {token}: not an address, a list in planforge.yaml (lists: {known}) or "
                    "a person with an email address in an active project"
                )
            if len(addresses) > 1:
                choices = ", ".join(sorted(f"{m.project.id}:{m.person_id}" for m in found))
                raise UsageError(f"--to {token}: that id names different people; write one of "
                                f"{choices}")
            out.append((found[0].address, found[0].name))
    seen: set[str] = set()
    unique = []
    for address, name in out:
        if address_key(address) not in seen:
            seen.add(address_key(address))
            unique.append((address, name))
    return unique


def _recipients(
    ws: Workspace, active: list[Project], to: Sequence[str] | None, closing: frozenset[str],
    on: date,
) -> tuple[list[Recipient], list[str]]:
    usual = {r.key: r for r in recipients(active, on, closing)}
    if not to:
        notes = [f"{p.id}:{pid} ({one_line(person.name)}) receives the brief but has no email "
                 "address" for p in active for pid, person in without_address(p, on)]
        return list(usual.values()), notes
    members = _members(active, on)
    by_key: dict[str, Recipient] = {}
    for address, name in _resolve_to(to, ws, active, members):
        key = address_key(address)
        # What they would get anyway; else every project they belong to; else (a manager on a
        # list, not in any project) every active project.
        theirs = {m.project.id: m.project for m in members if address_key(m.address) == key}
        projects = (usual[key].projects if key in usual
                    else tuple(theirs.values()) or tuple(active))
        by_key[key] = Recipient(address, name, projects)
    return list(by_key.values()), []


def plan_messages(
    ws: Workspace,
    week: str,
    as_of: date,
    to: Sequence[str] | None = None,
    render: RenderPdf | None = None,
    projects: Sequence[Project] | None = None,
    built: BuiltOutputs | None = None,
    calendar: RenderCalendar | None = None,
) -> MailPlan:
    """The messages of a week: one per address, with a brief or, for several projects, a
    portfolio brief (``audience``). ``to`` replaces the usual recipients. Without ``render``,
    PDFs are rendered, or taken from ``built`` where a build made them from the same inputs.
    ``projects`` default to those of the week, read from history for a past week
    (``timeline``). With ``email.attach_calendar``, each message carries its recipient's
    calendar, made by ``calendar`` or taken from ``built`` like the PDF."""
    notice = None
    if projects is None:
        from .timeline import plan_as_of

        dated = plan_as_of(ws, as_of, week)
        projects, notice = dated.load_all(ws), dated.notice
    active = sorted((p for p in projects if p.status == "active"), key=lambda p: p.id)
    ready, held = held_projects(active, week, ws.settings.email)
    from .timeline import closing_projects

    closing = closing_projects(ws, projects, week)
    sendable = sorted([*ready, *(p for p in projects if p.id in closing)], key=lambda p: p.id)
    recipients, notes = _recipients(ws, sendable, to, closing, as_of)
    if notice:
        notes.insert(0, notice)
    from .timeline import first_promised

    # The dates first promised, so that the email and its brief both show a re-baseline.
    facts = {p.id: compute_facts(p, as_of, ws.settings, first_promised(ws, p.id, as_of))
             for p in sendable}
    render = render or _default_render(ws, as_of, built, facts)
    messages = [_message(ws, r, week, render, facts, as_of)
                for r in sorted(recipients, key=lambda r: address_key(r.address))]
    if ws.settings.email.attach_calendar:
        calendar = calendar or _default_calendar(ws, as_of, built)
        messages = [_with_calendar(ws, m, projects, calendar, as_of) for m in messages]
    return MailPlan(week, tuple(messages), tuple(notes), tuple(held))


def _coordinators(projects: Sequence[Project], on: date) -> tuple[tuple[str, str], ...]:
    """The coordinators of these projects on ``on`` who have an email address, as (name,
    address)."""
    out: dict[str, tuple[str, str]] = {}
    for p in projects:
        pid = p.communication.coordinator if p.communication else None
        person = p.people.get(pid) if pid else None
        if (person is not None and person.active_on(on) and person.email
                and is_address(person.email.strip())):
            address = person.email.strip()
            out.setdefault(address_key(address), (one_line(person.name), address))
    return tuple(out.values())


def _message(ws: Workspace, r: Recipient, week: str, render: RenderPdf,
             facts: dict[str, ProjectFacts], on: date) -> OutgoingMessage:
    settings = ws.settings
    projects = sorted(r.projects, key=lambda p: p.id)
    locale = brief_locale(projects, settings.locale)
    tr = translator(locale, ws.templates_dir)
    if not r.portfolio:
        p = projects[0]
        kind: Literal["brief", "portfolio"] = "brief"
        template = settings.email.subject
        if template == EmailSettings.subject:  # not set in planforge.yaml: say it in the language
            template = tr.label("email.subject")
        subject = subject_for(template, p, week)
        filename = "-".join(x for x in (_filename_part(p.customer), p.id, week) if x) + ".pdf"
    else:
        kind = "portfolio"
        subject = one_line(tr.label("email.portfolio_subject", week=week))
        filename = f"{_filename_part(tr.label('email.portfolio_file'))}-{week}.pdf"
    shown = [facts[p.id] for p in projects]
    text, html = render_email(ws, shown, week, locale, filename)
    address = r.address
    names = {p.id: one_line(p.name) for p in projects}

    def pdf() -> bytes:
        return render(address, projects)

    def revise(msg: OutgoingMessage, changes: Sequence[str]) -> OutgoingMessage:
        # "Updated" and what changed, in the language of the brief.
        added = [names[pid] for pid in msg.project_ids if pid not in msg.sent_projects]
        what = [tr.label(f"email.changed_{c}") for c in changes if c != ADDED]
        what += [tr.label("email.changed_added", project=n) for n in added]
        listed = tr.label("email.comma").join(what)
        line = one_line(tr.label("email.updated", changes=listed))
        new_text, new_html = render_email(ws, shown, week, locale, filename, line)
        new_subject = tr.label("email.updated_subject", changes=listed, subject=subject)
        return replace(msg, subject=one_line(new_subject),
                       text=new_text, html=new_html, updated=line)

    return OutgoingMessage(
        week=week,
        address=address,
        name=one_line(r.name) if r.name else None,
        kind=kind,
        project_ids=tuple(p.id for p in projects),
        locale=locale,
        subject=subject,
        filename=filename,
        text=text,
        html=html,
        pdf=pdf,
        content={p.id: brief_content(p, week) for p in projects},
        reply_to=_coordinators(projects, on),
        reviser=revise,
    )


# ---------------------------------------------------------------------------------------------
# Composing
# ---------------------------------------------------------------------------------------------


def _parse_sender(text: str, key: str) -> Address:
    pairs = getaddresses([one_line(text)])
    if len(pairs) != 1 or not is_address(pairs[0][1]):
        raise MailError(f"email.{key} in planforge.yaml: '{one_line(text)}' is not one email "
                        "address (write pmo@example.com or \"Northwind PMO <pmo@example.com>\")")
    name, addr = pairs[0]
    return Address(display_name=one_line(name), addr_spec=addr)


def message_id(week: str, address: str, domain: str, resend: int = 0) -> str:
    """A Message-ID fixed by week and address, so a copy sent twice by a retry reads as one
    message in the recipient's mail client; a deliberate resend gets a new one."""
    token = hashlib.sha256(f"{week}\n{address_key(address)}".encode()).hexdigest()[:24]
    suffix = f".r{resend}" if resend else ""
    return f"<planforge.{week}.{token}{suffix}@{domain}>"


# Display names written as they are: atext and spaces (RFC 5322), no '?' so no "=?" either.
_PLAIN_PHRASE = re.compile(r"[A-Za-z0-9 !#$%&'*+/=^_`{|}~-]*")
_PLAIN_TEXT = re.compile(r"[\x20-\x7e]*")
_WORD_BYTES = 45  # UTF-8 bytes per encoded word: 60 base64 characters, a line under 78


def _encoded_words(text: str) -> str:
    """Text as RFC 2047 base64 encoded words, split between characters, one per folded line."""
    words, chunk = [], b""
    for char in text:
        raw = char.encode("utf-8")
        if len(chunk) + len(raw) > _WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += raw
    words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


class _SelfEncoded(str):
    """A header value planforge encoded itself, which the email package stores and writes as it
    is. Handing it text instead would be unsafe: Python's email package decodes encoded words
    while folding, so a name such as ``=?utf-8?q?=0D=0ABcc=3A...?=`` became a real line break
    and a header of its own (CVE-2024-6923, in the Python versions still common). ``str()`` is
    the text, as a parsed header's would be."""

    name: str
    _folded: str

    def __new__(cls, name: str, text: str, encoded: str) -> _SelfEncoded:
        value = super().__new__(cls, text)
        value.name, value._folded = name, f"{name}: {encoded}"
        return value

    def fold(self, *, policy: policy.Policy) -> str:
        return self._folded.replace("\r\n", policy.linesep) + policy.linesep


def _text_header(name: str, text: str) -> _SelfEncoded:
    """An unstructured header (the subject): as it is when plain ASCII, else encoded words."""
    text = one_line(text)
    plain = _PLAIN_TEXT.fullmatch(text) and "=?" not in text and len(text) <= 900
    return _SelfEncoded(name, text, text if plain else _encoded_words(text))


def _address_header(name: str, address: Address) -> _SelfEncoded:
    """An address header whose display name is plain atext, else encoded words; the address was
    checked to need no escaping."""
    display = one_line(address.display_name)
    if not display:
        return _SelfEncoded(name, address.addr_spec, address.addr_spec)
    phrase = display if _PLAIN_PHRASE.fullmatch(display) and len(display) <= 200 \
        else _encoded_words(display)
    return _SelfEncoded(name, f"{display} <{address.addr_spec}>",
                        f"{phrase} <{address.addr_spec}>")


# What may stand in a quoted parameter for every mail client: no quote, backslash or space.
_ASCII_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_CONTINUATION_CHARS = 60  # of a percent-encoded name per folded line


def _ascii_filename(name: str, default: str = "attachment") -> str:
    """The file name for mail clients that predate RFC 2231: accents dropped, any other
    character outside ``A-Z a-z 0-9 . _ -`` replaced by '_', the extension kept; ``default``
    where nothing of the name is left (a Chinese one)."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    parts = []
    for text in (stem, ext):
        bare = "".join(ch for ch in unicodedata.normalize("NFKD", text)
                       if not unicodedata.combining(ch))
        parts.append(_ASCII_NAME_UNSAFE.sub("_", bare).strip("_-."))
    stem, ext = parts[0] or default, parts[1]
    return f"{stem}.{ext}" if ext else stem


def _rfc2231(param: str, value: str) -> list[str]:
    """A parameter as RFC 2231 UTF-8, cut into numbered continuations that each fit a line."""
    chunks, chunk = [], ""
    for piece in re.findall(r"%[0-9A-F]{2}|[^%]", urllib.parse.quote(value, safe="")):
        if len(chunk) + len(piece) > _CONTINUATION_CHARS:
            chunks.append(chunk)
            chunk = ""
        chunk += piece
    chunks.append(chunk)
    chunks[0] = "utf-8''" + chunks[0]
    if len(chunks) == 1:
        return [f"{param}*={chunks[0]}"]
    return [f"{param}*{i}*={chunk}" for i, chunk in enumerate(chunks)]


def _params_header(name: str, value: str, params: Sequence[str]) -> _SelfEncoded:
    """A MIME header with parameters, one parameter per folded line."""
    return _SelfEncoded(name, "; ".join([value, *params]), ";\r\n ".join([value, *params]))


def _attachment_headers(filename: str, mime: str = "application/pdf",
                        params: Sequence[str] = (), default: str = "attachment",
                        ) -> tuple[_SelfEncoded, _SelfEncoded]:
    """Content-Type and Content-Disposition of an attachment: the name in RFC 2231 when it is
    not plain ASCII, and always a quoted ASCII name as well, which older mail clients read."""
    fallback = _ascii_filename(filename, default)
    # The RFC 2231 form comes first: Python's email parser keeps the first of the two.
    names = [] if fallback == filename else _rfc2231("filename", filename)
    return (_params_header("Content-Type", mime, [*params, f'name="{fallback}"']),
            _params_header("Content-Disposition", "attachment",
                           [*names, f'filename="{fallback}"']))


def compose(
    msg: OutgoingMessage,
    pdf: bytes,
    *,
    sender: Address,
    reply_to: Address | None = None,
    msg_id: str | None = None,
    now: datetime | None = None,
    calendar: bytes | None = None,
) -> EmailMessage:
    """The email itself: text and HTML alternatives, the PDF and, if given, the recipient's
    calendar; every header on one line."""
    if not is_address(msg.address):
        raise MailError(f"'{one_line(msg.address)}' is not a valid email address")
    out = EmailMessage(policy=policy.SMTP)
    # Every header with text from the workspace is encoded here, never by the email package.
    out["From"] = _address_header("From", sender)
    out["To"] = _address_header("To", Address(display_name=msg.name or "",
                                              addr_spec=msg.address))
    # Replies go where planforge.yaml says, else to the coordinators of the brief's projects.
    replies = [reply_to] if reply_to is not None else [
        Address(display_name=name, addr_spec=address) for name, address in msg.reply_to]
    if replies:
        heads = [_address_header("Reply-To", a) for a in replies]
        out["Reply-To"] = _SelfEncoded("Reply-To", ", ".join(heads),
                                       ",\r\n ".join(h._folded.removeprefix("Reply-To: ")
                                                      for h in heads))
    out["Subject"] = _text_header("Subject", msg.subject)
    out["Date"] = format_datetime(now or datetime.now(UTC))
    out["Message-ID"] = msg_id or message_id(msg.week, msg.address, sender.domain)
    # RFC 3834: out-of-office replies should not answer a machine.
    out["Auto-Submitted"] = "auto-generated"
    out.set_content(msg.text)
    out.add_alternative(msg.html, subtype="html")
    out.add_attachment(pdf, maintype="application", subtype="pdf")
    (part,) = out.iter_attachments()
    content_type, disposition = _attachment_headers(one_line(msg.filename))
    part.replace_header("Content-Type", content_type)
    part.replace_header("Content-Disposition", disposition)
    if calendar is not None:
        _attach_calendar(out, calendar, msg.calendar_filename or "calendar.ics")
    return out


def _attach_calendar(out: EmailMessage, calendar: bytes, filename: str) -> None:
    """The calendar as a file to import or subscribe to, never a meeting invitation.

    RFC 6047 makes a text/calendar part iMIP, with the ``method`` parameter equal to the
    object's METHOD: PUBLISH carries no ORGANIZER or ATTENDEE, so there is nothing to accept or
    decline. Outlook looks for invitations only in the first part of a multipart/mixed message
    and treats calendar data elsewhere as an .ics attachment; an attachment (not an alternative
    of the text) is what clients offer to open or import. Base64 keeps the CRLF line ends
    RFC 5545 requires.
    """
    out.add_attachment(calendar, maintype="text", subtype="calendar")
    part = list(out.iter_attachments())[-1]
    content_type, disposition = _attachment_headers(
        one_line(filename), "text/calendar", ['charset="utf-8"', "method=PUBLISH"],
        default="calendar")
    part.replace_header("Content-Type", content_type)
    part.replace_header("Content-Disposition", disposition)


# ---------------------------------------------------------------------------------------------
# Delivery
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What became of one message."""

    address: str
    projects: tuple[str, ...]
    detail: str  # sent: the Message-ID; skipped or failed: the reason; written: the file


@dataclass
class SendReport:
    """Every message, sorted by what became of it."""

    sent: list[Outcome] = field(default_factory=list)
    skipped: list[Outcome] = field(default_factory=list)  # already in the ledger
    failed: list[Outcome] = field(default_factory=list)
    written: list[Outcome] = field(default_factory=list)  # --dry-run
    held: list[Outcome] = field(default_factory=list)  # waits: no update yet, or one a day
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


class SendAborted(MailError):
    """Sending stopped for every message (login refused, server unreachable, ...); carries the
    report of what was sent before."""

    def __init__(self, message: str, report: SendReport) -> None:
        done = len(report.sent)
        if done:
            message += (f"\n{done} message{'s' * (done != 1)} had been sent and recorded before "
                        "this; running the same command again sends only the rest.")
        else:
            message += "\nNothing was sent."
        super().__init__(message)
        self.report = report


class _Temporary(Exception):
    """Worth another attempt, on a new connection."""

    def __init__(self, reason: str, *, connecting: bool) -> None:
        super().__init__(reason)
        self.connecting = connecting  # the server could not even be reached


class _Permanent(Exception):
    """This message will never go through; the others may."""


class _Fatal(Exception):
    """No message will go through."""


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) \
        else str(exc.smtp_error)
    return f"{exc.smtp_code} {one_line(text)}"


class _Connection:
    """One SMTP session, opened on first use and again after a failure."""

    def __init__(self, smtp: SmtpSettings, context: ssl.SSLContext, password: str | None) -> None:
        self.smtp = smtp
        self.port = smtp.address[1]
        self.where = f"{smtp.host}:{self.port}"
        self.context = context
        self.password = password
        self.client: smtplib.SMTP | None = None

    def open(self) -> smtplib.SMTP:
        if self.client is not None:
            return self.client
        s = self.smtp
        client: smtplib.SMTP | None = None
        try:
            if s.security == "ssl":
                client = smtplib.SMTP_SSL(s.host, self.port, timeout=s.timeout,
                                          context=self.context)
            else:
                client = smtplib.SMTP(s.host, self.port, timeout=s.timeout)
            client.ehlo()
            if s.security == "starttls":
                client.starttls(context=self.context)
                client.ehlo()
            if s.username:
                client.login(s.username, self.password or "")
        except OSError as exc:  # smtplib.SMTPException is an OSError too
            if client is not None:
                client.close()
            raise self._classify(exc, connecting=True) from None
        self.client = client
        return client

    def send(self, sender: str, recipient: str, data: bytes) -> None:
        client = self.open()
        try:
            client.sendmail(sender, [recipient], data)
        except OSError as exc:
            failure = self._classify(exc, connecting=False)
            if not isinstance(failure, _Permanent):
                self.drop()
            raise failure from None

    def drop(self) -> None:
        """Forget a connection in an unknown state; the next message opens a new one."""
        if self.client is not None:
            self.client.close()
            self.client = None

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.quit()
            except OSError:
                pass  # the messages are sent; a failing goodbye changes nothing
            finally:
                self.drop()

    def _classify(self, exc: OSError, *, connecting: bool) -> Exception:
        """A smtplib or socket error as a sentence, sorted by what to do about it."""
        where = self.where
        stage = "connecting" if connecting else "sending"

        def temporary(reason: str) -> _Temporary:
            return _Temporary(reason, connecting=connecting)

        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return _Fatal(f"the SMTP server {where} refused the login of '{self.smtp.username}' "
                          f"({_reply(exc)}); check email.smtp.username and {PASSWORD_ENV}")
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return _Fatal(f"the SMTP server {where} does not support what planforge asked of it "
                          f"({one_line(str(exc))}); check email.smtp.security and username")
        if isinstance(exc, ssl.SSLCertVerificationError):
            return _Fatal(f"the certificate of the SMTP server {where} cannot be trusted "
                          f"({exc.verify_message}); planforge does not send over an "
                          "unverified connection")
        if isinstance(exc, ssl.SSLError):
            return _Fatal(f"no secure connection to {where} ({exc.reason or exc}); check that "
                          "email.smtp.security matches the port (ssl: 465, starttls: 587)")
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            code, text = next(iter(exc.recipients.values()), (550, b"refused"))
            reply = f"{code} {one_line(text.decode('utf-8', 'replace'))}"
            if 400 <= code < 500:
                return temporary(f"the server deferred the recipient ({reply})")
            return _Permanent(f"the server refused the recipient ({reply})")
        if isinstance(exc, smtplib.SMTPSenderRefused):
            if 400 <= exc.smtp_code < 500:
                return temporary(f"the server deferred the sender ({_reply(exc)})")
            return _Permanent(f"the server refused the sender {exc.sender} ({_reply(exc)})")
        if isinstance(exc, smtplib.SMTPDataError):
            if 400 <= exc.smtp_code < 500:
                return temporary(f"the server deferred the message ({_reply(exc)})")
            return _Permanent(f"the server rejected the message ({_reply(exc)})")
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            return temporary(f"the SMTP server {where} closed the connection while {stage}")
        if isinstance(exc, smtplib.SMTPResponseException):
            if 400 <= exc.smtp_code < 500:
                return temporary(f"the SMTP server {where} is busy ({_reply(exc)})")
            return _Fatal(f"the SMTP server {where} refused planforge ({_reply(exc)})")
        if isinstance(exc, smtplib.SMTPException):
            return _Fatal(f"the SMTP session with {where} failed ({one_line(str(exc))})")
        if isinstance(exc, TimeoutError):
            return temporary(f"no answer from the SMTP server {where} within "
                             f"{self.smtp.timeout:g} s while {stage}")
        return temporary(f"cannot reach the SMTP server {where} "
                         f"({exc.strerror or one_line(str(exc)) or type(exc).__name__})")


def _outbox_name(address: str) -> str:
    return re.sub(r"[^A-Za-z0-9@._+-]", "_", address) + ".eml"


def _sender(ws: Workspace) -> tuple[Address, Address | None]:
    email = ws.settings.email
    if not email.sender:
        raise MailError("email.from is not set in planforge.yaml; add the sender, e.g. "
                        "from: \"Northwind PMO <pmo@example.com>\"")
    sender = _parse_sender(email.sender, "from")
    reply_to = _parse_sender(email.reply_to, "reply_to") if email.reply_to else None
    return sender, reply_to


def _render(msg: OutgoingMessage) -> bytes:
    try:
        return msg.pdf()
    except PlanforgeError as exc:
        raise _Permanent(f"the PDF could not be rendered: {exc}") from None


def _render_calendar(msg: OutgoingMessage) -> bytes | None:
    if msg.calendar is None:
        return None
    try:
        return msg.calendar()
    except PlanforgeError as exc:
        raise _Permanent(f"the calendar could not be made: {exc}") from None


def send_messages(
    ws: Workspace,
    messages: Sequence[OutgoingMessage],
    *,
    force: bool = False,
    dry_run: bool = False,
    outbox: Path | None = None,
    ssl_context: ssl.SSLContext | None = None,
    sleep: Callable[[float], None] = time.sleep,
    password: str | None = None,
    attempts: int = ATTEMPTS,
    on_outcome: Callable[[OutcomeKind, Outcome], None] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    held: Sequence[Held] = (),
) -> SendReport:
    """Deliver the messages one by one, recording each in the ledger once the server has it.

    ``dry_run`` writes ``<outbox>/<week>/<address>.eml`` instead and touches neither the ledger
    nor the network. ``force`` sends what the ledger says was sent already. The password comes
    from ``PLANFORGE_SMTP_PASSWORD`` unless given; ``ssl_context`` defaults to the system's
    trusted certificates. ``held`` are the projects the plan held (``MailPlan.held``), for the
    report; a brief already sent goes again only as the send policy says (``sendpolicy``).
    """
    report = SendReport()

    def record(kind: OutcomeKind, outcome: Outcome) -> None:
        {"sent": report.sent, "skipped": report.skipped, "failed": report.failed,
         "written": report.written, "held": report.held}[kind].append(outcome)
        if on_outcome is not None:
            on_outcome(kind, outcome)

    def note(kind: OutcomeKind, msg: OutgoingMessage, detail: str) -> None:
        record(kind, Outcome(msg.address, msg.project_ids, detail))

    for h in held:
        record("held", Outcome("", (h.project_id,), h.reason))

    sender, reply_to = _sender(ws)
    if dry_run:
        folder = outbox if outbox is not None else outbox_dir(ws)
        inside = None if outbox is not None else ws.root  # the output folder: through no link
        for msg in messages:
            try:
                email = compose(msg, _render(msg), sender=sender, reply_to=reply_to, now=now(),
                                calendar=_render_calendar(msg))
            except (_Permanent, MailError) as exc:
                note("failed", msg, str(exc))
                continue
            path = folder / msg.week / _outbox_name(msg.address)
            write_atomic(path, email.as_bytes(), inside=inside)
            note("written", msg, str(path))
        return report

    smtp = ws.settings.email.smtp
    if smtp is None:
        raise MailError("email.smtp is not set in planforge.yaml, so there is no server to send "
                        "through; add email.smtp.host, or use --dry-run to write .eml files")
    if password is None:
        password = os.environ.get(PASSWORD_ENV)
    if smtp.username and not password:
        raise MailError(f"email.smtp.username is set but the environment variable {PASSWORD_ENV} "
                        "is not; set it to the SMTP password (in CI, from a secret)")
    connection = _Connection(smtp, ssl_context or ssl.create_default_context(), password)
    with Ledger(ledger_path(ws)) as ledger:
        if ledger.repaired:
            report.notes.append(f"{ledger.path}: ignored an unfinished last line (an interrupted "
                                "write)")
        try:
            zone = ws.timezone()
            for msg in messages:
                prior = ledger.sent(msg.week, msg.address)
                decision = decide(
                    msg.week, [e.content for e in prior], msg.content, ws.settings.email,
                    updates_today=ledger.resent_on(now().astimezone(zone).date(), msg.address,
                                                   zone),
                    force=force)
                if decision.action != "send":
                    note("skipped" if decision.action == "skip" else "held", msg,
                         decision.reason)
                    continue
                if decision.changes:
                    sent_before = {pid for e in prior for pid in e.projects}
                    msg = msg.as_update(decision.changes, sent_before)
                try:
                    _deliver(msg, connection, ledger, sender, reply_to, len(prior), attempts,
                             sleep, now)
                except _Permanent as exc:
                    note("failed", msg, str(exc))
                    continue
                except _Fatal as exc:
                    raise SendAborted(f"sending stopped: {exc}", report) from None
                note("sent", msg, ledger.entries[-1].message_id)
        finally:
            connection.close()
    return report


def _deliver(
    msg: OutgoingMessage,
    connection: _Connection,
    ledger: Ledger,
    sender: Address,
    reply_to: Address | None,
    resend: int,
    attempts: int,
    sleep: Callable[[float], None],
    now: Callable[[], datetime],
) -> None:
    """Send one message with retries, then record it; raises _Permanent or _Fatal."""
    pdf = _render(msg)
    calendar = _render_calendar(msg)
    msg_id = message_id(msg.week, msg.address, sender.domain, resend)
    try:
        email = compose(msg, pdf, sender=sender, reply_to=reply_to, msg_id=msg_id, now=now(),
                        calendar=calendar)
    except MailError as exc:
        raise _Permanent(str(exc)) from None
    data = email.as_bytes()
    for attempt in range(1, attempts + 1):
        try:
            # The envelope is given explicitly: recipients never come from the headers.
            connection.send(sender.addr_spec, msg.address, data)
            break
        except _Temporary as exc:
            if attempt < attempts:
                sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
                continue
            gave_up = f"{exc} (gave up after {attempts} attempts)"
            if exc.connecting:
                # The server cannot be reached at all: every other message would wait in vain.
                raise _Fatal(gave_up) from None
            raise _Permanent(gave_up) from None
    ledger.record(LedgerEntry(
        week=msg.week,
        address=msg.address,
        kind=msg.kind,
        projects=msg.project_ids,
        sha256=hashlib.sha256(pdf).hexdigest(),
        message_id=msg_id,
        sent_at=now().isoformat(timespec="seconds"),
        revision=resend,
        content=msg.content,
    ))
