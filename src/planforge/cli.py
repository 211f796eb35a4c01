"""The command line: parse options, call one function, print, map errors to exit codes.

Heavy modules are imported inside the commands that need them, so ``planforge --help`` and
``planforge validate`` never load Jinja or the PDF stack.
"""

from __future__ import annotations

import functools
import json
import sys
import traceback
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from .errors import PlanforgeError, os_error_text

if TYPE_CHECKING:
    from .errors import Finding
    from .outputs import DocumentKind
    from .timeline import DatedPlan
    from .workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    """What every command shares: the workspace option and the debug switch."""

    def __init__(self) -> None:
        self.workspace_dir: Path | None = None
        self.debug = False

    def workspace(self) -> Workspace:
        from .workspace import find_workspace

        return find_workspace(self.workspace_dir)


def _common(func: F) -> F:
    """``--workspace`` and ``--debug`` on every command, so they can follow the command name."""

    def set_workspace(ctx: click.Context, _: click.Parameter, value: Path | None) -> None:
        if value is not None:
            ctx.ensure_object(Context).workspace_dir = value

    def set_debug(ctx: click.Context, _: click.Parameter, value: bool) -> None:
        if value:
            ctx.ensure_object(Context).debug = True

    func = click.option(
        "--workspace",
        type=click.Path(file_okay=False, path_type=Path),
        expose_value=False,
        callback=set_workspace,
        help="Workspace folder (default: the nearest folder upwards with planforge.yaml).",
    )(func)
    func = click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        callback=set_debug,
        help="Show the traceback of any error (for reporting a bug).",
    )(func)
    return func


def _handle_errors(func: F) -> F:
    """Catch once, at the edge: known errors become a message and an exit code; anything else is
    a bug, shown in one line unless --debug asks for the traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context().ensure_object(Context)
        try:
            return func(*args, **kwargs)
        except PlanforgeError as exc:
            if ctx.debug:
                traceback.print_exc()
            click.echo(str(exc), err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except OSError as exc:
            # A full disk, a read-only folder, a path that is no file: the machine's answer,
            # not a bug, and it names the path.
            if ctx.debug:
                traceback.print_exc()
            click.echo(f"planforge: {os_error_text(exc)}", err=True)
            sys.exit(1)
        except Exception as exc:
            if ctx.debug:
                raise
            click.echo(
                f"planforge: internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug. Run the same command with --debug for the traceback and report "
                "it.",
                err=True,
            )
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def command(group: click.Group, name: str, **kwargs: Any) -> Callable[[F], F]:
    """A subcommand with the common options and the error handler."""

    def decorate(func: F) -> F:
        return group.command(name, **kwargs)(_common(_handle_errors(func)))  # type: ignore[return-value]

    return decorate


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="planforge")
@_common
@click.pass_context
def cli(ctx: click.Context) -> None:
    """planforge turns project plans kept as YAML in git into a kickoff charter, a weekly sales
    brief and a retrospective, as Markdown, HTML and PDF.

    \b
    Start with:
      planforge new acme-crm --customer "Acme Manufacturing"
      planforge validate
      planforge build
    """
    ctx.ensure_object(Context)


def _check_as_of(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    from .dates import in_range, range_text

    if value is not None and not in_range(value.date()):
        raise click.BadParameter(f"{value.date()} is outside the years planforge handles "
                                 f"({range_text()})")
    return value


def _as_of_option(func: F) -> F:
    return click.option(
        "--as-of",
        "as_of",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        callback=_check_as_of,
        help="As of this date, YYYY-MM-DD (default: today in the workspace time zone).",
    )(func)


def _github_escape(text: str, *, property_value: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def _print_findings(findings: list[Finding], fmt: str, checked: int, promoted: int = 0) -> None:
    """Every finding in the format asked for; the text format adds a summary on stderr.
    ``promoted`` is how many of the errors are warnings that --strict counts as errors."""
    if fmt == "json":
        click.echo(json.dumps([f.__dict__ for f in findings], ensure_ascii=False, indent=2))
        return
    for f in findings:
        if fmt == "github":
            where = f"file={_github_escape(f.file, property_value=True)}"
            if f.line is not None:
                where += f",line={f.line}"
                if f.column is not None:
                    where += f",col={f.column}"
            subject = f"{f.path}: " if f.path else ""
            click.echo(f"::{f.severity} {where},title=planforge::"
                       f"{_github_escape(subject + f.message)}")
        else:
            click.echo(f.format())
    if fmt != "text":
        return
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    # A workspace that could not be found was not read at all: no "in 0 files".
    where = f" in {_plural(checked, 'file')}" if checked else ""
    if not findings:
        click.echo(f"{_plural(checked, 'file')} checked: no problems", err=True)
    elif promoted:
        counted = "an error" if promoted == 1 else "errors"
        click.echo(f"{_plural(errors, 'error')}{where} ({_plural(promoted, 'warning')} counted "
                   f"as {counted} with --strict)", err=True)
    else:
        click.echo(f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}{where}", err=True)


def _validate(obj: Context, paths: tuple[Path, ...], as_of: Any,
              changed_since: str | None = None) -> tuple[list[Finding], int]:
    """Every finding and how many files were read. A broken planforge.yaml or an unusable
    workspace is reported as findings too, so that every output format holds for them."""
    from .errors import Finding, GitError, InvalidFilesError, WorkspaceError
    from .validate import validate_paths
    from .workspace import display_path

    try:
        ws = obj.workspace()
    except InvalidFilesError as exc:
        # Without its settings (where projects are, the health rules) nothing else can be checked.
        return list(exc.findings), 1
    except WorkspaceError as exc:
        folder = exc.file or display_path(obj.workspace_dir or Path.cwd())
        return [Finding(folder, None, None, "", "error", str(exc))], 0
    if changed_since is not None:
        try:
            paths = _changed_folders(ws, changed_since)
        except GitError as exc:  # a finding, so that the JSON and annotations stay well formed
            return [Finding(display_path(ws.root), None, None, "", "error", str(exc))], 0
        if not paths:
            return [], 0
    try:
        day: date = as_of.date() if as_of else ws.today()
        findings, checked = validate_paths(ws, list(paths), day)
        overrides = ws.template_overrides()
    except WorkspaceError as exc:
        return [Finding(exc.file or display_path(ws.root), None, None, "", "error", str(exc))], 0
    if overrides is not None and (not paths or ws.root in {p.resolve() for p in paths}):
        # Only a workspace with template overrides pays for importing the template engine.
        from .render import check_templates

        found, read = check_templates(overrides, display_path(overrides))
        findings, checked = sorted(findings + found), checked + read
    return findings, checked


def _changed_folders(ws: Workspace, rev: str) -> tuple[Path, ...]:
    """The folders ``validate --changed-since`` checks (none: nothing to check; the workspace
    itself: everything), said on stderr, which annotations and JSON do not read."""
    from .history import projects_to_validate

    ws.require_projects()
    ids = projects_to_validate(ws, rev)
    if ids is None:
        click.echo(f"note: files outside the projects folder changed since {rev}: every "
                   "project is checked", err=True)
        return (ws.root,)
    click.echo(f"note: {_plural(len(ids), 'project')} with files changed since {rev}", err=True)
    return tuple(ws.projects_dir / pid for pid in ids)


@command(cli, "validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "github", "json"]), default="text",
              show_default=True,
              help="github: annotations on the lines of a pull request; json: an array of "
                   "findings on stdout.")
@click.option("--strict", is_flag=True,
              help="Report warnings as errors, in every format, and fail on them.")
@_as_of_option
@click.option("--changed-since", metavar="REV",
              help="Only projects whose files changed since this git revision (working tree "
                   "and untracked files included); every project if a tracked file of the "
                   "workspace outside the projects folder changed (planforge.yaml, schemas, "
                   "the pinned planforge version).")
@click.pass_obj
def validate_command(obj: Context, paths: tuple[Path, ...], fmt: str, strict: bool,
                     as_of: Any, changed_since: str | None) -> None:
    """Check project files, project folders or the whole workspace.

    Reports every problem at once, one line each (file:line:col), and exits 1 if
    any is an error (or, with --strict, a warning). A broken planforge.yaml or a
    missing workspace is reported the same way, in the format asked for; exit
    code 2 means the command line itself is wrong.

    \b
    Examples:
      planforge validate
      planforge validate projects/acme-crm
      planforge validate projects/acme-crm/updates/2026-W47.yaml --format github
      planforge validate --changed-since origin/main --format github
    """
    if changed_since is not None and paths:
        raise click.UsageError("give paths or --changed-since, not both")
    findings, checked = _validate(obj, paths, as_of, changed_since)
    promoted = 0
    if strict:
        # Reported as errors in every format, so that a CI annotation or report agrees with the
        # exit code.
        promoted = sum(f.severity == "warning" for f in findings)
        findings = [replace(f, severity="error") for f in findings]
    _print_findings(findings, fmt, checked, promoted)
    if any(f.severity == "error" for f in findings):
        sys.exit(1)


@command(cli, "schema")
@click.argument("name", type=click.Choice(["project", "update", "retrospective", "workspace"]),
                default="project")
@click.option("--write", is_flag=True,
              help="Write all four schemas into the workspace's schemas/ folder instead, "
                   "replacing those that differ from this planforge's.")
@click.pass_obj
def schema_command(obj: Context, name: str, write: bool) -> None:
    """Print a JSON Schema, for editors and other tools.

    With --write, refresh the workspace's schemas/ folder (which the `$schema`
    line of every plan points at) after upgrading planforge.

    \b
    Examples:
      planforge schema update > update.schema.json
      planforge schema --write
    """
    from .schema import SCHEMAS_DIR, schema_text, write_schemas

    if not write:
        click.echo(schema_text(name), nl=False)
        return
    from .workspace import display_path

    ws = obj.workspace()
    changed = write_schemas(ws.root / SCHEMAS_DIR)
    for path in changed:
        click.echo(f"wrote {display_path(path)}")
    if not changed:
        click.echo(f"{display_path(ws.root / SCHEMAS_DIR)}/ is up to date", err=True)


@command(cli, "new")
@click.argument("project_id")
@click.option("--name", default=None, help="The project's name (default: made from the id).")
@click.option("--customer", default=None, help="The customer (account) name.")
@click.option("--start", default=None, metavar="YYYY-MM-DD",
              help="Planned start (default: this week's Monday).")
@click.option("--end", default=None, metavar="YYYY-MM-DD",
              help="Planned end (default: twelve weeks after the start, a Friday).")
@click.option("--coordinator", default=None, metavar='"NAME <EMAIL>"',
              help="The project manager who coordinates communication.")
@click.option("--sales", default=None, metavar='"NAME <EMAIL>"',
              help="The sales person who gets the weekly brief.")
@click.option("--locale", type=click.Choice(["en", "zh-CN"]), default=None,
              help="Language of the plan and its documents (default: the workspace's).")
@click.pass_obj
def new_command(obj: Context, project_id: str, name: str | None, customer: str | None,
                start: str | None, end: str | None, coordinator: str | None, sales: str | None,
                locale: str | None) -> None:
    """Create a project folder from a commented example that validates as written.

    The plan and this week's update are written in the project's language, with
    the workspace's currency (`currency` in planforge.yaml). What is not given
    stays a placeholder, and `planforge validate` flags the placeholder email
    addresses until they are replaced: nothing is ever sent to them.

    \b
    Examples:
      planforge new acme-crm --customer "Acme Manufacturing" --locale en
      planforge new acme-crm --name "Acme CRM roll-out" --start 2026-09-07 --end 2026-12-18 \\
          --coordinator "Alice Martin <alice@example.com>" --sales "Bob Lee <bob@example.com>"
    """
    from .scaffold import create_project

    ws = obj.workspace()
    for path in create_project(ws, project_id, name=name, customer=customer, locale=locale,
                               start=start, end=end, coordinator=coordinator, sales=sales):
        click.echo(f"wrote {path}")


@command(cli, "init")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--ci", type=click.Choice(["github", "gitlab", "none"]), default="none",
              show_default=True,
              help="Also write this CI recipe: .github/workflows/planforge.yml or .gitlab-ci.yml.")
@click.option("--locale", type=click.Choice(["en", "zh-CN"]), default="en", show_default=True,
              help="Language of the documents.")
@click.option("--timezone", default="UTC", show_default=True,
              help="Time zone of 'today', ISO weeks and meetings (e.g. Europe/Berlin).")
@click.option("--organization", default=None,
              help="Your organisation's name on the documents (default: the folder's name).")
@click.option("--currency", default=None, metavar="CODE",
              help="ISO 4217 code of new projects' budgets (default: CNY for zh-CN, else EUR).")
def init_command(folder: Path | None, ci: str, locale: str, timezone: str,
                 organization: str | None, currency: str | None) -> None:
    """Create a workspace in FOLDER (default: the current folder), empty or not.

    Writes planforge.yaml (commented), a .gitignore for output/, the JSON
    Schemas in schemas/ for editors, an empty projects/ folder and, with --ci,
    the CI recipe. Never overwrites a file: if one of them exists, nothing is
    written.

    \b
    Examples:
      planforge init
      planforge init plans --ci github --timezone Europe/Berlin
      planforge init --ci gitlab --locale zh-CN --timezone Asia/Shanghai
    """
    from .scaffold import init_workspace

    for path in init_workspace(folder or Path.cwd(), ci=ci, locale=locale, timezone=timezone,
                               organization=organization, currency=currency):
        click.echo(f"wrote {path}")


@command(cli, "close")
@click.argument("project_id", metavar="PROJECT")
@_as_of_option
@click.pass_obj
def close_command(obj: Context, project_id: str, as_of: Any) -> None:
    """Mark a project done and begin its retrospective.

    Sets `status: done` in its project.yaml (a line edit: comments and layout
    stay; a comment above it gives the date) and writes retrospective.yaml,
    prefilled from the plan: milestones on time and late, risks that occurred,
    goals with their last reported value. An existing retrospective is left as
    it is. `end` is not changed: it stays the date that was promised.

    \b
    Example:
      planforge close acme-crm
    """
    from .closing import close_project

    ws = obj.workspace()
    closed = close_project(ws, project_id, as_of.date() if as_of else ws.today())
    for path in closed.written:
        click.echo(f"wrote {path}")
    for note in closed.notes:
        click.echo(f"note: {note}", err=True)


@command(cli, "diff")
@click.argument("base", required=False)
@click.argument("head", required=False)
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md",
              show_default=True, help="md: a pull-request comment; json: for other tools.")
@click.pass_obj
def diff_command(obj: Context, base: str | None, head: str | None, fmt: str) -> None:
    """Show what a change does to the plan: dates, status, budget, goals, risks and people.

    Compares the projects at BASE (default: the merge base with the default
    branch, origin/HEAD, main or master) with HEAD (default: the working tree),
    like `terraform plan` for a project: customer-facing dates moved first, with
    days and reasons; a re-baseline is called out. A side with invalid files is
    reported as such. Needs the git history: in CI, fetch it (fetch-depth: 0).

    \b
    Examples:
      planforge diff
      planforge diff origin/main
      planforge diff v1.0 HEAD --format json
      planforge diff origin/main >> "$GITHUB_STEP_SUMMARY"
    """
    from .diffreport import json_text, markdown
    from .history import compare

    ws = obj.workspace()
    review = compare(ws, base, head, ws.today())
    click.echo(json_text(review) if fmt == "json" else markdown(review), nl=False)


@command(cli, "send")
@click.option("--week", default=None, metavar="YYYY-Www",
              help="Week whose briefs to send, as of its Friday (default: this week, as of "
                   "today).")
@click.option("--to", "to", multiple=True, metavar="PERSON|ADDRESS|LIST",
              help="Send only to these instead of the usual recipients (repeatable): a person id "
                   "(project:person if the id is ambiguous), an address, or a list from "
                   "planforge.yaml.")
@click.option("--dry-run", is_flag=True,
              help="Write the messages as .eml files instead; no network, no ledger.")
@click.option("--outbox", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for --dry-run (default: output/outbox); files go to WEEK/ADDRESS.eml.")
@click.option("--force", is_flag=True,
              help="Send again to addresses the ledger says already have this week's brief.")
@click.pass_obj
def send_command(obj: Context, week: str | None, to: tuple[str, ...], dry_run: bool,
                 outbox: Path | None, force: bool) -> None:
    """Email each recipient the week's brief as a PDF attachment.

    Recipients are the people with `brief: true` (sales people by default) of
    every active project; a person who receives the briefs of two or more
    projects (the same address) gets one email with their portfolio brief, as
    `planforge build` makes it. Each address gets one email per week: the
    ledger (email.ledger, default .planforge/sent.jsonl) records every message the
    server accepted, so a rerun after a crash or a failure sends only what is
    missing. A project's brief is held until its update of the week exists
    (email.without_update), except the week it closes; a brief that changed
    after it was sent goes again as "Updated" (email.resend), at most once a
    day to one person; what is held is listed, and why. The SMTP password comes
    from the environment variable PLANFORGE_SMTP_PASSWORD. Exits 1 if any message failed.

    \b
    Examples:
      planforge send --dry-run
      planforge send --week 2026-W47
      planforge send --week 2026-W47 --to jonas.weber@example.com --to sales-leads
      planforge send --week 2026-W47 --to acme-crm:priya-nair --force
    """
    from .mail import Outcome, plan_messages, send_messages
    from .timeline import built_outputs

    ws = obj.workspace()
    given = week
    week, as_of = _week_and_date(ws, week, None)
    dated = _plan_as_of(ws, as_of, given)
    built = built_outputs(ws, dated)
    plan = plan_messages(ws, week, as_of, to=list(to) or None, built=built,
                         projects=dated.load_all(ws))
    for note in plan.notes:
        click.echo(f"note: {note}", err=True)

    def where(o: Outcome) -> str:
        return f"{o.address} ({', '.join(o.projects)})"

    def progress(kind: str, o: Outcome) -> None:
        if kind == "sent":
            click.echo(f"sent {where(o)}")
        elif kind == "written":
            click.echo(f"wrote {o.detail}")
        elif kind == "skipped":
            click.echo(f"skipped {where(o)}: {o.detail}")
        elif kind == "held":
            click.echo(f"held {where(o) if o.address else ', '.join(o.projects)}: {o.detail}")

    report = send_messages(ws, plan.messages, force=force, dry_run=dry_run, outbox=outbox,
                           on_outcome=progress, held=plan.held)
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    for o in report.failed:
        click.echo(f"failed: {where(o)}: {o.detail}", err=True)
    held = f", held {len(report.held)} (see above)" if report.held else ""
    if dry_run:
        n = len(report.written)
        click.echo(f"wrote {n} message{'s' * (n != 1)}, failed {len(report.failed)}{held} "
                   "(dry run: nothing sent, ledger untouched)")
    else:
        click.echo(f"sent {len(report.sent)}, skipped {len(report.skipped)} (already sent), "
                   f"failed {len(report.failed)}{held}")
    if report.failed:
        sys.exit(1)


@command(cli, "notify")
@click.option("--week", default=None, metavar="YYYY-Www",
              help="Week whose summaries to post, as of its Friday (default: this week, as of "
                   "today).")
@click.option("--channel", "channels", multiple=True, metavar="NAME",
              help="Post only to this channel of chat.channels in planforge.yaml (repeatable).")
@click.option("--dry-run", is_flag=True,
              help="Write the payloads as .json files instead; no network, no ledger, no "
                   "webhook needed.")
@click.option("--outbox", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for --dry-run (default: output/outbox); files go to "
                   "WEEK/SERVICE-CHANNEL/PROJECT.json.")
@click.option("--force", is_flag=True,
              help="Post again what the ledger says was already posted this week.")
@click.pass_obj
def notify_command(obj: Context, week: str | None, channels: tuple[str, ...], dry_run: bool,
                   outbox: Path | None, force: bool) -> None:
    """Post each project's weekly summary to Slack and Microsoft Teams.

    The channels are chat.channels in planforge.yaml: each a Slack incoming
    webhook (Block Kit) or a Teams Workflows webhook (Adaptive Card), for the
    projects it names or whose sales people are in its teams. A post shows the
    reported and computed health, the next customer date and its slip, what is
    asked of sales, the top risk, and a link to the brief's PDF under
    publish.url. Each webhook URL comes from the environment variable the
    channel names (webhook_env), never from a file. A post goes once per
    channel, project and week, recorded in the send ledger with the emails, by
    the same send policy: held until the week's update exists, the closing
    brief the week a project closes, "Updated" when the brief changed. A 429 is
    retried after its Retry-After; a channel that refuses a post fails alone.
    Exits 1 if any channel failed.

    \b
    Examples:
      planforge notify --dry-run
      planforge notify --week 2026-W47
      planforge notify --week 2026-W47 --channel sales-emea
    """
    from .notify import Outcome, pick_channels, plan_posts, send_posts

    ws = obj.workspace()
    picked = pick_channels(ws, channels)
    if not picked:
        click.echo("no chat channels in planforge.yaml (chat.channels): nothing to post")
        return
    given = week
    week, as_of = _week_and_date(ws, week, None)
    dated = _plan_as_of(ws, as_of, given)
    plan = plan_posts(ws, week, as_of, dated.load_all(ws), picked)

    def progress(kind: str, o: Outcome) -> None:
        if kind == "posted":
            click.echo(f"posted {o.channel} {o.project_id}{' (updated)' if o.detail else ''}")
        elif kind == "written":
            click.echo(f"wrote {o.detail}")
        elif kind in ("skipped", "held"):
            where = f"{o.channel} {o.project_id}" if o.channel else o.project_id
            click.echo(f"{kind} {where}: {o.detail}")

    report = send_posts(ws, plan, dry_run=dry_run, outbox=outbox, force=force,
                        on_outcome=progress)
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    for o in report.failed:
        click.echo(f"failed: {o.channel} {o.project_id}: {o.detail}", err=True)
    held = f", held {len(report.held)} (see above)" if report.held else ""
    if dry_run:
        n = len(report.written)
        click.echo(f"wrote {n} payload{'s' * (n != 1)}{held} (dry run: nothing posted, ledger "
                   "untouched)")
    else:
        bad = report.failed_channels
        failed = f"failed {len(report.failed)}" + (f" ({', '.join(bad)})" if bad else "")
        click.echo(f"posted {len(report.posted)}, skipped {len(report.skipped)} (already "
                   f"posted), {failed}{held}")
    if report.failed:
        sys.exit(1)


def _week_and_date(ws: Workspace, week: str | None, as_of: Any) -> tuple[str, date]:
    """``--week W`` means as of the Friday of W; ``--as-of D`` its week; neither, today."""
    from .dates import as_of_for, parse_week, range_text
    from .errors import UsageError

    if week and as_of:
        raise click.UsageError("give --week or --as-of, not both")
    if week and parse_week(week) is None:
        raise UsageError(f"--week {week}: not an ISO week that exists within the years "
                         f"planforge handles, {range_text()} (write YYYY-Www, e.g. 2026-W47)")
    return as_of_for(week, as_of.date() if as_of else None, ws.today())


@command(cli, "build")
@click.argument("projects", nargs=-1)
@click.option("--formats", default="md,html,pdf", show_default=True,
              help="Comma-separated formats to write: md, html, pdf.")
@click.option("--week", help="Build the briefs of this ISO week, as of its Friday (2026-W47).")
@_as_of_option
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Parallel processes (default: the number of cores).")
@click.option("--changed-since", metavar="REV",
              help="Only projects whose files changed since this git revision.")
@click.option("--shard", metavar="I/N",
              help="Only the I-th of N stable shares of the projects, for a CI matrix.")
@click.option("--force", is_flag=True, help="Render even what is unchanged.")
@click.option("--merge", is_flag=True,
              help="Merge the output folders of N shards (given instead of projects) into the "
                   "output folder, with one index and one manifest.")
@click.pass_obj
def build_command(obj: Context, projects: tuple[str, ...], formats: str, week: str | None,
                  as_of: Any, jobs: int | None, changed_since: str | None, shard: str | None,
                  force: bool, merge: bool) -> None:
    """Render every document of every project (or of those named) into the output folder,
    with the portfolio briefs, output/index.html and output/manifest.json.

    Unchanged projects are not rendered again; one project's failure does not
    stop the others and makes the exit code 1.

    \b
    Examples:
      planforge build
      planforge build acme-crm --formats md,pdf --week 2026-W47
      planforge build --changed-since origin/main --jobs 4
      planforge build --shard 2/4
      planforge build --merge shards/1 shards/2 shards/3 shards/4
    """
    import os

    if merge:
        _merge(obj, tuple(Path(p) for p in projects))
        return

    if (jobs or os.cpu_count() or 1) > 1:
        from . import forkserver

        forkserver.start()  # it imports the workers' modules while this process reads the plans
    from .build import BuildOptions, Result, Status, build_workspace, parse_formats, parse_shard

    ws = obj.workspace()
    week_name, day = _week_and_date(ws, week, as_of)
    options = BuildOptions(
        as_of=day,
        week=week_name,
        formats=parse_formats(formats),
        projects=projects,
        jobs=jobs or os.cpu_count() or 1,
        changed_since=changed_since,
        shard=parse_shard(shard) if shard else None,
        force=force,
        by_week=week is not None,
    )
    interactive = sys.stderr.isatty() and os.environ.get("CI", "").lower() not in ("1", "true")
    bar: Any = None

    def progress(result: Result, done: int, total: int) -> None:
        nonlocal bar
        if interactive:
            if bar is None or bar.length != total:
                if bar is not None:
                    bar.render_finish()
                bar = click.progressbar(length=total, label="building", file=sys.stderr,
                                        show_pos=True, item_show_func=lambda n: n)
            bar.update(1, result.name)
        else:
            state = "unchanged" if result.status == "skipped" else result.status
            count = len(result.files)
            files = f", {count} file{'s' * (count != 1)}" if count else ""
            # One line per project: written as is, as click.echo's checks of the terminal for
            # each line took a tenth of a thousand-project build's process when run in parallel.
            sys.stderr.write(f"[{done}/{total}] {result.name}: {state}{files}\n")

    report = build_workspace(ws, options, progress)
    if bar is not None:
        bar.render_finish()
    if report.notice:
        click.echo(f"note: {report.notice}", err=True)
    for failure in report.failed:
        click.echo(f"failed: {failure.name}\n{failure.error}", err=True)
        if failure.traceback and obj.debug:
            click.echo(failure.traceback.rstrip(), err=True)
        elif failure.bug:
            click.echo("This is a bug. Run the same command with --debug for the traceback and "
                       "report it.", err=True)
    for finding in ws.ignored_folders():
        click.echo(finding.format(), err=True)
    from .workspace import display_path

    words: tuple[tuple[Status, str], ...] = (("built", "built"), ("skipped", "unchanged"),
                                              ("failed", "failed"))

    def counts(portfolios: bool) -> str:
        return ", ".join(f"{report.count(status, portfolios=portfolios)} {word}"
                         for status, word in words)

    click.echo(
        f"projects: {counts(False)}; portfolio briefs: {counts(True)}; "
        f"{report.seconds:.1f} s → {display_path(report.output)}/index.html",
        err=True,
    )
    if report.failed:
        sys.exit(1)


def _merge(obj: Context, folders: tuple[Path, ...]) -> None:
    """``build --merge``: the shards' outputs into one, the week and formats theirs."""
    from click.core import ParameterSource

    from .build import write_index
    from .merge import merge_shards
    from .workspace import display_path

    ctx = click.get_current_context()
    given = [f"--{name.replace('_', '-')}" for name in
             ("formats", "week", "as_of", "jobs", "changed_since", "shard", "force")
             if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE]
    if given:
        raise click.UsageError(f"--merge takes the week and formats of the shards, and no "
                               f"{', '.join(given)}")
    if not folders:
        raise click.UsageError("--merge takes the output folders of the shards: "
                               "planforge build --merge shards/1 shards/2 ...")
    ws = obj.workspace()

    def index(day: date, week: str, manifest: Any) -> None:
        write_index(ws, manifest, day, week)

    report = merge_shards(ws, folders, index)
    click.echo(f"merged {_plural(report.shards, 'shard')}: {_plural(report.files, 'file')} → "
               f"{display_path(report.output)}/index.html", err=True)


def _settle_imports(fmt: str) -> None:
    """Import the PDF stack now and exempt everything imported from garbage collection: the
    modules' objects live until the process ends, and the collector would scan them again in
    each of its collections during the render."""
    import gc
    from contextlib import suppress

    if fmt == "pdf":
        from .fonts import pinned_fontconfig
        from .pdf import preload

        # Loading the PDF stack loads fontconfig's default configuration: planforge's own small
        # one, rather than the machine's dozens of files that no PDF of planforge reads. The
        # render says what is missing, in its own words.
        with suppress(ImportError, OSError, PlanforgeError), pinned_fontconfig():
            preload()
    if gc.get_freeze_count() == 0:  # once: a process that renders again (a test) keeps its
        gc.freeze()  # later garbage collectable


@command(cli, "render")
@click.argument("document", type=click.Choice(["charter", "brief", "retro", "portfolio"]))
@click.argument("target", metavar="PROJECT|EMAIL")
@click.option("--week", metavar="YYYY-Www", help="As of the Friday of this ISO week (2026-W47).")
@_as_of_option
@click.option("--format", "fmt", type=click.Choice(["md", "html", "pdf"]), default="md",
              show_default=True, help="Markdown, standalone HTML, or A4 PDF.")
@click.option("-o", "--output", "output", metavar="FILE|-", default=None,
              help="Where to write; '-' is standard output. Default: standard output for md "
                   "and html; for pdf the file in the output folder (output/<id>/...).")
@click.pass_obj
def render_command(obj: Context, document: str, target: str, week: str | None, as_of: Any,
                   fmt: str, output: str | None) -> None:
    """Render one document of one project, or one sales person's portfolio brief.

    PROJECT is a project id (its folder name); for `portfolio` give the sales
    person's EMAIL address instead: the portfolio brief `build` and `send` make
    for it (the active projects whose brief it receives, two or more). The
    brief's "since last week" comes from the git history when there is one.
    Markdown and HTML go to standard output unless -o names a file; a PDF goes to
    the output folder (output/acme-crm/briefs/2026-W47.pdf and so on) unless -o
    names a file, or '-' for standard output.

    \b
    Examples:
      planforge render brief acme-crm --week 2026-W47
      planforge render charter acme-crm --format pdf
      planforge render retro northwind-pipeline-revamp --format html -o retro.html
      planforge render portfolio jonas.weber@example.com --week 2026-W47 --format pdf
      planforge render brief xinghe-market-push --as-of 2026-11-20 --format pdf -o - > b.pdf
    """
    import gc

    # Imports make objects that live as long as the process; collecting while they are made only
    # scans them over and over (about 70 ms for a PDF). _settle_imports turns collection back on.
    gc.disable()
    try:
        from .documents import render_formats, render_portfolio_formats
        from .errors import UsageError
        from .outputs import document_stem, output_lock, write_atomic
        from .workspace import display_path

        _settle_imports(fmt)
    finally:
        gc.enable()
    ws = obj.workspace()
    week_name, day = _week_and_date(ws, week, as_of)
    plan = _plan_as_of(ws, day, week)
    if document == "portfolio":
        data, default = _render_portfolio(ws, target, plan, week_name, fmt,
                                          render_portfolio_formats)
    else:
        project, _warnings = plan.load(ws, target)
        from .facts import compute_facts
        from .history import changes_since_last_week
        from .timeline import first_promised, project_history

        changes = changes_since_last_week(ws, project, day) if document == "brief" else None
        history = (project_history(ws, project.id, day)
                   if document == "charter"
                   or (document == "retro" and project.retrospective is not None) else None)
        kickoff = first_promised(ws, project.id, day) if document == "brief" else None
        facts = compute_facts(project, day, ws.settings, kickoff)
        data = render_formats(ws, project, document, day, [fmt], changes, facts, history)[fmt]
        kind = cast("DocumentKind", document)  # click.Choice has checked it
        default = ws.output_dir / f"{document_stem(project.id, kind, week_name)}.{fmt}"
    if output == "-" or (output is None and fmt != "pdf"):
        if fmt == "pdf" and sys.stdout.isatty():
            raise UsageError("will not write a PDF to a terminal: give -o FILE, or redirect")
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    if output is None:
        with output_lock(ws):
            write_atomic(default, data, inside=ws.root)
        path = default
    else:
        path = Path(output)
        if path.is_dir():
            raise UsageError(f"-o {output}: is a folder; name the file to write")
        write_atomic(path, data)
    click.echo(f"wrote {display_path(path)}", err=True)


@command(cli, "calendar")
@click.argument("target", metavar="PROJECT|EMAIL")
@click.option("--week", metavar="YYYY-Www", help="As of the Friday of this ISO week (2026-W47).")
@_as_of_option
@click.option("-o", "--output", "output", metavar="FILE|-", default="-", show_default=True,
              help="Where to write the .ics file; '-' is standard output.")
@click.pass_obj
def calendar_command(obj: Context, target: str, week: str | None, as_of: Any,
                     output: str) -> None:
    """Write one iCalendar (.ics) file, the same bytes `planforge build` writes.

    PROJECT is a project id: every milestone and meeting of the project
    (build's output/<project>/calendar.ics). EMAIL is a sales person's
    address: the customer-facing milestones of the active projects whose
    brief it receives, and the meetings it attends (build's
    output/calendars/<address>.ics, and what `send` attaches with
    email.attach_calendar). Nothing else is built.

    \b
    Examples:
      planforge calendar jonas.weber@example.com -o jonas.ics
      planforge calendar acme-crm -o acme-crm.ics
      planforge calendar acme-crm --week 2026-W47 > acme-crm.ics
    """
    from .errors import UsageError
    from .feeds import project_feed, sales_calendar
    from .outputs import write_atomic
    from .workspace import display_path

    ws = obj.workspace()
    _week, day = _week_and_date(ws, week, as_of)
    data = (sales_calendar(ws, target.strip(), day) if "@" in target
            else project_feed(ws, target, day))
    if output == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    path = Path(output)
    if path.is_dir():
        raise UsageError(f"-o {output}: is a folder; name the file to write")
    write_atomic(path, data)
    click.echo(f"wrote {display_path(path)}", err=True)


@command(cli, "export")
@click.option("--format", "fmt", type=click.Choice(["csv", "sqlite", "json"]), required=True,
              help="csv: one file per table in a folder; sqlite: one database file; json: one "
                   "file.")
@click.option("-o", "--output", "output", metavar="FOLDER|FILE|-", required=True,
              help="The folder for csv, the file for sqlite and json ('-': standard output, "
                   "json only).")
@click.option("--week", metavar="YYYY-Www", help="As of the Friday of this ISO week (2026-W47).")
@_as_of_option
@click.option("--history", is_flag=True,
              help="Every week from the first commit of a plan to the as-of week, not only the "
                   "as-of week (needs the git history).")
@click.pass_obj
def export_command(obj: Context, fmt: str, output: str, week: str | None, as_of: Any,
                   history: bool) -> None:
    """Export the workspace's data for analysis: projects, milestones, goals, risks,
    updates, asks, feedback and people, as of a date.

    The tables and their columns are listed in the README ("Exports for
    analysis"). Snapshot tables have a `week` column; with --history they hold
    every week of the plans' git history, read in one pass.

    \b
    Examples:
      planforge export --format sqlite -o plans.sqlite
      planforge export --format csv -o export --week 2026-W47
      planforge export --format json -o - --history > plans.json
    """
    from .errors import UsageError
    from .export import collect, json_bytes, write_export
    from .workspace import display_path

    ws = obj.workspace()
    week_name, day = _week_and_date(ws, week, as_of)
    if output == "-" and fmt != "json":
        raise UsageError(f"-o -: only json goes to standard output; give a "
                         f"{'folder' if fmt == 'csv' else 'file'} for {fmt}")
    data = collect(ws, day, week_name, week, history)
    for note in data.notes:
        click.echo(f"note: {note}", err=True)
    if output == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(json_bytes(data))
        sys.stdout.buffer.flush()
        return
    written = write_export(data, cast("Any", fmt), Path(output))
    weeks = len(data.weeks)
    where = display_path(Path(output))
    click.echo(f"wrote {where} ({len(written)} file{'s' * (len(written) != 1)}, "
               f"{weeks} week{'s' * (weeks != 1)} as of {day.isoformat()})", err=True)


def _plan_as_of(ws: Workspace, day: date, week: str | None) -> DatedPlan:
    """The plan of the date (``timeline``), its notice printed on stderr."""
    from .timeline import plan_as_of

    plan = plan_as_of(ws, day, week)
    if plan.notice:
        click.echo(f"note: {plan.notice}", err=True)
    return plan


def _render_portfolio(ws: Workspace, email: str, plan: DatedPlan, week: str, fmt: str,
                      render: Callable[..., dict[str, bytes]]) -> tuple[bytes, Path]:
    """The portfolio brief this address receives, and its default path."""
    from .audience import portfolio_of
    from .facts import compute_facts
    from .history import changes_since_last_week
    from .outputs import portfolio_stem
    from .timeline import first_promised

    day = plan.as_of
    projects = []
    for pid in plan.project_ids():
        try:
            projects.append(plan.load(ws, pid)[0])
        except PlanforgeError:
            click.echo(f"note: skipped {pid}: its files have errors (planforge validate {pid})",
                       err=True)
    recipient = portfolio_of(email, projects, day)
    changes = {p.id: changes_since_last_week(ws, p, day) for p in recipient.projects}
    facts = {p.id: compute_facts(p, day, ws.settings, first_promised(ws, p.id, day))
             for p in recipient.projects}
    return (render(ws, recipient.key, list(recipient.projects), day, [fmt], changes,
                   facts)[fmt],
            ws.output_dir / f"{portfolio_stem(recipient.key, week)}.{fmt}")


@command(cli, "doctor")
@click.pass_obj
def doctor_command(obj: Context) -> None:
    """Check that this machine can build every document, and the workspace too.

    One line per check: Python and planforge, WeasyPrint and Pango (the PDF
    stack), HarfBuzz subsetting (fast font embedding), the fonts PDFs are set in
    and git (for "since last week" and diff). Then the workspace: planforge.yaml
    valid, git history reaching back before this week (a shallow clone warns),
    the SMTP server answering EHLO (nothing is sent), and schemas/ the same as
    this planforge's. Whatever is missing comes with its fix.

    Exit codes: 0 when everything essential is there (warnings allowed); 1 when
    something essential is missing (Python, planforge, WeasyPrint, Pango, the PDF
    fonts) or planforge.yaml is invalid.

    \b
    Example:
      planforge doctor
    """
    from .doctor import check_machine, check_workspace

    machine = check_machine()
    workspace = check_workspace(obj.workspace_dir)
    for title, checks in (("", machine), ("Workspace:", workspace)):
        if title:
            click.echo(f"\n{title}")
        width = max((len(c.name) for c in checks), default=0)
        for c in checks:
            mark = "ok  " if c.ok else ("FAIL" if c.essential else "warn")
            line = f"{mark}  {c.name.ljust(width)}  {c.detail}"
            if not c.ok and c.fix:
                line += f"\n      {' ' * width}  fix: {c.fix}"
            click.echo(line)
    if any(c.essential and not c.ok for c in [*machine, *workspace]):
        sys.exit(1)


def main() -> None:
    """Console-script entry point."""
    cli(obj=Context())
