"""``planforge doctor``: is this machine able to build every document?

Each check says what it found and, when something is missing, the command that installs it.
Nothing here imports WeasyPrint at module level: the checks import it themselves and report
a failure to load as a finding, not a traceback.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .workspace import Workspace

#: The oldest WeasyPrint whose URL fetcher API planforge's restricted fetcher is written for.
WEASYPRINT_MIN = 70


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    ok: bool
    detail: str  # what was found
    fix: str | None = None  # the command that fixes it, when not ok
    essential: bool = True  # without it planforge cannot build any document


def _python() -> Check:
    version = platform.python_version()
    ok = sys.version_info >= (3, 11)
    return Check("Python", ok, version, None if ok else "install Python 3.11 or newer")


def _planforge() -> Check:
    try:
        version = metadata.version("planforge")
    except metadata.PackageNotFoundError:
        return Check("planforge", False, "not installed as a package", "pip install -e .")
    return Check("planforge", True, version)


def _weasyprint() -> Check:
    try:
        version = metadata.version("weasyprint")
    except metadata.PackageNotFoundError:
        return Check("WeasyPrint", False, "not installed", "pip install 'weasyprint>=70'")
    from .pdf import preload

    try:
        preload()
    except OSError as exc:  # the Python package is there but Pango is not
        return Check("WeasyPrint", False, f"{version}, cannot load: {exc}",
                     "apt-get install libpango-1.0-0 libpangoft2-1.0-0")
    major = int(version.split(".")[0]) if version.split(".")[0].isdigit() else 0
    if major < WEASYPRINT_MIN:
        return Check("WeasyPrint", False, f"{version} (needs {WEASYPRINT_MIN} or newer)",
                     "pip install -U 'weasyprint>=70'")
    return Check("WeasyPrint", True, version)


def _pango() -> Check:
    from .pdf import pango_version

    try:
        number = pango_version()
    except (ImportError, OSError) as exc:
        return Check("Pango", False, f"cannot load: {exc}",
                     "apt-get install libpango-1.0-0 libpangoft2-1.0-0")
    version = f"{number // 10000}.{number // 100 % 100}.{number % 100}"
    ok = number >= 14400  # WeasyPrint needs Pango 1.44
    return Check("Pango", ok, version, None if ok else "apt-get install libpango-1.0-0 (1.44+)")


def _harfbuzz_subset() -> Check:
    # Without libharfbuzz-subset WeasyPrint subsets fonts with fontTools, which takes about
    # 20 s for a Chinese PDF instead of about 1 s: documents still build, slowly.
    from .pdf import has_harfbuzz_subset

    try:
        found = has_harfbuzz_subset()
    except (ImportError, OSError) as exc:
        return Check("HarfBuzz subsetting", False, f"cannot load: {exc}",
                     "apt-get install libharfbuzz-subset0")
    if not found:
        return Check("HarfBuzz subsetting", False,
                     "libharfbuzz-subset missing: fonts are subset by fontTools, Chinese PDFs "
                     "take ~20 s instead of ~1 s", "apt-get install libharfbuzz-subset0")
    return Check("HarfBuzz subsetting", True, "libharfbuzz-subset found")


def _fonts() -> Check:
    from .fonts import REQUIRED, install_command, missing_fonts

    missing = missing_fonts()
    if missing:
        names = ", ".join(f"{font.family} {font.style}" for font in missing)
        return Check("PDF fonts", False, f"missing {names}: PDFs cannot be rendered",
                     install_command(missing))
    families = ", ".join(dict.fromkeys(f"{font.family} ({font.package})" for font in REQUIRED))
    return Check("PDF fonts", True, families)


def _git() -> Check:
    git = shutil.which("git")
    if git is None:
        return Check("git", False, "not found: 'since last week' and 'diff' need it",
                     "apt-get install git")
    try:
        out = subprocess.run([git, "--version"], capture_output=True, text=True, timeout=10,
                             check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return Check("git", False, f"cannot run: {exc}", "apt-get install git")
    return Check("git", True, out.removeprefix("git version ").strip() or git)


#: Without these nothing renders; the others cost speed (HarfBuzz), PDFs (the fonts)
#: or "since last week" (git), and doctor still exits 0 without them.
ESSENTIAL = frozenset({"Python", "planforge", "WeasyPrint", "Pango"})

#: Each check with the name it reports under, so that a check that crashes is still reported
#: under its name (and counts as essential if it is).
CHECKS: tuple[tuple[str, Callable[[], Check]], ...] = (
    ("Python", _python), ("planforge", _planforge), ("WeasyPrint", _weasyprint),
    ("Pango", _pango), ("HarfBuzz subsetting", _harfbuzz_subset), ("PDF fonts", _fonts),
    ("git", _git),
)


def _run(checks: Iterable[tuple[str, Callable[[], Check]]],
         essential: Collection[str]) -> list[Check]:
    """Each check's result, in order; a check that raises is reported as failed, not crashed."""
    results = []
    for name, check in checks:
        try:
            result = check()
        except Exception as exc:  # a check must never crash the report
            result = Check(name, False, f"check failed: {type(exc).__name__}: {exc}")
        results.append(replace(result, essential=result.name in essential))
    return results


def check_machine() -> list[Check]:
    """Every check, in the order a reader would fix them."""
    return _run(CHECKS, ESSENTIAL)


# The workspace: each check takes the workspace folder, so that one that cannot be read (an
# invalid planforge.yaml) is itself a finding, and the others still run with the defaults.

#: Of the workspace checks, the one without which no command works.
WORKSPACE_ESSENTIAL = frozenset({"planforge.yaml"})


def _settings(root: Path) -> Check:
    from .errors import InvalidFilesError
    from .workspace import CONFIG_FILE, load_settings

    config = root / CONFIG_FILE
    if not config.is_file():
        return Check("planforge.yaml", True, "none here: planforge uses its defaults")
    try:
        load_settings(config)
    except InvalidFilesError as exc:
        first = exc.findings[0]
        where = f"{first.file}:{first.line}" if first.line else first.file
        more = f" (and {len(exc.findings) - 1} more)" if len(exc.findings) > 1 else ""
        return Check("planforge.yaml", False, f"invalid: {where}: {first.message}{more}",
                     "planforge validate  (lists every problem with its line)")
    return Check("planforge.yaml", True, "valid")


def _history(ws: Workspace) -> Check:
    from .errors import GitError
    from .history import SHALLOW_HINT, last_week_in_history

    try:
        found = last_week_in_history(ws)
    except GitError as exc:
        return Check("git history", False, f"cannot read: {exc}")
    if found is None:
        return Check("git history", False,
                     "not a git repository: 'since last week' and diff have no history to read",
                     "git init && git add -A && git commit -m 'Plans'")
    reaches, shallow = found
    if reaches:
        return Check("git history", True, "reaches back before this week ('since last week')")
    if shallow:
        return Check("git history", False, "a shallow clone without last week's commit",
                     SHALLOW_HINT.removeprefix("this is a shallow clone, which lacks the history "
                                               "needed: "))
    return Check("git history", True,
                 "starts this week: 'since last week' has something to compare from next week")


def _smtp(ws: Workspace) -> Check:
    import smtplib
    import ssl

    smtp = ws.settings.email.smtp
    if smtp is None:
        return Check("SMTP", True, "not configured (needed by send only)")
    host, port = smtp.address
    fix = "check email.smtp in planforge.yaml, and that this machine may reach the server"
    try:
        client = (smtplib.SMTP_SSL(host, port, timeout=smtp.timeout,
                                   context=ssl.create_default_context())
                  if smtp.security == "ssl" else smtplib.SMTP(host, port, timeout=smtp.timeout))
        try:
            code, _ = client.ehlo()
            starttls = client.has_extn("starttls")
        finally:
            client.close()
    except (OSError, smtplib.SMTPException) as exc:
        return Check("SMTP", False, f"{host}:{port} cannot be reached: {exc or type(exc).__name__}",
                     fix)
    if code != 250:
        return Check("SMTP", False, f"{host}:{port} refused EHLO ({code})", fix)
    if smtp.security == "starttls" and not starttls:
        return Check("SMTP", False, f"{host}:{port} answers but offers no STARTTLS",
                     "set email.smtp.security to the server's (ssl on port 465, or starttls)")
    return Check("SMTP", True, f"{host}:{port} answers EHLO (nothing was sent)")


def _schemas(ws: Workspace) -> Check:
    from .schema import SCHEMAS_DIR, stale_schemas

    stale = stale_schemas(ws.root / SCHEMAS_DIR)
    if stale is None:
        return Check("schemas/", False, f"no {SCHEMAS_DIR}/ folder: editors cannot check the "
                     "files as you type", "planforge schema --write")
    if stale:
        return Check("schemas/", False, f"out of date with this planforge: {', '.join(stale)}",
                     "planforge schema --write")
    return Check("schemas/", True, "the same as this planforge's")


def check_workspace(explicit: Path | None = None) -> list[Check]:
    """The workspace's checks: settings, history, SMTP, schemas."""
    from .errors import PlanforgeError
    from .model import Settings
    from .workspace import CONFIG_FILE, Workspace, find_workspace

    try:
        ws = find_workspace(explicit)
    except PlanforgeError:
        # An invalid planforge.yaml: reported below, the other checks run with the defaults.
        start = (explicit or Path.cwd()).resolve()
        root = next((f for f in (start, *start.parents) if (f / CONFIG_FILE).is_file()), start)
        ws = Workspace(root, Settings(), root / CONFIG_FILE)
    checks: list[tuple[str, Callable[[], Check]]] = [
        ("planforge.yaml", lambda: _settings(ws.config_path.parent if ws.config_path else ws.root)),
        ("git history", lambda: _history(ws)),
        ("SMTP", lambda: _smtp(ws)),
        ("schemas/", lambda: _schemas(ws)),
    ]
    return _run(checks, WORKSPACE_ESSENTIAL)
