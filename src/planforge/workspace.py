"""Finding the workspace, reading ``planforge.yaml``, and the paths inside it."""

from __future__ import annotations

import os
import re
import string
from dataclasses import dataclass, replace
from datetime import date
from functools import cached_property
from importlib import resources
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

from .dates import timezone_problem, today_in
from .errors import Finding, InvalidFilesError, WorkspaceError
from .files import FileRefused, logo_problem, no_link_below, read_file
from .model import Settings, build_settings
from .schema import check_document
from .sources import PROJECT_FILE as PROJECT_FILE
from .sources import RETRO_FILE as RETRO_FILE
from .sources import UPDATES_DIR as UPDATES_DIR
from .sources import display_path as display_path
from .sources import lookalike
from .yamlio import Document, load_bytes

CONFIG_FILE = "planforge.yaml"
PROJECT_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def check_timezone(doc: Document, path: list[str | int], name: str) -> Finding | None:
    """A finding if ``name`` is not an IANA time zone this machine knows."""
    problem = timezone_problem(name)
    return doc.finding(path, problem) if problem else None


@dataclass(frozen=True)
class Workspace:
    """A folder holding ``planforge.yaml`` (optional) and ``projects/``."""

    root: Path
    settings: Settings
    config_path: Path | None = None

    def inside(self, setting: str, relative: str) -> Path:
        """A path a setting names inside the workspace, refused when reached through a link:
        a link would read plans or templates, or append to a ledger, outside the workspace."""
        path = self.root / relative
        try:
            no_link_below(self.root, path)
        except FileRefused as exc:
            raise WorkspaceError(f"{setting}: {display_path(path)}: {exc}",
                                 display_path(path)) from None
        return path

    # The two folders every project and document reads are checked once per workspace: a
    # build asked for them 18 times per project, and each check looks at each folder on the
    # way (a link put there during a build is still refused by the reads, which open each
    # file without following a link).
    @cached_property
    def projects_dir(self) -> Path:
        return self.inside("paths.projects", self.settings.projects_dir)

    @property
    def output_dir(self) -> Path:
        return self.root / self.settings.output_dir

    @cached_property
    def templates_dir(self) -> Path:
        return self.inside("paths.templates", self.settings.templates_dir)

    def template_overrides(self) -> Path | None:
        """The workspace's own templates folder, if it has one; None also where it is planforge's
        built-in folder itself (a workspace at the top of a planforge checkout)."""
        folder = self.templates_dir
        if not folder.is_dir():
            return None
        builtin = Path(str(resources.files("planforge.templates")))
        return None if folder.resolve() == builtin.resolve() else folder

    def project_ids(self) -> list[str]:
        """Every project folder, sorted: a folder holding ``project.yaml``."""
        if not self.projects_dir.is_dir():
            return []
        return sorted(
            entry.name
            for entry in self.projects_dir.iterdir()
            if entry.is_dir() and not entry.is_symlink() and (entry / PROJECT_FILE).is_file()
        )

    def ignored_folders(self) -> list[Finding]:
        """Warnings for folders of the projects folder that are not projects (no
        ``project.yaml``) but look as if they were meant to be: planforge would skip them
        without a word, and a misnamed plan would never be built."""
        if not self.projects_dir.is_dir():
            return []
        found = []
        for entry in sorted(self.projects_dir.iterdir()):
            if entry.is_symlink() and entry.is_dir():
                found.append(Finding(display_path(entry), None, None, "", "warning",
                                     "a symbolic link: planforge reads no project through a "
                                     "link, so this one is never validated or built"))
                continue
            if entry.name.startswith(".") or not entry.is_dir() or (entry / PROJECT_FILE).is_file():
                continue
            plans = sorted(p.name for p in entry.iterdir() if lookalike(p.name) == PROJECT_FILE)
            hint = (f"found {', '.join(plans)}: rename the plan to {PROJECT_FILE}"
                    if plans else f"add {PROJECT_FILE}, or move the folder out")
            found.append(Finding(display_path(entry), None, None, "", "warning",
                                 f"not a project, so never validated or built: no "
                                 f"{PROJECT_FILE} here ({hint})"))
        return found

    def require_projects(self) -> None:
        """Refuse to check or build a folder that is no workspace, instead of succeeding with
        nothing to do (a CI job run from the wrong folder must fail)."""
        if not self.projects_dir.is_dir():
            where = display_path(self.root)
            raise WorkspaceError(
                f"no {self.settings.projects_dir}/ folder in {where}: run planforge in a "
                "workspace (a folder with planforge.yaml and projects/), name one with "
                "--workspace, or start one with planforge new PROJECT_ID",
                where,
            )

    def project_dir(self, project_id: str) -> Path:
        """The folder of a project; the id is checked so it cannot escape the workspace."""
        if not PROJECT_ID.fullmatch(project_id):
            raise WorkspaceError(
                f"'{project_id}' is not a project id: lowercase letters, digits and hyphens, "
                "starting with a letter or digit, at most 63 characters"
            )
        folder = self.projects_dir / project_id
        if folder.is_symlink() or not (folder / PROJECT_FILE).is_file():
            known = ", ".join(self.project_ids()) or "none"
            where = display_path(self.projects_dir)
            raise WorkspaceError(f"no project '{project_id}' in {where} (projects: {known})")
        return folder

    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    def today(self) -> date:
        """Today in the workspace's time zone, the default as-of date of every document."""
        return today_in(self.timezone())


SUBJECT_FIELDS = ("project", "customer", "week")


def fill_subject(template: str, values: dict[str, str]) -> str:
    """The ``email.subject`` template with its placeholders filled; ValueError says what is
    wrong with it. Only the plain names: "{project.__class__}" is no placeholder, and a
    format spec such as "{project:>3000000000}" would fill memory."""
    fields = "the placeholders are {project}, {customer} and {week} (write {{ and }} for " \
        "literal braces)"
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"{exc}; {fields}") from None
    out: list[str] = []
    for literal, name, spec, conversion in parsed:
        out.append(literal)
        if name is None:
            continue
        if name not in SUBJECT_FIELDS or conversion or spec:
            whole = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise ValueError(f"cannot use {{{whole}}}; {fields}")
        out.append(values[name])
    return "".join(out)


_PATH_DEFAULTS = {"projects": "projects", "output": "output", "templates": "templates"}


def _folder_problems(doc: Document) -> list[Finding]:
    """The workspace's folders are folders of their own: not the workspace itself, not hidden
    (``.git`` holds a CI token), and none inside another. A templates folder of ``.`` would let
    a template include any file of the workspace; an output folder of ``projects`` would write
    documents among the plans."""
    given = doc.data.get("paths") or {}
    folders = {key: PurePosixPath(given.get(key, default)) for key, default in
               _PATH_DEFAULTS.items()}
    findings = []
    for key, folder in folders.items():
        parts = [p for p in folder.parts if p != "."]
        if not parts:
            problem = "must be a folder inside the workspace, not the workspace itself"
        elif any(p.startswith(".") for p in parts):
            problem = "must not be or lie in a hidden folder such as .git"
        else:
            inside = [other for other, path in folders.items() if other != key and
                      (folder == path or path in folder.parents or folder in path.parents)]
            problem = f"must not overlap paths.{inside[0]}" if inside else ""
        if problem and key in given:
            findings.append(doc.finding(["paths", key], f"'{given[key]}' {problem}"))
    return findings


def _check_settings(doc: Document, root: Path) -> list[Finding]:
    """What the schema cannot say of ``planforge.yaml``: folders of their own, a real time zone,
    a logo that can be read, a subject template that send can fill."""
    findings = _folder_problems(doc)
    tz = doc.data.get("timezone")
    problem = check_timezone(doc, ["timezone"], tz) if tz else None
    if problem:
        findings.append(problem)
    logo = (doc.data.get("brand") or {}).get("logo")
    if logo is not None:
        try:
            drawn = logo_problem(logo, read_file(root / logo, root))
            if drawn:
                findings.append(doc.finding(["brand", "logo"], f"'{logo}': {drawn}"))
        except FileRefused as exc:
            findings.append(doc.finding(["brand", "logo"], f"'{logo}': {exc}"))
        except OSError:
            findings.append(doc.finding(["brand", "logo"], f"no file '{logo}' in the workspace"))
    subject = (doc.data.get("email") or {}).get("subject")
    if subject is not None:
        try:
            fill_subject(subject, dict.fromkeys(SUBJECT_FIELDS, ""))
        except ValueError as exc:
            findings.append(doc.finding(["email", "subject"], str(exc)))
    return findings


def load_settings(path: Path) -> Settings:
    """Read and check ``planforge.yaml``; every problem is reported at once."""
    try:
        raw = read_file(path, path.parent)
    except FileRefused as exc:
        raise InvalidFilesError([Finding(display_path(path), None, None, "", "error",
                                         str(exc))]) from None
    return _parse_settings(raw, display_path(path), path.parent)


def _parse_settings(raw: bytes, name: str, root: Path | None) -> Settings:
    """Settings from the bytes of ``planforge.yaml``; the checks of what they name in the
    workspace (``root``) are left out for a file read from an older revision (None)."""
    doc, findings = load_bytes(raw, name)
    if doc is not None and doc.data is None:  # an empty file: every key is optional
        doc = replace(doc, data={})
    if doc is not None and not findings:
        findings = check_document(doc, "workspace")
        if not findings and isinstance(doc.data, dict) and root is not None:
            findings = _check_settings(doc, root)
    if findings:
        raise InvalidFilesError(findings)
    assert doc is not None
    return build_settings(doc.data if isinstance(doc.data, dict) else None)


def committed_settings(raw: bytes | None, name: str) -> Settings | None:
    """``planforge.yaml`` as committed at a revision (None: there was none, so the defaults);
    None when that file was invalid."""
    if raw is None:
        return Settings()
    try:
        return _parse_settings(raw, name, None)
    except InvalidFilesError:
        return None


def find_workspace(explicit: Path | None = None, start: Path | None = None) -> Workspace:
    """``--workspace`` if given; else the nearest folder upwards holding ``planforge.yaml``, as git
    finds ``.git``; else the current folder with default settings."""
    if explicit is not None:
        root = explicit.resolve()
        if not root.is_dir():
            raise WorkspaceError(f"workspace folder {explicit} does not exist",
                                 display_path(root))
        config = root / CONFIG_FILE
        if config.is_file():
            return Workspace(root, load_settings(config), config)
        return Workspace(root, Settings())
    here = (start or Path(os.getcwd())).resolve()
    for folder in (here, *here.parents):
        config = folder / CONFIG_FILE
        if config.is_file():
            return Workspace(folder, load_settings(config), config)
    return Workspace(here, Settings())
