"""``planforge init`` and ``planforge new``: a workspace and a project folder from the commented
examples shipped with the templates."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from string import Template

from .audience import PLACEHOLDER_DOMAIN
from .dates import in_range, iso_week, monday_of, range_text
from .errors import WorkspaceError
from .schema import SCHEMA_NAMES, SCHEMAS_DIR, is_address, schema_text
from .workspace import PROJECT_FILE, PROJECT_ID, UPDATES_DIR, Workspace, display_path


def _example(name: str) -> Template:
    return Template((resources.files("planforge.templates") / "new" / name).read_text("utf-8"))


def _yaml_string(text: str) -> str:
    # A JSON string is a valid double-quoted YAML scalar: quotes, colons and '#' stay text.
    return json.dumps(text, ensure_ascii=False)


def ensure_schemas(ws: Workspace) -> Path:
    """The workspace's ``schemas/`` folder, filled with the shipped schemas where missing, so the
    ``$schema`` line of every file points at a path that exists in the repository."""
    return _write_schemas(ws.root)


def _write_schemas(root: Path) -> Path:
    folder = root / SCHEMAS_DIR
    folder.mkdir(exist_ok=True)
    for name in SCHEMA_NAMES:
        target = folder / f"{name}.schema.json"
        if not target.exists():
            target.write_text(schema_text(name), "utf-8")
    return folder


#: A project's length when ``new`` is given no end: twelve weeks to a Friday.
DEFAULT_LENGTH = timedelta(weeks=12, days=4)
#: Placeholder people, in the project's language; their addresses cannot be sent to (``.invalid``).
_PLACEHOLDERS = {
    "en": {"pm": "Project Manager", "ae": "Account Executive", "customer": "Customer name",
           "note": "# a placeholder: put the real address here"},
    "zh-CN": {"pm": "项目经理", "ae": "销售经理", "customer": "客户名称",
              "note": "# 占位地址：请改为真实邮箱，改好前不会向此地址发送邮件"},
}
_DATE_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Contact:
    """A person given on the command line as ``Name <address>``, ``Name`` or ``address``."""

    name: str | None = None
    email: str | None = None


def default_currency(ws: Workspace, locale: str) -> str:
    """The budget currency of a new project: the workspace's, else the usual one of its locale."""
    return ws.settings.currency or locale_currency(locale)


def locale_currency(locale: str) -> str:
    """The currency a workspace in this locale most likely plans in."""
    return "CNY" if locale == "zh-CN" else "EUR"


def parse_day(text: str, option: str) -> date:
    """A date given as an option, YYYY-MM-DD within the years planforge handles."""
    if not _DATE_SHAPE.fullmatch(text):
        raise WorkspaceError(f"{option} {text!r}: write the date as YYYY-MM-DD, e.g. 2026-09-07")
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise WorkspaceError(f"{option} {text}: no such day ({exc})") from None
    if not in_range(day):
        raise WorkspaceError(f"{option} {text} is outside the years planforge handles "
                             f"({range_text()})")
    return day


def parse_contact(text: str, option: str) -> Contact:
    """``Name <address>``, a bare address or a bare name, as typed after ``option``."""
    problem = _text_problem(text)
    if problem:
        raise WorkspaceError(f"{option}: {problem}")
    text = text.strip()
    if "<" in text or ">" in text:
        match = re.fullmatch(r"(.*?)\s*<([^<>]*)>", text)
        if not match:
            raise WorkspaceError(f"{option} {text!r}: write \"Name <name@example.com>\"")
        name, email = match[1].strip().strip('"').strip(), match[2].strip()
    elif "@" in text:
        name, email = "", text
    else:
        name, email = text, ""
    if email and not is_address(email):
        raise WorkspaceError(f"{option} {text!r}: {email!r} is not an email address "
                             "(write \"Name <name@example.com>\")")
    return Contact(name or None, email or None)


def _text_problem(text: str) -> str | None:
    # The plan's schema allows 200 characters; a line break or control character would print
    # as garbage on every document, so it is refused here rather than by validate later.
    if not text.strip():
        return "empty"
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        return "a line break or control character is not allowed"
    if len(text) > 200:
        return f"{len(text)} characters, at most 200 are allowed"
    return None


def _checked_text(text: str | None, option: str) -> str | None:
    if text is None:
        return None
    problem = _text_problem(text)
    if problem:
        raise WorkspaceError(f"{option}: {problem}")
    return text.strip()


@dataclass(frozen=True)
class Schedule:
    """The dates of a new plan: the project, its two phases and the kickoff."""

    start: date
    end: date
    kickoff: date
    phase1_end: date
    phase2_start: date

    @classmethod
    def between(cls, start: date, end: date) -> Schedule:
        """Discovery takes the first two sevenths (three weeks and a half of twelve), delivery
        the rest from the next working day; each date stays inside the project."""
        span = (end - start).days
        phase1_end = start + timedelta(days=span * 2 // 7)
        phase2_start = phase1_end + timedelta(days=1)
        while phase2_start.weekday() >= 5 and phase2_start < end:
            phase2_start += timedelta(days=1)
        kickoff = min(start + timedelta(days=4), phase1_end)
        return cls(start, end, kickoff, phase1_end, min(phase2_start, end))


def plan_dates(today: date, start: str | None, end: str | None) -> Schedule:
    """The schedule from ``--start`` and ``--end``: by default from this week's Monday, twelve
    weeks to a Friday; an end on or before the start is refused."""
    first = parse_day(start, "--start") if start else None
    last = parse_day(end, "--end") if end else None
    first = first or monday_of(today)
    last = last or first + DEFAULT_LENGTH
    if last <= first:
        given = f"--start {first}" if start else f"the start ({first}, this week's Monday; " \
            "give --start)"
        raise WorkspaceError(f"--end {last} is not after {given}: a project ends after it starts")
    if not in_range(last):
        raise WorkspaceError(f"the end ({last}) is outside the years planforge handles "
                             f"({range_text()}); give --end")
    return Schedule.between(first, last)


def create_project(
    ws: Workspace,
    project_id: str,
    *,
    name: str | None = None,
    customer: str | None = None,
    locale: str | None = None,
    start: str | None = None,
    end: str | None = None,
    coordinator: str | None = None,
    sales: str | None = None,
    today: date | None = None,
) -> list[str]:
    """Write ``projects/<id>/`` with a commented plan and this week's update, in the project's
    language; return the paths written. An existing folder is never touched."""
    if not PROJECT_ID.fullmatch(project_id):
        raise WorkspaceError(
            f"'{project_id}' is not a project id: lowercase letters, digits and hyphens, starting "
            "with a letter or digit, at most 63 characters"
        )
    # Every option is checked before anything is written.
    title = _checked_text(name, "--name") or project_id.replace("-", " ").title()
    account = _checked_text(customer, "--customer")
    pm = parse_contact(coordinator, "--coordinator") if coordinator is not None else Contact()
    ae = parse_contact(sales, "--sales") if sales is not None else Contact()
    day = today or ws.today()
    dates = plan_dates(day, start, end)
    folder = ws.projects_dir / project_id
    if folder.exists():
        raise WorkspaceError(f"{display_path(folder)} already exists; choose another id")
    language = locale or ws.settings.locale
    lang = language if language in _PLACEHOLDERS else "en"
    placeholder = _PLACEHOLDERS[lang]
    # A project that starts after today is planned, and its first update is for its first week.
    # One under way gets the update validate asks for: the last full week's, once the project
    # has one, else this week's.
    planned = dates.start > day
    last_week = monday_of(day) - timedelta(weeks=1)
    week = iso_week(dates.start if planned else min(
        last_week if last_week >= dates.start else day, dates.end))
    schemas = ensure_schemas(ws)
    values = {
        "name": title,
        "name_yaml": _yaml_string(title),
        "customer_yaml": _yaml_string(account or placeholder["customer"]),
        "locale": language,
        "status": "planned" if planned else "active",
        "currency": default_currency(ws, language),
        "pm_name": _yaml_string(pm.name or placeholder["pm"]),
        "pm_email": _email_value(pm.email, "pm", lang),
        "ae_name": _yaml_string(ae.name or placeholder["ae"]),
        "ae_email": _email_value(ae.email, "ae", lang),
        "start": dates.start.isoformat(),
        "end": dates.end.isoformat(),
        "kickoff": dates.kickoff.isoformat(),
        "phase1_end": dates.phase1_end.isoformat(),
        "phase2_start": dates.phase2_start.isoformat(),
        "week": week,
    }
    suffix = "" if lang == "en" else f".{lang}"
    ws.projects_dir.mkdir(parents=True, exist_ok=True)
    # Write into a sibling temporary folder and rename it into place, so an interrupted run
    # leaves either the whole project or nothing.
    staging = Path(tempfile.mkdtemp(prefix=f".{project_id}-", dir=ws.projects_dir))
    try:
        (staging / UPDATES_DIR).mkdir()
        plan = _example(f"project{suffix}.yaml").substitute(
            values, schema=os.path.relpath(schemas / "project.schema.json", folder)
        )
        (staging / PROJECT_FILE).write_text(plan, "utf-8")
        update = _example(f"update{suffix}.yaml").substitute(
            values,
            schema=os.path.relpath(schemas / "update.schema.json", folder / UPDATES_DIR),
        )
        (staging / UPDATES_DIR / f"{week}.yaml").write_text(update, "utf-8")
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [
        display_path(folder / PROJECT_FILE),
        display_path(folder / UPDATES_DIR / f"{week}.yaml"),
    ]


def _email_value(email: str | None, key: str, lang: str) -> str:
    # Without a real address the plan gets one under .invalid: validate flags it until it is
    # replaced, and send never addresses it.
    if email:
        return _yaml_string(email)
    note = _PLACEHOLDERS[lang]["note"]
    return f"{key}@{PLACEHOLDER_DOMAIN}   {note}"


#: Where each CI recipe goes in the repository, as GitHub and GitLab look for it.
CI_RECIPES = {
    "github": ("github-actions.yml", ".github/workflows/planforge.yml"),
    "gitlab": ("gitlab-ci.yml", ".gitlab-ci.yml"),
}
GITIGNORE = """\
# Built documents: planforge build makes them again from the plans.
output/
# The send ledger: which briefs went to whom (kept by CI in its cache).
.planforge/
"""


def init_workspace(root: Path, *, ci: str = "none", locale: str = "en",
                   timezone: str = "UTC", organization: str | None = None,
                   currency: str | None = None) -> list[str]:
    """Write a workspace into ``root`` (empty or not): ``planforge.yaml``, ``.gitignore``,
    ``schemas/``, ``projects/`` and the CI recipe asked for; return the paths written. Nothing
    that exists is overwritten: any of these files already there stops it before it writes."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise WorkspaceError(f"--timezone {timezone}: not a time zone name (e.g. Europe/Berlin, "
                             "Asia/Shanghai, UTC)") from None
    if currency is not None and not re.fullmatch(r"[A-Z]{3}", currency):
        raise WorkspaceError(f"--currency {currency}: not an ISO 4217 code (e.g. EUR, USD, CNY)")
    files = {
        "planforge.yaml": _example("planforge.yaml").substitute(
            organization=_yaml_string(organization or root.resolve().name),
            locale=locale, timezone=timezone, currency=currency or locale_currency(locale)),
        ".gitignore": GITIGNORE,
    }
    if ci != "none":
        source, target = CI_RECIPES[ci]
        files[target] = (resources.files("planforge.ci") / source).read_text("utf-8")
    targets = [*files, *(f"{SCHEMAS_DIR}/{n}.schema.json" for n in SCHEMA_NAMES)]
    present = [t for t in targets if (root / t).exists()]
    if present:
        raise WorkspaceError(
            f"{_folder_name(root)} already has {', '.join(present)}; planforge init does not "
            "overwrite files (move them away, or edit them by hand)")
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        target_path = root / rel
        target_path.parent.mkdir(parents=True, exist_ok=True)
        target_path.write_text(text, "utf-8")
    _write_schemas(root)
    (root / "projects").mkdir(exist_ok=True)
    written = [*files, *(f"{SCHEMAS_DIR}/{n}.schema.json" for n in SCHEMA_NAMES)]
    return [display_path(root / rel) for rel in written]


def _folder_name(root: Path) -> str:
    shown = display_path(root)
    return "this folder" if shown == "." else shown
