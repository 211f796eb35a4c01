"""The view of ``output/index.html``, the portfolio dashboard, made from the manifest alone.

Everything the page shows comes from the manifest's records (each project's dashboard row, each
file written): a merge of CI shards, which renders no project, makes the same page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from .. import charts
from ..dashboard import UPCOMING_DAYS
from ..i18n import Translator
from ..outputs import CALENDAR_DIR, PORTFOLIO_DIR, FileRecord, Manifest
from ..render import safe
from .views import (
    IndexDate,
    IndexDocument,
    IndexPortfolio,
    IndexProject,
    IndexView,
    IndexWeek,
    Link,
)

#: The order of the links of one document, and of the documents that are not by week.
_FORMATS = ("md", "html", "pdf", "ics")
_UNDATED = {"charter": "charter", "retrospective": "retro", "calendar": "calendar"}


def _documents(names: Iterable[str], prefix: str) -> tuple[tuple[IndexDocument, ...],
                                                            dict[str, tuple[IndexDocument, ...]]]:
    """Files under ``prefix`` grouped into documents: (those not by week, those of each week)."""
    undated: dict[str, list[str]] = {}
    weekly: dict[str, dict[str, list[str]]] = {}
    for name in names:
        stem, _, fmt = name.removeprefix(prefix).rpartition(".")
        if fmt not in _FORMATS:
            continue
        if stem.startswith("briefs/"):
            weekly.setdefault(stem.removeprefix("briefs/"), {}).setdefault("brief", []).append(name)
        elif stem in _UNDATED:
            undated.setdefault(_UNDATED[stem], []).append(name)
        elif "/" not in stem:  # a portfolio brief: <week>.<fmt>
            weekly.setdefault(stem, {}).setdefault("portfolio", []).append(name)

    def document(kind: str, files: list[str]) -> IndexDocument:
        ordered = sorted(files, key=lambda f: _FORMATS.index(f.rpartition(".")[2]))
        return IndexDocument(kind, tuple(Link(f.rpartition(".")[2].upper(), f) for f in ordered))

    first = tuple(document(kind, undated[kind]) for kind in ("charter", "retro", "calendar")
                  if kind in undated)
    return first, {week: tuple(document(kind, files) for kind, files in sorted(kinds.items()))
                   for week, kinds in weekly.items()}


def _by_source(files: Mapping[str, FileRecord]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, record in files.items():
        found.setdefault(record.source, []).append(name)
    return found


def _trend_text(points: Iterable[tuple[str, str]], tr: Translator) -> str:
    """"2026-W40–2026-W42: Green, 2026-W43: Amber": weeks of the same health as one run."""
    runs: list[tuple[str, str, str]] = []  # first week, last week, level
    for week, level in points:
        if runs and runs[-1][2] == level:
            runs[-1] = (runs[-1][0], week, level)
        else:
            runs.append((week, week, level))
    return tr.label("common.list_sep").join(
        f"{first if first == last else f'{first}–{last}'}{tr.label('common.colon')}"
        f"{tr.label(f'health.{level}')}" for first, last, level in runs)


def _project(pid: str, manifest: Manifest, files: list[str], week: str,
             tr: Translator) -> tuple[IndexProject, list[IndexDate]]:
    record = manifest.projects.get(pid)
    undated, weekly = _documents(files, f"{pid}/")
    this_week = tuple(d for d in undated if d.kind != "calendar") + weekly.get(week, ())
    order = {"charter": 0, "brief": 1, "retro": 2}
    documents = tuple(sorted(this_week, key=lambda d: order.get(d.kind, 3)))
    other = tuple(Link(w, link.href) for w in sorted(weekly) if w != week
                  for d in weekly[w] for link in d.links if link.text == "MD")
    weeks = ((IndexWeek("", undated),) if undated else ()) + tuple(
        IndexWeek(w, weekly[w]) for w in sorted(weekly, reverse=True))
    name = (record.name or pid) if record else pid
    row = record.dashboard if record else None
    if record is None or row is None:
        return IndexProject(pid, name, record.customer if record else "",
                            record.health if record else None,
                            record.reported if record else None, documents, other,
                            weeks=weeks), []
    points = [(p.week, p.computed) for p in row.trend]
    text = _trend_text(points, tr)
    nxt = row.next_date
    project = IndexProject(
        pid, name, record.customer, record.health, record.reported, documents, other,
        status=row.status, watermelon=row.watermelon, sales=row.sales, coordinator=row.coordinator,
        trend=safe(charts.sparkline([level for _, level in points], text)), trend_text=text,
        next_name=nxt.name if nxt else None, next_date=nxt.expected if nxt else None,
        next_slip=nxt.slip if nxt else 0, next_state=nxt.state if nxt else "", asks=row.asks,
        top_risk=row.top_risk, top_risk_level=row.top_risk_level, weeks=weeks)
    dates = [IndexDate(d.expected, pid, name, record.customer, d.name, d.slip, d.state)
             for d in row.upcoming]
    return project, dates


def index_view(project_ids: Iterable[str], manifest: Manifest, week: str, as_of: date,
               tr: Translator) -> IndexView:
    """The dashboard of these projects (every one of the workspace, by id) from the manifest."""
    sources = _by_source(manifest.files)
    projects: list[IndexProject] = []
    dates: list[IndexDate] = []
    until = as_of + timedelta(days=UPCOMING_DAYS)
    for pid in sorted(set(project_ids)):
        project, upcoming = _project(pid, manifest, sources.get(pid, []), week, tr)
        projects.append(project)
        dates += [d for d in upcoming if as_of <= d.day <= until]
    portfolios = []
    for source in sorted(s for s in sources if s.startswith(f"{PORTFOLIO_DIR}/")):
        folder = source.removeprefix(f"{PORTFOLIO_DIR}/")
        _, weekly = _documents(sources[source], f"{source}/")
        calendar = f"{CALENDAR_DIR}/{folder}.ics"
        undated = ((IndexDocument("calendar", (Link("ICS", calendar),)),)
                   if calendar in manifest.files else ())
        current = f"{source}/{week}."
        links = tuple(Link(n.rpartition(".")[2].upper(), n) for n in sorted(
            (n for n in sources[source] if n.startswith(current)),
            key=lambda n: _FORMATS.index(n.rpartition(".")[2])))
        weeks = ((IndexWeek("", undated),) if undated else ()) + tuple(
            IndexWeek(w, weekly[w]) for w in sorted(weekly, reverse=True))
        portfolios.append(IndexPortfolio(folder, links, weeks))
    # In the order the page's script sorts "by name" (name without case, then id), so that it has
    # nothing to reorder when the page opens.
    projects.sort(key=lambda p: (p.name.lower(), p.id))
    return IndexView(
        tuple(projects), tuple(portfolios),
        sales=tuple(sorted({s for p in projects for s in p.sales})),
        customers=tuple(sorted({p.customer for p in projects if p.customer})),
        coordinators=tuple(sorted({p.coordinator for p in projects if p.coordinator})),
        upcoming=tuple(sorted(dates, key=lambda d: (d.day, d.project_id, d.milestone))),
        upcoming_until=until)
