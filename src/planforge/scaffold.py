"""``planforge init`` and ``planforge new``: a workspace and a project folder from the commented
examples shipped with the templates."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from string import Template

from .dates import iso_week
from .errors import WorkspaceError
from .schema import SCHEMA_NAMES, SCHEMAS_DIR, schema_text
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


def create_project(
    ws: Workspace,
    project_id: str,
    *,
    customer: str | None = None,
    locale: str | None = None,
    today: date | None = None,
) -> list[str]:
    """Write ``projects/<id>/`` with a commented plan and this week's update; return the paths
    written. An existing folder is never touched."""
    if not PROJECT_ID.fullmatch(project_id):
        raise WorkspaceError(
            f"'{project_id}' is not a project id: lowercase letters, digits and hyphens, starting "
            "with a letter or digit, at most 63 characters"
        )
    folder = ws.projects_dir / project_id
    if folder.exists():
        raise WorkspaceError(f"{display_path(folder)} already exists; choose another id")
    day = today or ws.today()
    start = day - timedelta(days=day.weekday())  # this week's Monday
    end = start + timedelta(weeks=12, days=4)
    phase1_end = start + timedelta(weeks=3, days=4)
    schemas = ensure_schemas(ws)
    name = project_id.replace("-", " ").title()
    week = iso_week(day)
    values = {
        "name": name,
        "name_yaml": _yaml_string(name),
        "customer_yaml": _yaml_string(customer or "Customer name"),
        "locale": locale or ws.settings.locale,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "kickoff": (start + timedelta(days=4)).isoformat(),
        "phase1_end": phase1_end.isoformat(),
        "phase2_start": (phase1_end + timedelta(days=3)).isoformat(),
        "week": week,
    }
    ws.projects_dir.mkdir(parents=True, exist_ok=True)
    # Write into a sibling temporary folder and rename it into place, so an interrupted run
    # leaves either the whole project or nothing.
    staging = Path(tempfile.mkdtemp(prefix=f".{project_id}-", dir=ws.projects_dir))
    try:
        (staging / UPDATES_DIR).mkdir()
        plan = _example("project.yaml").substitute(
            values, schema=os.path.relpath(schemas / "project.schema.json", folder)
        )
        (staging / PROJECT_FILE).write_text(plan, "utf-8")
        update = _example("update.yaml").substitute(
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
                   timezone: str = "UTC", organization: str | None = None) -> list[str]:
    """Write a workspace into ``root`` (empty or not): ``planforge.yaml``, ``.gitignore``,
    ``schemas/``, ``projects/`` and the CI recipe asked for; return the paths written. Nothing
    that exists is overwritten: any of these files already there stops it before it writes."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise WorkspaceError(f"--timezone {timezone}: not a time zone name (e.g. Europe/Berlin, "
                             "Asia/Shanghai, UTC)") from None
    files = {
        "planforge.yaml": _example("planforge.yaml").substitute(
            organization=_yaml_string(organization or root.resolve().name),
            locale=locale, timezone=timezone),
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
