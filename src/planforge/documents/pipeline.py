"""Rendering documents: the view and its metadata into Markdown, HTML and PDF.

``render_formats`` and ``render_portfolio_formats`` are what the CLI, ``build`` and ``send``
call. Templates receive only ``v`` (the view), ``doc`` (the metadata) and the labels.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from ..audience import brief_locale, person_name
from ..baselines import PlanHistory
from ..errors import RenderError, WorkspaceError
from ..facts import ProjectFacts, compute_facts
from ..files import FileRefused, logo_problem, read_file
from ..i18n import Translator, builtin_templates
from ..model import Project
from ..outputs import Manifest
from ..render import environment, is_builtin, render_template, safe
from ..workspace import Workspace
from .content import (
    ChangeLike,
    brief_view,
    charter_view,
    email_project,
    portfolio_row,
    retro_view,
)
from .views import (
    BriefView,
    CharterView,
    DocMeta,
    EmailView,
    HealthColours,
    PortfolioView,
    RetroView,
    Swatch,
)

KINDS = ("charter", "brief", "retro")
FORMATS = ("md", "html", "pdf")

_CSS_COLOUR = re.compile(
    r"#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,30}|(?:rgb|rgba|hsl|hsla)\([0-9.,%\s/a-z]{1,60}\)"
)
#: A custom property of a stylesheet: ``--green: #1e6b24``.
_CSS_PROPERTY = re.compile(r"--([\w-]+)\s*:\s*([^;{}]+)")


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
    path = ws.root / ws.settings.logo
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if not kind.startswith("image/"):
        raise WorkspaceError(f"brand.logo: '{ws.settings.logo}' is not an image")
    try:
        raw = read_file(path, ws.root)
    except FileRefused as exc:
        raise WorkspaceError(f"brand.logo: '{ws.settings.logo}': {exc}") from None
    except OSError:
        raise WorkspaceError(f"brand.logo: no file '{ws.settings.logo}' inside the "
                             "workspace") from None
    problem = logo_problem(path.name, raw)
    if problem:
        raise WorkspaceError(f"brand.logo: '{ws.settings.logo}': {problem}")
    return f"data:{kind};base64,{base64.b64encode(raw).decode('ascii')}", path.resolve()


def _translator(ws: Workspace, locale: str) -> Translator:
    from ..i18n import translator

    return translator(locale, ws.templates_dir)


def _meta(ws: Workspace, tr: Translator, kind: str, as_of: date, week: str,
          subject: str) -> DocMeta:
    title = tr.label(f"doc.{kind}")
    footer = f"{subject} · {title} · {tr.date(as_of)}"
    return DocMeta(kind, title, ws.settings.organization, as_of, week, tr.locale, footer)


def _stylesheet(ws: Workspace, locale: str) -> str:
    """The documents' stylesheet: the workspace's ``style.css``, else the built-in one."""
    env = environment(ws.templates_dir, locale)
    assert env.loader is not None
    return env.loader.get_source(env, "style.css")[0]


def _css_colours(css: str) -> dict[str, str]:
    """The colours a stylesheet defines as custom properties, by name (the first definition)."""
    found: dict[str, str] = {}
    for name, value in _CSS_PROPERTY.findall(css):
        if _CSS_COLOUR.fullmatch(value.strip()):
            found.setdefault(name, value.strip())
    return found


@cache
def _builtin_colours() -> dict[str, str]:
    return _css_colours((builtin_templates() / "style.css").read_text("utf-8"))


def health_colours(ws: Workspace) -> HealthColours:
    """The health colours of the documents' stylesheet (``--green`` on ``--green-bg`` …), for
    HTML that cannot carry the stylesheet. The stylesheet is their one definition, so a
    workspace ``style.css`` recolours its emails too; what it leaves out stays built-in."""
    colours = _builtin_colours() | _css_colours(_stylesheet(ws, ws.settings.locale))
    return HealthColours(**{level: Swatch(colours[level], colours[f"{level}-bg"])
                            for level in ("green", "amber", "red", "grey")})


def _html_meta(ws: Workspace, meta: DocMeta) -> DocMeta:
    """The metadata of an HTML page: the stylesheet, the brand colour and the logo added."""
    css = _stylesheet(ws, meta.lang)
    # The stylesheet is planforge's own (or the workspace's) file, never user data; passed as
    # Markup so that autoescaping does not turn its quotes into entities.
    return replace(meta, stylesheet=safe(css.replace("</", "<\\/")),
                   accent=safe(accent_colour(ws)), logo=_logo(ws)[0])


ProjectView = CharterView | BriefView | RetroView


def project_view(ws: Workspace, project: Project, kind: str, facts: ProjectFacts,
                 tr: Translator, html: bool,
                 changes: Sequence[ChangeLike] | None = None,
                 history: PlanHistory | None = None) -> ProjectView:
    """The view of one project document; ``html`` draws its charts; ``changes`` are the
    brief's since last week, ``history`` the plan's up to the document's date, for the
    charter's kickoff version and the retrospective's baselines (None: not known)."""
    accent = accent_colour(ws) if html else None
    tz = ws.settings.timezone
    if kind == "charter":
        agreed = history.agreed if history is not None else None
        if agreed is not None:
            # The charter as signed: the kickoff version, its facts as of the kickoff day.
            project = agreed.project
            facts = compute_facts(project, agreed.day, ws.settings)
        return charter_view(project, facts, tr, tz, accent, history)
    if kind == "retro":
        return retro_view(project, facts, tr, accent, history)
    return brief_view(project, facts, tr, tz, accent, changes)


def document_context(ws: Workspace, project: Project, kind: str, facts: ProjectFacts,
                     html: bool = False,
                     changes: Sequence[ChangeLike] | None = None,
                     history: PlanHistory | None = None) -> dict[str, Any]:
    """Everything a project document's template receives: ``v`` and ``doc``."""
    tr = _translator(ws, project_locale(ws, project))
    meta = _meta(ws, tr, kind, facts.as_of, facts.week, project.name)
    return {"v": project_view(ws, project, kind, facts, tr, html, changes, history),
            "doc": _html_meta(ws, meta) if html else meta}


def _pdf(ws: Workspace, kind: str, html: str, title: str, author: str, subject: str, lang: str,
         as_of: date) -> bytes:
    from ..pdf import PdfMetadata, html_to_pdf

    builtin = Path(str(builtin_templates()))
    _, logo_path = _logo(ws)
    # The logo is the one file allowed outside the templates, not its folder: a template
    # could otherwise embed any file beside it.
    roots = [p for p in (builtin, ws.templates_dir) if p.is_dir()]
    base = ws.templates_dir if ws.templates_dir.is_dir() else builtin
    meta = PdfMetadata(title=title, author=author, subject=subject, lang=lang, created=as_of,
                       archive=ws.settings.pdf_archive.get(kind))
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


#: The body of a brief; planforge's own brief.md.j2 prints it and nothing else.
BRIEF_BODY_MD = "partials/brief_body.md.j2"


def render_formats(
    ws: Workspace,
    project: Project,
    kind: str,
    as_of: date,
    fmts: Sequence[str],
    changes: Sequence[ChangeLike] | None = None,
    facts: ProjectFacts | None = None,
    history: PlanHistory | None = None,
    bodies: dict[bool, str] | None = None,
) -> dict[str, bytes]:
    """One document in several formats at once: the facts and the view are computed and the
    HTML is rendered once for all of them. A caller rendering several documents of a project
    may pass the facts it computed for ``as_of``; ``history`` is the plan's up to ``as_of``
    (the charter's kickoff version, the retrospective's baselines). ``bodies`` receives a
    brief's Markdown body as rendered, by whether its view draws charts, for the portfolio
    brief to reuse (when the brief's template is planforge's own, which is that body alone)."""
    _check(kind, fmts)
    if kind == "retro" and project.retrospective is None:
        raise RenderError(f"project '{project.id}' has no retrospective.yaml")
    if facts is None or facts.as_of != as_of or facts.project is not project:
        facts = compute_facts(project, as_of, ws.settings)
    locale = project_locale(ws, project)
    tr = _translator(ws, locale)
    env = environment(ws.templates_dir, locale)
    html_wanted = "html" in fmts or "pdf" in fmts
    view = project_view(ws, project, kind, facts, tr, html_wanted, changes, history)
    meta = _meta(ws, tr, kind, facts.as_of, facts.week, project.name)
    out: dict[str, bytes] = {}
    if "md" in fmts:
        if kind == "brief" and bodies is not None and is_builtin(env, "brief.md.j2"):
            md = bodies[html_wanted] = render_template(env, BRIEF_BODY_MD,
                                                       {"v": view, "doc": meta})
        else:
            md = render_template(env, f"{kind}.md.j2", {"v": view, "doc": meta})
        out["md"] = _tidy(md).encode()
    if html_wanted:
        html = render_template(env, f"{kind}.html.j2", {"v": view, "doc": _html_meta(ws, meta)})
        if "html" in fmts:
            out["html"] = html.encode()
        if "pdf" in fmts:
            author = ws.settings.organization or project.name
            subject = f"{project.name} — {project.customer}"
            out["pdf"] = _pdf(ws, kind, html, f"{project.name} — {meta.title}", author,
                              subject, locale, as_of)
    return {fmt: out[fmt] for fmt in fmts}


def render_document(
    ws: Workspace,
    project: Project,
    kind: str,
    as_of: date,
    fmt: str,
    changes: Sequence[ChangeLike] | None = None,
    history: PlanHistory | None = None,
    facts: ProjectFacts | None = None,
) -> bytes:
    """A charter, brief or retrospective of a project as of a date, as Markdown, HTML or PDF."""
    return render_formats(ws, project, kind, as_of, [fmt], changes, facts, history)[fmt]


def render_portfolio_formats(
    ws: Workspace,
    email: str,
    projects: Sequence[Project],
    as_of: date,
    fmts: Sequence[str],
    changes: Mapping[str, Sequence[ChangeLike] | None] | None = None,
    known_facts: Mapping[str, ProjectFacts] | None = None,
    known_bodies: Mapping[str, Mapping[bool, str]] | None = None,
) -> dict[str, bytes]:
    """The portfolio brief of one sales person in several formats; ``changes`` maps a project id
    to its changes since last week, ``known_facts`` to facts already computed for ``as_of``,
    ``known_bodies`` to the Markdown body its brief rendered with these facts (render_formats'
    ``bodies``)."""
    _check(None, fmts)
    shown = sorted((p for p in projects if p.status not in ("done", "cancelled")),
                   key=lambda p: (p.name.lower(), p.id))
    if not shown:
        raise RenderError(f"no active project for {email}")
    locale = brief_locale(shown, ws.settings.locale)
    tr = _translator(ws, locale)
    env = environment(ws.templates_dir, locale)
    person = person_name(email, shown) or email
    html_wanted = "html" in fmts or "pdf" in fmts
    want = ["md"] * ("md" in fmts) + ["html"] * html_wanted
    rows = []
    bodies: dict[str, list[str]] = {"md": [], "html": []}
    first_facts: ProjectFacts | None = None
    for project in shown:
        given = (known_facts or {}).get(project.id)
        facts = (given if given is not None and given.as_of == as_of and given.project is project
                 else compute_facts(project, as_of, ws.settings))
        first_facts = first_facts or facts
        p_tr = _translator(ws, project_locale(ws, project))
        rows.append(portfolio_row(project, facts, tr))
        p_env = environment(ws.templates_dir, p_tr.locale)
        # The body the project's own brief rendered from the same facts, when there is one.
        known = ((known_bodies or {}).get(project.id, {}).get(html_wanted)
                 if facts is given else None)
        view = (project_view(ws, project, "brief", facts, p_tr, html_wanted,
                             (changes or {}).get(project.id)) if known is None or html_wanted
                else None)
        p_meta = _meta(ws, p_tr, "brief", facts.as_of, facts.week, project.name)
        for fmt in want:
            if fmt == "md" and known is not None:
                bodies[fmt].append(known)
                continue
            meta = replace(p_meta, logo=_logo(ws)[0]) if fmt == "html" else p_meta
            bodies[fmt].append(render_template(p_env, f"partials/brief_body.{fmt}.j2",
                                               {"v": view, "doc": meta}))
    assert first_facts is not None
    title = tr.label("doc.portfolio")
    meta = DocMeta("portfolio", title, ws.settings.organization, as_of, first_facts.week,
                   locale, f"{person} · {title} · {tr.date(as_of)}")
    out: dict[str, bytes] = {}
    if "md" in fmts:
        summary = PortfolioView(person, email, tuple(rows), tuple(bodies["md"]))
        md = render_template(env, "portfolio.md.j2", {"v": summary, "doc": meta})
        out["md"] = _tidy(md).encode()
    if html_wanted:
        summary = PortfolioView(person, email, tuple(rows),
                                tuple(safe(b) for b in bodies["html"]))
        html = render_template(env, "portfolio.html.j2",
                               {"v": summary, "doc": _html_meta(ws, meta)})
        if "html" in fmts:
            out["html"] = html.encode()
        if "pdf" in fmts:
            pdf_title = f"{title} — {person} — {first_facts.week}"
            author = ws.settings.organization or person
            subject = ", ".join(p.name for p in shown)
            out["pdf"] = _pdf(ws, "portfolio", html, pdf_title, author, subject, locale, as_of)
    return {fmt: out[fmt] for fmt in fmts}


def render_portfolio(
    ws: Workspace,
    email: str,
    projects: Sequence[Project],
    as_of: date,
    fmt: str,
    changes: Mapping[str, Sequence[ChangeLike] | None] | None = None,
    known_facts: Mapping[str, ProjectFacts] | None = None,
) -> bytes:
    """One sales person's portfolio brief: a summary table of their active projects, then each
    project's brief."""
    return render_portfolio_formats(ws, email, projects, as_of, [fmt], changes, known_facts)[fmt]


def render_email(ws: Workspace, facts: Sequence[ProjectFacts], week: str, locale: str,
                 filename: str, updated: str | None = None) -> tuple[str, str]:
    """The plain-text and the HTML body of the email of ``week`` that carries the brief of these
    projects (of several, a portfolio brief) as the attachment ``filename``; ``updated`` is the
    first line of a re-sent brief ("Updated: ...")."""
    tr = _translator(ws, locale)
    env = environment(ws.templates_dir, locale)
    view = EmailView(tuple(email_project(f, tr, week) for f in facts), len(facts) > 1,
                     filename, health_colours(ws), updated)
    meta = replace(_meta(ws, tr, "portfolio" if view.portfolio else "brief", facts[0].as_of,
                         week, ws.settings.organization or "planforge"), kind="email")
    context = {"v": view, "doc": meta}
    return (render_template(env, "email.txt.j2", context),
            render_template(env, "email.html.j2", context))


def render_index(ws: Workspace, manifest: Manifest, as_of: date, week: str) -> bytes:
    """``index.html`` of the output folder, the dashboard, in the workspace's language: made
    from the manifest and the workspace's project ids alone (a merge of shards calls it)."""
    from .index import index_view

    locale = ws.settings.locale
    tr = _translator(ws, locale)
    view = index_view(ws.project_ids(), manifest, week, as_of, tr)
    meta = _meta(ws, tr, "index", as_of, week, ws.settings.organization or "planforge")
    html = render_template(environment(ws.templates_dir, locale), "index.html.j2",
                           {"v": view, "doc": _html_meta(ws, meta)})
    return html.encode()
