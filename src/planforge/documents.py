"""The documents: what each template lays out, and rendering to Markdown, HTML and PDF.

Everything a template shows is prepared here from the model and the facts (names looked up,
sentences of reasons and changes put together from labels, charts drawn), so that templates only
lay out. ``render_document`` and ``render_portfolio`` are what the CLI, ``build`` and ``send``
call.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from . import charts
from .audience import brief_locale, person_name
from .dates import iso_week
from .errors import RenderError, WorkspaceError
from .facts import (
    MilestoneFacts,
    ProjectFacts,
    Reason,
    RiskFacts,
    compute_facts,
    open_customer_milestones,
)
from .i18n import Translator, builtin_templates
from .model import Meeting, Person, Project, Update
from .render import environment, render_template, safe
from .workspace import Workspace

KINDS = ("charter", "brief", "retro")
FORMATS = ("md", "html", "pdf")
#: How many customer-facing dates and risks the brief lists: a sales person reads it in a minute.
BRIEF_DATES = 3
BRIEF_RISKS = 3

_CSS_COLOUR = re.compile(
    r"#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,30}|(?:rgb|rgba|hsl|hsla)\([0-9.,%\s/a-z]{1,60}\)"
)


class ChangeLike(Protocol):
    """What the brief needs of a change since last week (``planforge.changes.Change``)."""

    @property
    def kind(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def old(self) -> date | int | float | str | None: ...
    @property
    def new(self) -> date | int | float | str | None: ...
    @property
    def days(self) -> int | None: ...
    @property
    def customer_facing(self) -> bool: ...
    @property
    def note(self) -> str | None: ...


# --- views: small records the templates lay out --------------------------------------------


@dataclass(frozen=True)
class ReasonView:
    """A health reason as a sentence, with its level (amber, red)."""

    level: str
    text: str


@dataclass(frozen=True)
class ChangeView:
    """A change since last week as a sentence."""

    kind: str
    text: str
    customer_facing: bool
    note: str | None


@dataclass(frozen=True)
class MeetingView:
    """A meeting of the cadence with when it recurs, in words, and who attends."""

    meeting: Meeting
    when: str  # "Every Thursday, 14:00–14:30 (Europe/Berlin)"
    attendees: str


@dataclass(frozen=True)
class NextMeeting:
    """The next occurrence of a meeting, in words."""

    name: str
    when: str
    channel: str | None


@dataclass(frozen=True)
class GanttTask:
    """One line of the Mermaid gantt block."""

    name: str
    tags: str  # Mermaid tags, each followed by ", "
    start: str
    end: str  # a date, or "0d" for a milestone


@dataclass(frozen=True)
class GanttSection:
    """A phase of the Mermaid gantt block with its bar and milestones."""

    name: str
    tasks: tuple[GanttTask, ...]


@dataclass(frozen=True)
class BudgetView:
    """The budget with what remains."""

    currency: str
    planned: float
    spent: float | None
    remaining: float | None
    spent_share: float | None
    elapsed: float
    ahead_points: float | None
    over: bool


@dataclass(frozen=True)
class HeatCell:
    """One cell of the Markdown heat map."""

    level: str
    risks: tuple[str, ...]  # risk numbers, R1 …


@dataclass(frozen=True)
class HeatRow:
    """One likelihood row of the Markdown heat map."""

    likelihood: int
    cells: tuple[HeatCell, ...]  # impact 1 … 5


@dataclass(frozen=True)
class Outcome:
    """The retrospective's counts at a glance."""

    goals: int
    goals_achieved: int
    milestones: int
    milestones_on_time: int
    open_milestones: int
    risks: int
    risks_occurred: int


@dataclass(frozen=True)
class PortfolioRow:
    """One project in the portfolio's summary table."""

    anchor: str
    name: str
    customer: str
    reported: str | None
    computed: str
    watermelon: bool
    next_date: MilestoneFacts | None
    slipped: int
    asks: int


# --- helpers ----------------------------------------------------------------------------------


def project_locale(ws: Workspace, project: Project) -> str:
    """The language of a project's documents: its own, else the workspace's."""
    return project.locale or ws.settings.locale


def accent_colour(ws: Workspace) -> str:
    """The brand accent from ``planforge.yaml``, checked to be a plain CSS colour because it is
    written into the stylesheet."""
    accent = ws.settings.accent.strip()
    if not _CSS_COLOUR.fullmatch(accent):
        raise WorkspaceError(
            f"brand.accent '{accent}' is not a CSS colour (write it as #1f4e79, rgb(0, 112, 60) "
            "or a colour name)"
        )
    return accent


def _logo(ws: Workspace) -> tuple[str | None, Path | None]:
    """The logo as a data: URI (the HTML stays standalone) and its resolved path."""
    if not ws.settings.logo:
        return None, None
    root = ws.root.resolve()
    path = (ws.root / ws.settings.logo).resolve()
    if root not in path.parents or not path.is_file():
        raise WorkspaceError(f"brand.logo: no file '{ws.settings.logo}' inside the workspace")
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if not kind.startswith("image/"):
        raise WorkspaceError(f"brand.logo: '{ws.settings.logo}' is not an image")
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"data:{kind};base64,{data}", path


def _person(project: Project, pid: str | None) -> str:
    if pid is None:
        return ""
    person = project.people.get(pid)
    return person.name if person else pid


def _value(tr: Translator, value: date | int | float | str | None) -> str:
    if value is None:
        return tr.label("common.none")
    if isinstance(value, date):
        return tr.date(value)
    if isinstance(value, bool):
        return tr.label("common.yes" if value else "common.no")
    if isinstance(value, int | float):
        return tr.number(value)
    return str(value)


def _subject(project: Project, subject_id: str | None) -> str:
    if subject_id is None:
        return ""
    for m in project.milestones:
        if m.id == subject_id:
            return m.name
    for g in project.goals:
        if g.id == subject_id:
            return g.title
    for r in project.risks:
        if r.id == subject_id:
            return r.title
    return subject_id


def reason_views(project: Project, reasons: Iterable[Reason], tr: Translator) -> list[ReasonView]:
    """Health reasons as sentences in the document's language."""
    return [
        ReasonView(
            r.level,
            tr.label(
                f"reason.{r.code}",
                subject=_subject(project, r.subject_id),
                days=tr.days(r.days) if r.days is not None else "",
                points=tr.points(r.points) if r.points is not None else "",
            ),
        )
        for r in reasons
    ]


def change_views(changes: Iterable[ChangeLike], tr: Translator) -> list[ChangeView]:
    """Changes since last week as sentences; customer-facing ones first, otherwise as given."""
    views = []
    for c in changes:
        key = f"change.{c.kind}" if tr.has(f"change.{c.kind}") else "change.other"
        text = tr.label(
            key,
            subject=c.subject,
            old=_value(tr, c.old),
            new=_value(tr, c.new),
            days=tr.days(c.days) if c.days is not None else "",
        )
        views.append(ChangeView(c.kind, text, c.customer_facing, c.note))
    return sorted(views, key=lambda v: not v.customer_facing)


def _clock(hhmm: str, minutes: int) -> tuple[str, str]:
    start = datetime.strptime(hhmm, "%H:%M")
    end = start + timedelta(minutes=minutes)
    return start.strftime("%H:%M"), end.strftime("%H:%M")


def meeting_when(m: Meeting, tr: Translator, default_tz: str) -> str:
    """When a meeting recurs, in words: "Every Thursday, 14:00–14:30 (Europe/Berlin)"."""
    start, end = _clock(m.time, m.duration)
    args: dict[str, str] = {"start": start, "end": end, "tz": m.timezone or default_tz}
    day = m.day
    if m.cadence == "monthly" and isinstance(day, int):
        key = "when.monthly_day"
        args["day"] = str(day)
    elif m.cadence == "monthly" and isinstance(day, str) and " " in day:
        ordinal, weekday = day.lower().split(None, 1)
        key = "when.monthly_nth"
        args["ordinal"] = tr.label(f"ordinal.{ordinal}")
        args["day"] = tr.label(f"weekday.{weekday}")
    elif m.cadence in ("weekly", "biweekly") and isinstance(day, str):
        key = f"when.{m.cadence}"
        args["day"] = tr.label(f"weekday.{day.lower()}")
    else:
        key = f"when.{m.cadence}_any"
    return tr.label(key, **args)


def _mermaid_sections(facts: ProjectFacts) -> list[GanttSection]:
    sections = []
    for p in facts.phases:
        tasks = [
            GanttTask(
                p.phase.name,
                "done, " if p.state == "done" else "active, " if p.state == "active" else "",
                p.phase.start.isoformat(),
                # Mermaid's end date is exclusive: the phase ends at the end of its last day.
                (p.phase.end + timedelta(days=1)).isoformat(),
            )
        ]
        for m in p.milestones:
            tags = "milestone, "
            if m.milestone.done is not None:
                tags += "done, "
            elif m.state in ("slipping", "overdue"):
                tags += "crit, "
            tasks.append(GanttTask(("★ " if m.customer_facing else "") + m.milestone.name,
                                   tags, m.actual.isoformat(), "0d"))
        sections.append(GanttSection(p.phase.name, tuple(tasks)))
    return sections


def _budget(facts: ProjectFacts) -> BudgetView | None:
    b = facts.budget
    if b is None:
        return None
    spent = b.budget.spent
    return BudgetView(
        currency=b.budget.currency,
        planned=b.budget.planned,
        spent=spent,
        remaining=b.budget.planned - spent if spent is not None else None,
        spent_share=b.spent_share,
        elapsed=b.elapsed,
        ahead_points=b.ahead_points,
        over=b.over,
    )


def _customer_next(facts: ProjectFacts) -> list[MilestoneFacts]:
    return open_customer_milestones(facts)[:BRIEF_DATES]


def _brief_milestones(facts: ProjectFacts) -> list[MilestoneFacts]:
    """Customer-facing milestones due in the next four weeks, then every slipped one."""
    seen: set[str] = set()
    out = []
    for m in (*facts.customer_milestones_next_4_weeks, *facts.slipped):
        if m.milestone.id not in seen:
            seen.add(m.milestone.id)
            out.append(m)
    return sorted(out, key=lambda m: (m.expected, m.milestone.id))


def _risk_numbers(risks: Sequence[RiskFacts]) -> dict[str, str]:
    """R1, R2 … in register order (score descending): the heat map names risks by number."""
    return {r.risk.id: f"R{i}" for i, r in enumerate(risks, start=1)}


def _health_weeks(project: Project, facts: ProjectFacts) -> list[charts.HealthWeek]:
    """Every ISO week from the project's start to its end or the as-of date, whichever comes
    first, with the health the team reported that week (None: no update that week).

    Only reported health is shown week by week: the health computed for a past week from
    today's plan would use hindsight (today's spending, today's forecasts), not what the plan
    said then.
    """
    reported = dict(facts.health_history)
    last = min(project.end, facts.as_of)
    monday = project.start - timedelta(days=project.start.weekday())
    weeks = []
    while monday <= last:
        week = iso_week(monday)
        weeks.append(charts.HealthWeek(week, reported.get(week)))
        monday += timedelta(days=7)
    return weeks


def _heat_rows(facts: ProjectFacts, risk_no: dict[str, str]) -> list[HeatRow]:
    """The heat map as rows for a Markdown table, likelihood 5 at the top."""
    return [
        HeatRow(li, tuple(
            HeatCell(facts.heatmap.level(li, im),
                     tuple(risk_no.get(i, i) for i in facts.heatmap.cells[li - 1][im - 1]))
            for im in range(1, 6)
        ))
        for li in range(5, 0, -1)
    ]


def _signoff(project: Project) -> list[Person]:
    """Who signs the charter: the customer and management sponsors, the sales people who own
    the relationship, and on the delivery side whoever answers for the plan: the coordinator
    and the accountable of each RACI row or, in a plan with neither, the phase owners."""
    delivery = {project.communication.coordinator} if project.communication else set()
    delivery |= {row.accountable for row in project.responsibilities}
    delivery.discard(None)
    if not delivery:
        delivery = {phase.owner for phase in project.phases if phase.owner}
    return [
        p
        for p in project.people.values()
        if p.team in ("customer", "management")
        or (p.team == "sales" and p.brief)
        or p.id in delivery
    ]


# --- contexts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Doc:
    """What every document knows about itself."""

    kind: str
    title: str
    organization: str | None
    as_of: date
    week: str
    lang: str
    footer: str


def _project_context(
    ws: Workspace,
    project: Project,
    facts: ProjectFacts,
    tr: Translator,
    kind: str,
    html: bool,
    changes: Sequence[ChangeLike] | None,
) -> dict[str, Any]:
    update: Update | None = facts.update or facts.latest_update
    risk_no = _risk_numbers(facts.risks)
    coordinator = project.communication.coordinator if project.communication else None
    default_tz = ws.settings.timezone
    ctx: dict[str, Any] = {
        "p": project,
        "f": facts,
        "name": lambda pid: _person(project, pid),
        "names": lambda pids: tr.label("common.list_sep").join(_person(project, i) for i in pids),
        "coordinator": _person(project, coordinator) if coordinator else None,
        "sales": [p for p in project.people.values() if p.team == "sales"],
        "update": update,
        "update_stale": update is not None and update.week != facts.week,
        "reasons": reason_views(project, facts.health.reasons, tr),
        "customer_next": _customer_next(facts),
        "brief_milestones": _brief_milestones(facts),
        "risk_no": risk_no,
        "top_risks": facts.top_risks[:BRIEF_RISKS],
        "risk_messages": [r for r in facts.top_risks[:BRIEF_RISKS] if r.risk.customer_message],
        "changes": change_views(changes, tr) if changes is not None else None,
        "meetings": [
            MeetingView(m, meeting_when(m, tr, default_tz), tr.label("common.list_sep").join(
                _person(project, a) for a in m.attendees))
            for m in project.meetings
        ],
        "next_meetings": [
            NextMeeting(
                o.meeting.name,
                tr.label("when.next", day=tr.date(o.start.date(), "weekday"),
                         start=tr.time(o.start), tz=o.meeting.timezone or default_tz),
                o.meeting.channel,
            )
            for o in facts.next_meetings
        ],
        "budget": _budget(facts),
        "signoff": _signoff(project),
        "gantt": _mermaid_sections(facts),
        "heat_rows": _heat_rows(facts, risk_no),
        "goals_open": [g for g in facts.goals if g.state != "achieved"],
    }
    if kind == "retro":
        ctx["retro"] = project.retrospective
        ctx["outcome"] = _outcome(facts)
        ctx["budget_verdict"] = _budget_verdict(ctx["budget"], tr)
        ctx["health_weeks"] = _health_weeks(project, facts)
    if html:
        ctx["charts"] = _charts(ws, project, facts, tr, kind, risk_no)
    return ctx


def _charts(ws: Workspace, project: Project, facts: ProjectFacts, tr: Translator, kind: str,
            risk_no: dict[str, str]) -> dict[str, Any]:
    """The SVG charts a document shows, drawn only for the documents that show them."""
    svg: dict[str, Any] = {"goals": safe(charts.goal_bars(facts.goals, tr)) if facts.goals
                           else None}
    if kind == "charter":
        svg["gantt"] = safe(charts.gantt(facts.phases, facts.as_of, tr, accent_colour(ws),
                                         project.start, project.end))
        svg["heatmap"] = safe(charts.heatmap(facts.heatmap, risk_no, tr))
    if kind == "retro":
        svg["variance"] = safe(charts.variance(facts.milestones, tr))
        svg["health"] = safe(charts.health_strip(_health_weeks(project, facts), tr))
    return svg


def _outcome(facts: ProjectFacts) -> Outcome:
    return Outcome(
        goals=len(facts.goals),
        goals_achieved=sum(g.state == "achieved" for g in facts.goals),
        milestones=len(facts.milestones),
        milestones_on_time=sum(m.state == "done-on-time" for m in facts.milestones),
        open_milestones=sum(m.days_until is not None for m in facts.milestones),
        risks=len(facts.risks),
        risks_occurred=sum(r.risk.status == "occurred" for r in facts.risks),
    )


def _budget_verdict(budget: BudgetView | None, tr: Translator) -> str:
    """"EUR 11,500 over budget (+7%)", or under, or on budget."""
    if budget is None or budget.spent is None:
        return tr.label("common.none")
    difference = budget.spent - budget.planned
    if not difference:
        return tr.label("retro.on_budget")
    share = tr.percent(abs(difference) / budget.planned) if budget.planned else ""
    key = "retro.over" if difference > 0 else "retro.under"
    return tr.label(key, amount=tr.money(abs(difference), budget.currency), share=share)


def _html_context(ws: Workspace, tr: Translator, lang: str) -> dict[str, Any]:
    env = environment(ws.templates_dir, tr.locale)
    assert env.loader is not None
    css = env.loader.get_source(env, "style.css")[0]
    logo, _ = _logo(ws)
    return {
        # The stylesheet is planforge's own (or the workspace's) file, never user data; passed
        # as Markup so that autoescaping does not turn its quotes into entities.
        "stylesheet": safe(css.replace("</", "<\\/")),
        "accent": safe(accent_colour(ws)),
        "logo": logo,
        "lang": lang,
    }


def _doc(ws: Workspace, tr: Translator, kind: str, facts: ProjectFacts, subject: str) -> _Doc:
    title = tr.label(f"doc.{kind}")
    footer = f"{subject} · {title} · {tr.date(facts.as_of)}"
    return _Doc(kind, title, ws.settings.organization, facts.as_of, facts.week, tr.locale, footer)


def _translator(ws: Workspace, locale: str) -> Translator:
    from .i18n import translator

    return translator(locale, ws.templates_dir)


def _pdf(ws: Workspace, html: str, title: str, author: str, subject: str, lang: str,
         as_of: date) -> bytes:
    from .pdf import PdfMetadata, html_to_pdf

    builtin = Path(str(builtin_templates()))
    _, logo_path = _logo(ws)
    roots = [p for p in (builtin, ws.templates_dir) if p.is_dir()]
    if logo_path is not None and logo_path.parent != ws.root.resolve():
        roots.append(logo_path.parent)
    base = ws.templates_dir if ws.templates_dir.is_dir() else builtin
    meta = PdfMetadata(title=title, author=author, subject=subject, lang=lang, created=as_of)
    return html_to_pdf(html, meta, base_dir=base, roots=roots,
                       files=[logo_path] if logo_path else [])


def _tidy(markdown: str) -> str:
    """At most one blank line in a row and one newline at the end: the templates' conditional
    sections leave stray blank lines that a reviewer would otherwise see in a diff."""
    return re.sub(r"\n{3,}", "\n\n", markdown).strip("\n") + "\n"


def _check(kind: str | None, fmts: Iterable[str]) -> None:
    if kind is not None and kind not in KINDS:
        raise RenderError(f"unknown document '{kind}' (one of {', '.join(KINDS)})")
    for fmt in fmts:
        if fmt not in FORMATS:
            raise RenderError(f"unknown format '{fmt}' (one of {', '.join(FORMATS)})")


def render_formats(
    ws: Workspace,
    project: Project,
    kind: str,
    as_of: date,
    fmts: Sequence[str],
    changes: Sequence[ChangeLike] | None = None,
    facts: ProjectFacts | None = None,
) -> dict[str, bytes]:
    """One document in several formats at once: the facts are computed and the HTML is rendered
    once for both ``html`` and ``pdf``. A caller rendering several documents of a project may
    pass the facts it computed for ``as_of``."""
    _check(kind, fmts)
    if kind == "retro" and project.retrospective is None:
        raise RenderError(f"project '{project.id}' has no retrospective.yaml")
    if facts is None or facts.as_of != as_of or facts.project is not project:
        facts = compute_facts(project, as_of, ws.settings)
    locale = project_locale(ws, project)
    tr = _translator(ws, locale)
    env = environment(ws.templates_dir, locale)
    doc = _doc(ws, tr, kind, facts, project.name)
    out: dict[str, bytes] = {}
    if "md" in fmts:
        ctx = _project_context(ws, project, facts, tr, kind, False, changes)
        out["md"] = _tidy(render_template(env, f"{kind}.md.j2", {"doc": doc, **ctx})).encode()
    if "html" in fmts or "pdf" in fmts:
        ctx = _project_context(ws, project, facts, tr, kind, True, changes)
        html = render_template(
            env, f"{kind}.html.j2", {"doc": doc, **ctx, **_html_context(ws, tr, locale)}
        )
        if "html" in fmts:
            out["html"] = html.encode()
        if "pdf" in fmts:
            author = ws.settings.organization or project.name
            subject = f"{project.name} — {project.customer}"
            out["pdf"] = _pdf(ws, html, f"{project.name} — {doc.title}", author, subject,
                              locale, as_of)
    return {fmt: out[fmt] for fmt in fmts}


def render_document(
    ws: Workspace,
    project: Project,
    kind: str,
    as_of: date,
    fmt: str,
    changes: Sequence[ChangeLike] | None = None,
) -> bytes:
    """A charter, brief or retrospective of a project as of a date, as Markdown, HTML or PDF."""
    return render_formats(ws, project, kind, as_of, [fmt], changes)[fmt]


def render_portfolio_formats(
    ws: Workspace,
    email: str,
    projects: Sequence[Project],
    as_of: date,
    fmts: Sequence[str],
    changes: Mapping[str, Sequence[ChangeLike] | None] | None = None,
    known_facts: Mapping[str, ProjectFacts] | None = None,
) -> dict[str, bytes]:
    """The portfolio brief of one sales person in several formats; ``changes`` maps a project id
    to its changes since last week, ``known_facts`` to facts already computed for ``as_of``."""
    _check(None, fmts)
    shown = sorted((p for p in projects if p.status not in ("done", "cancelled")),
                   key=lambda p: (p.name.lower(), p.id))
    if not shown:
        raise RenderError(f"no active project for {email}")
    locale = brief_locale(shown, ws.settings.locale)
    tr = _translator(ws, locale)
    env = environment(ws.templates_dir, locale)
    person = person_name(email, shown) or email
    rows: list[PortfolioRow] = []
    bodies: dict[str, list[str]] = {"md": [], "html": []}
    want = [fmt for fmt in ("md", "html") if fmt in fmts or (fmt == "html" and "pdf" in fmts)]
    first_facts: ProjectFacts | None = None
    for project in shown:
        given = (known_facts or {}).get(project.id)
        facts = (given if given is not None and given.as_of == as_of and given.project is project
                 else compute_facts(project, as_of, ws.settings))
        first_facts = first_facts or facts
        update = facts.update or facts.latest_update
        nxt = _customer_next(facts)
        rows.append(PortfolioRow(
            anchor=f"project-{project.id}",
            name=project.name,
            customer=project.customer,
            reported=facts.health.reported,
            computed=facts.health.level,
            watermelon=facts.health.watermelon,
            next_date=nxt[0] if nxt else None,
            slipped=len(facts.slipped),
            asks=len(update.sales_asks) if update else 0,
        ))
        p_locale = project_locale(ws, project)
        p_tr = _translator(ws, p_locale)
        p_env = environment(ws.templates_dir, p_locale)
        p_changes = (changes or {}).get(project.id)
        p_doc = _doc(ws, p_tr, "brief", facts, project.name)
        for fmt in want:
            ctx = _project_context(ws, project, facts, p_tr, "brief", fmt == "html", p_changes)
            extra = {"anchor": f"project-{project.id}", "lang": p_locale,
                     "logo": _logo(ws)[0] if fmt == "html" else None}
            body = render_template(p_env, f"partials/brief_body.{fmt}.j2",
                                   {"doc": p_doc, **ctx, **extra})
            bodies[fmt].append(body)
    assert first_facts is not None
    doc = _Doc("portfolio", tr.label("doc.portfolio"), ws.settings.organization, as_of,
               first_facts.week, locale, f"{person} · {tr.label('doc.portfolio')} · "
               f"{tr.date(as_of)}")
    base = {"doc": doc, "person": person, "email": email, "rows": rows}
    out: dict[str, bytes] = {}
    if "md" in fmts:
        out["md"] = _tidy(render_template(env, "portfolio.md.j2",
                                          {**base, "bodies": bodies["md"]})).encode()
    if "html" in fmts or "pdf" in fmts:
        html = render_template(env, "portfolio.html.j2", {
            **base, "bodies": [safe(b) for b in bodies["html"]],
            **_html_context(ws, tr, locale)})
        if "html" in fmts:
            out["html"] = html.encode()
        if "pdf" in fmts:
            title = f"{doc.title} — {person} — {first_facts.week}"
            author = ws.settings.organization or person
            subject = ", ".join(p.name for p in shown)
            out["pdf"] = _pdf(ws, html, title, author, subject, locale, as_of)
    return {fmt: out[fmt] for fmt in fmts}


def render_portfolio(
    ws: Workspace,
    email: str,
    projects: Sequence[Project],
    as_of: date,
    fmt: str,
    changes: Mapping[str, Sequence[ChangeLike] | None] | None = None,
) -> bytes:
    """One sales person's portfolio brief: a summary table of their active projects, then each
    project's brief."""
    return render_portfolio_formats(ws, email, projects, as_of, [fmt], changes)[fmt]
