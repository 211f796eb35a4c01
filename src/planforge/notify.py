"""Chat notifications: each project's weekly summary posted to Slack (an incoming webhook, Block
Kit) and Microsoft Teams (a Workflows webhook, an Adaptive Card), once per channel, project and
week, through the send ledger and the send policy of the email (``ledger``, ``sendpolicy``).

One post per project, so that a project held until its update is committed goes out on its own
later, and a re-post says "Updated" for that project alone. Webhook URLs are secrets: they come
from the environment variables ``chat.channels.NAME.webhook_env`` names, and no message shows
more of one than its host. The only module that speaks HTTP.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from http.client import HTTPException
from pathlib import Path
from typing import Any, Literal

from . import __version__
from .audience import brief_locale, sales_facts
from .errors import UsageError
from .facts import ProjectFacts, compute_facts, open_customer_milestones
from .i18n import Translator, translator
from .ledger import Ledger, LedgerEntry
from .model import ChatChannel, Project
from .outputs import document_stem, ledger_path, outbox_dir, write_atomic
from .sendpolicy import ADDED, Held, brief_content, decide, held_projects
from .workspace import Workspace

ATTEMPTS = 3  # per post: the first try and two retries
BACKOFF_SECONDS = 2.0  # after a 5xx or a 429 without Retry-After: 2 s, then 4 s
MAX_RETRY_AFTER = 60.0  # seconds; a longer Retry-After fails the channel for this run
TIMEOUT_SECONDS = 30.0
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})

# Block Kit limits (Slack's reference: blocks, composition objects).
SLACK_MAX_BLOCKS = 50
SLACK_HEADER_CHARS = 150
SLACK_SECTION_CHARS = 3000
SLACK_FIELD_CHARS = 2000
SLACK_MAX_FIELDS = 10
SLACK_BUTTON_CHARS = 75
SLACK_URL_CHARS = 3000
#: Teams renders Adaptive Cards up to schema 1.5; 1.4 is what Workflows posts everywhere.
ADAPTIVE_CARD_VERSION = "1.4"
ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
ADAPTIVE_CARD_TYPE = "application/vnd.microsoft.card.adaptive"

OutcomeKind = Literal["posted", "skipped", "failed", "written", "held"]


# ---------------------------------------------------------------------------------------------
# What a post says
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """One project's weekly summary, every value resolved and in the project's language."""

    title: str
    fallback: str  # the notification text
    facts: tuple[tuple[str, str], ...]  # (label, value): health, next customer date, slip
    asks_label: str
    asks: tuple[str, ...]
    no_asks: str
    risk_label: str
    risk: str
    updated: str | None = None  # "Updated since the last post: ..."
    closing: str | None = None
    link_text: str = ""
    link: str | None = None  # the brief's PDF where the output is published


def _level(tr: Translator, level: str | None) -> str:
    return tr.label(f"chat.level.{level or 'none'}")


def brief_url(base: str | None, project_id: str, week: str) -> str | None:
    """Where the brief's PDF of that week is published (``publish.url``), if anywhere."""
    if not base:
        return None
    path = urllib.parse.quote(f"{document_stem(project_id, 'brief', week)}.pdf")
    return f"{base.rstrip('/')}/{path}"


def summarize(facts: ProjectFacts, tr: Translator, week: str, *, link: str | None,
              closing: bool = False, updated: str | None = None) -> Summary:
    """What the post of ``week`` says about one project."""
    from .documents import email_project

    facts = sales_facts(facts)  # a channel of sales people sees no internal risk
    p = facts.project
    shown = email_project(facts, tr, week)  # the email's own reading of health, asks and dates
    upcoming = open_customer_milestones(facts)
    if upcoming:
        m = upcoming[0]
        next_date = tr.label("chat.next_date_value", date=tr.date(m.expected),
                             milestone=m.milestone.name)
        if m.first_promised is not None:
            slip = tr.label("chat.slip_value", days=tr.days(m.promised_days),
                            first=tr.date(m.first_promised))
        elif m.variance_days:
            slip = tr.label("chat.slip_baseline", days=tr.days(m.variance_days),
                            due=tr.date(m.milestone.due))
        else:
            slip = tr.label("chat.on_time")
    else:
        next_date, slip = tr.label("chat.no_next_date"), tr.label("common.none")
    asks = []
    for a in shown.asks:
        details = [a.owner, tr.label("email.by", date=tr.date(a.due)) if a.due else "",
                   a.open_since or ""]
        listed = tr.label("email.comma").join(d for d in details if d)
        asks.append(a.ask + (tr.label("chat.ask_details", details=listed) if listed else ""))
    if facts.top_risks:
        r = facts.top_risks[0]
        risk = tr.label("chat.risk_value", title=r.risk.title,
                        level=tr.label(f"risk_level.{r.level}"), score=r.score)
    else:
        risk = tr.label("chat.no_risk")
    reported, computed = _level(tr, shown.reported), _level(tr, shown.computed)
    return Summary(
        title=tr.label("chat.title", project=p.name, customer=p.customer, week=week),
        fallback=tr.label("chat.fallback", project=p.name, reported=reported,
                          computed=computed),
        facts=((tr.label("chat.reported"), reported), (tr.label("chat.computed"), computed),
               (tr.label("chat.next_date"), next_date), (tr.label("chat.slip"), slip)),
        asks_label=tr.label("chat.asks"),
        asks=tuple(asks),
        no_asks=tr.label("chat.no_asks"),
        risk_label=tr.label("chat.top_risk"),
        risk=risk,
        updated=updated,
        closing=tr.label("chat.closing", status=tr.label(f"status.{p.status}"))
        if closing else None,
        link_text=tr.label("chat.open_brief"),
        link=link,
    )


# ---------------------------------------------------------------------------------------------
# Payloads
# ---------------------------------------------------------------------------------------------


def _cut(text: str, limit: int) -> str:
    """Text within a length limit, an ellipsis marking what was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mrkdwn(text: str) -> str:
    # Slack reads &, < and > as markup (links, mentions) in every text field.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, SLACK_SECTION_CHARS)}}


def slack_payload(s: Summary) -> dict[str, Any]:
    """An incoming-webhook message: ``text`` for the notification, Block Kit ``blocks``."""
    blocks: list[dict[str, Any]] = [{
        "type": "header",
        "text": {"type": "plain_text", "text": _cut(s.title, SLACK_HEADER_CHARS), "emoji": True},
    }]
    notes = [n for n in (s.updated, s.closing) if n]
    if notes:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": _cut(_mrkdwn(n), SLACK_SECTION_CHARS)} for n in notes]})
    blocks.append({"type": "section", "fields": [
        {"type": "mrkdwn", "text": _cut(f"*{_mrkdwn(label)}*\n{_mrkdwn(value)}", SLACK_FIELD_CHARS)}
        for label, value in s.facts[:SLACK_MAX_FIELDS]]})
    asks = "\n".join(f"• {_mrkdwn(a)}" for a in s.asks) or _mrkdwn(s.no_asks)
    blocks.append(_section(f"*{_mrkdwn(s.asks_label)}*\n{asks}"))
    blocks.append(_section(f"*{_mrkdwn(s.risk_label)}*\n{_mrkdwn(s.risk)}"))
    if s.link and len(s.link) <= SLACK_URL_CHARS:
        # A link, not a button: a button of a webhook without an app behind it shows a warning.
        blocks.append(_section(f"<{s.link}|{_mrkdwn(_cut(s.link_text, SLACK_BUTTON_CHARS))}>"))
    return {"text": _cut(s.fallback, SLACK_SECTION_CHARS), "blocks": blocks[:SLACK_MAX_BLOCKS]}


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def teams_payload(s: Summary) -> dict[str, Any]:
    """A Workflows webhook message: the Adaptive Card as the one attachment of a ``message``."""
    body: list[dict[str, Any]] = [_text(s.title, size="Large", weight="Bolder")]
    body += [_text(n, color="Accent") for n in (s.updated, s.closing) if n]
    body.append({"type": "FactSet",
                 "facts": [{"title": label, "value": value} for label, value in s.facts]})
    body.append(_text(s.asks_label, weight="Bolder", spacing="Medium"))
    body.append(_text("\n".join(f"- {a}" for a in s.asks) if s.asks else s.no_asks))
    body.append(_text(s.risk_label, weight="Bolder", spacing="Medium"))
    body.append(_text(s.risk))
    card: dict[str, Any] = {
        "$schema": ADAPTIVE_CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": ADAPTIVE_CARD_VERSION,
        "fallbackText": s.fallback,
        "body": body,
    }
    if s.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": s.link_text, "url": s.link}]
    return {"type": "message", "attachments": [
        {"contentType": ADAPTIVE_CARD_TYPE, "contentUrl": None, "content": card}]}


PAYLOADS: dict[str, Callable[[Summary], dict[str, Any]]] = {
    "slack": slack_payload, "teams": teams_payload}


# ---------------------------------------------------------------------------------------------
# Planning: which project goes to which channel
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatPost:
    """One project's summary of a week for one channel; ``summary`` makes it, as an update
    when given the "Updated" line."""

    channel: ChatChannel
    week: str
    project_id: str
    content: dict[str, dict[str, str]]  # what the brief shows (``sendpolicy.brief_content``)
    summary: Callable[[str | None], Summary] = field(repr=False, compare=False)
    updated_line: Callable[[Sequence[str]], str] = field(repr=False, compare=False)

    def payload(self, updated: str | None = None) -> dict[str, Any]:
        return PAYLOADS[self.channel.service](self.summary(updated))


@dataclass(frozen=True)
class ChatPlan:
    """The posts of a week, the projects held back, and notes for the user."""

    week: str
    posts: tuple[ChatPost, ...]
    held: tuple[Held, ...] = ()
    notes: tuple[str, ...] = ()


def channel_projects(channel: ChatChannel, projects: Sequence[Project],
                     on: date) -> list[Project]:
    """The projects whose summaries go to a channel: named, or with a person receiving the brief
    of ``on`` in one of its sales teams (someone who has left no longer counts)."""
    return [p for p in projects
            if p.id in channel.projects
            or any(person.brief and person.active_on(on) and person.team in channel.teams
                   for person in p.people.values())]


def pick_channels(ws: Workspace, names: Sequence[str]) -> tuple[ChatChannel, ...]:
    """The workspace's channels, or those named (``--channel``)."""
    channels = ws.settings.chat
    if not names:
        return channels
    known = {c.name: c for c in channels}
    unknown = [n for n in names if n not in known]
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise UsageError(f"--channel {unknown[0]}: no such channel in chat.channels of "
                         f"planforge.yaml (channels: {listed})")
    return tuple(known[n] for n in dict.fromkeys(names))


def plan_posts(ws: Workspace, week: str, as_of: date, projects: Sequence[Project],
               channels: Sequence[ChatChannel]) -> ChatPlan:
    """The posts of a week, by the send policy: an active project once its update of the week
    exists (``email.without_update``), a project that closed that week with its closing brief."""
    from .timeline import closing_projects, first_promised

    active = sorted((p for p in projects if p.status == "active"), key=lambda p: p.id)
    ready, held = held_projects(active, week, ws.settings.email)
    closing = closing_projects(ws, projects, week)
    sendable = sorted([*ready, *(p for p in projects if p.id in closing)], key=lambda p: p.id)
    known = {p.id for p in projects}
    notes = [f"chat.channels.{c.name}: no project '{pid}' in the workspace"
             for c in channels for pid in c.projects if pid not in known]
    facts: dict[str, ProjectFacts] = {}
    posts = []
    for channel in channels:
        for p in channel_projects(channel, sendable, as_of):
            if p.id not in facts:
                facts[p.id] = compute_facts(p, as_of, ws.settings, first_promised(ws, p.id, as_of))
            posts.append(_post(ws, channel, week, p, facts[p.id], p.id in closing))
    # Held projects are listed where a channel would have had them, not for email-only ones.
    held_here = {p.id for c in channels for p in channel_projects(c, active, as_of)}
    return ChatPlan(week, tuple(posts), tuple(h for h in held if h.project_id in held_here),
                    tuple(notes))


def _post(ws: Workspace, channel: ChatChannel, week: str, p: Project, facts: ProjectFacts,
          closing: bool) -> ChatPost:
    tr = translator(brief_locale([p], ws.settings.locale), ws.templates_dir)
    link = brief_url(ws.settings.publish_url, p.id, week)

    def summary(updated: str | None) -> Summary:
        return summarize(facts, tr, week, link=link, closing=closing, updated=updated)

    def updated_line(changes: Sequence[str]) -> str:
        what = [tr.label(f"email.changed_{c}") for c in changes if c != ADDED]
        return tr.label("chat.updated", changes=tr.label("email.comma").join(what))

    return ChatPost(channel, week, p.id, {p.id: brief_content(p, week)}, summary, updated_line)


# ---------------------------------------------------------------------------------------------
# Delivery
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What became of one post."""

    channel: str  # "slack:NAME"
    project_id: str
    detail: str  # skipped, held or failed: why; written: the file


@dataclass
class NotifyReport:
    """Every post, sorted by what became of it."""

    posted: list[Outcome] = field(default_factory=list)
    skipped: list[Outcome] = field(default_factory=list)  # already in the ledger
    failed: list[Outcome] = field(default_factory=list)
    written: list[Outcome] = field(default_factory=list)  # --dry-run
    held: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed_channels(self) -> list[str]:
        return list(dict.fromkeys(o.channel for o in self.failed))


class ChannelFailed(Exception):
    """This channel takes no post in this run; the other channels still may."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A webhook that redirects is misconfigured; following it would send the post elsewhere.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def webhook_url(channel: ChatChannel, environ: dict[str, str] | os._Environ[str]) -> str:
    """The channel's webhook URL from its environment variable; ChannelFailed says what is
    missing or wrong, never the URL."""
    name = channel.webhook_env
    url = environ.get(name, "").strip()
    if not url:
        raise ChannelFailed(f"the environment variable {name} is not set; set it to the "
                            f"{channel.service} webhook URL of this channel (in CI, from a "
                            "secret)")
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if not (parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK)) or not host:
        raise ChannelFailed(f"{name} does not hold an https:// webhook URL; planforge posts "
                            "only over HTTPS")
    return url


def _retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
    except (TypeError, ValueError):
        return None


def deliver(url: str, body: bytes, *, sleep: Callable[[float], None] = time.sleep,
            attempts: int = ATTEMPTS, timeout: float = TIMEOUT_SECONDS,
            now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
    """POST one payload; raises ChannelFailed once it cannot go through in this run. A 429 waits
    as its Retry-After says (up to MAX_RETRY_AFTER), a 5xx or a lost connection backs off."""
    host = urllib.parse.urlsplit(url).hostname
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"planforge/{__version__}",
    })
    for attempt in range(1, attempts + 1):
        wait = BACKOFF_SECONDS * 2 ** (attempt - 1)
        try:
            with opener.open(request, timeout=timeout) as response:
                response.read(4096)
            return
        except urllib.error.HTTPError as exc:
            answer = exc.read(300).decode("utf-8", "replace").strip()
            said = f"{exc.code} {answer or exc.reason}".strip()
            if exc.code == 429:
                asked = _retry_after(exc.headers.get("Retry-After"), now())
                if asked is not None and asked > MAX_RETRY_AFTER:
                    raise ChannelFailed(
                        f"{host} is rate limiting (429) and asks to wait {asked:.0f} s, longer "
                        f"than planforge waits ({MAX_RETRY_AFTER:.0f} s); the next run posts "
                        "what is missing") from None
                wait = asked if asked is not None else wait
                reason = f"{host} is rate limiting (429)"
            elif 500 <= exc.code < 600:
                reason = f"{host} answered {said}"
            else:
                # 4xx: the webhook refuses this post (a revoked URL, a payload it cannot read);
                # trying again would be refused again.
                raise ChannelFailed(f"{host} refused the post: {said}") from None
        except (urllib.error.URLError, HTTPException, OSError) as exc:
            cause = getattr(exc, "reason", None) or exc
            text = getattr(cause, "strerror", None) or str(cause) or type(cause).__name__
            reason = f"cannot reach {host} ({text})"
        if attempt == attempts:
            raise ChannelFailed(f"{reason} (gave up after {attempts} attempts)")
        sleep(wait)


def _body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, indent=2).encode() + b"\n"


def send_posts(
    ws: Workspace,
    plan: ChatPlan,
    *,
    dry_run: bool = False,
    outbox: Path | None = None,
    force: bool = False,
    environ: dict[str, str] | os._Environ[str] = os.environ,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    on_outcome: Callable[[OutcomeKind, Outcome], None] | None = None,
) -> NotifyReport:
    """Post each summary once, recording it in the ledger as soon as the service accepted it.

    ``dry_run`` writes ``<outbox>/<week>/<service>-<channel>/<project>.json`` instead (what would
    be posted, before the ledger is asked) and needs no webhook. A channel that fails is skipped
    for the rest of the run; the other channels still post.
    """
    report = NotifyReport(notes=list(plan.notes))

    def record(kind: OutcomeKind, outcome: Outcome) -> None:
        {"posted": report.posted, "skipped": report.skipped, "failed": report.failed,
         "written": report.written, "held": report.held}[kind].append(outcome)
        if on_outcome is not None:
            on_outcome(kind, outcome)

    for h in plan.held:
        record("held", Outcome("", h.project_id, h.reason))
    if dry_run:
        folder = outbox if outbox is not None else outbox_dir(ws)
        inside = None if outbox is not None else ws.root
        for post in plan.posts:
            c = post.channel
            path = folder / post.week / f"{c.service}-{c.name}" / f"{post.project_id}.json"
            write_atomic(path, _body(post.payload()), inside=inside)
            record("written", Outcome(c.ledger_channel, post.project_id, str(path)))
        return report

    broken: dict[str, str] = {}  # channel → why it takes no more posts in this run
    with Ledger(ledger_path(ws)) as ledger:
        zone = ws.timezone()
        for post in plan.posts:
            c = post.channel
            where = c.ledger_channel
            if where in broken:
                record("failed", Outcome(where, post.project_id,
                                         f"not posted: {where} failed above"))
                continue
            prior = ledger.sent(post.week, post.project_id, where)
            decision = decide(
                post.week, [e.content for e in prior], post.content, ws.settings.email,
                updates_today=ledger.resent_on(now().astimezone(zone).date(), post.project_id,
                                               zone, where),
                force=force)
            if decision.action != "send":
                kind: OutcomeKind = "skipped" if decision.action == "skip" else "held"
                record(kind, Outcome(where, post.project_id, decision.reason))
                continue
            updated = post.updated_line(decision.changes) if decision.changes else None
            body = _body(post.payload(updated))
            try:
                deliver(webhook_url(c, environ), body, sleep=sleep, now=now)
            except ChannelFailed as exc:
                broken[where] = str(exc)
                record("failed", Outcome(where, post.project_id, str(exc)))
                continue
            revision = len(prior)
            ledger.record(LedgerEntry(
                week=post.week,
                address=post.project_id,
                kind="chat",
                projects=(post.project_id,),
                sha256=hashlib.sha256(body).hexdigest(),
                message_id=f"{where}/{post.week}/{post.project_id}"
                           + (f".r{revision}" if revision else ""),
                sent_at=now().isoformat(timespec="seconds"),
                channel=where,
                revision=revision,
                content=post.content,
            ))
            record("posted", Outcome(where, post.project_id, "updated" if updated else ""))
    return report
