"""Every git call of planforge: revisions, merge bases, the plan at a revision, what changed.

git runs as a subprocess of the real ``git`` executable, always from the top of the repository
with paths relative to it, so a workspace may be any folder inside a repository.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path, PurePosixPath

from .changes import Change, PlanDiff, diff_plans, diff_projects
from .dates import iso_week, week_start
from .errors import GitError, InvalidFilesError, PlanforgeError
from .model import Project
from .sources import PROJECT_FILE, FolderSource, GitTreeSource, Source, is_project_file
from .validate import load_project
from .workspace import CONFIG_FILE, PROJECT_ID, Workspace, committed_settings

#: Said wherever missing history may be the cause, because CI clones are shallow by default.
SHALLOW_HINT = (
    "this is a shallow clone, which lacks the history needed: run `git fetch --unshallow` (in "
    "GitHub Actions set `fetch-depth: 0` on actions/checkout; in GitLab CI set `GIT_DEPTH: 0`)"
)
DEFAULT_BRANCHES = ("main", "master", "origin/main", "origin/master")


@dataclass(frozen=True)
class Repository:
    """The git repository holding a workspace."""

    top: Path
    prefix: str  # the workspace folder relative to ``top``, posix, "" at the top
    projects: str  # the projects folder relative to ``top``, posix


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a commit, or the working tree (``commit`` None)."""

    rev: str | None  # as the user named it, or the default branch; None: the working tree
    commit: str | None
    merge_base: bool = False  # the commit is the merge base of ``rev`` and the other side


@dataclass(frozen=True)
class Review:
    """What ``planforge diff`` reports: the two sides and the changes between them."""

    base: Side
    head: Side
    diff: PlanDiff
    compared: int  # projects on either side
    edited: tuple[str, ...]  # projects whose files changed with nothing the diff summarises


class _NoRepository(GitError):
    """No git history at all: not a repository, or no git. Callers that can do without history
    (the brief's "since last week") tell this from a repository git cannot use."""


def _git(
    repo_dir: Path, *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = {
        **os.environ,
        "LC_ALL": "C",  # English messages, so that the few checks on them hold everywhere
        "GIT_OPTIONAL_LOCKS": "0",  # never take index.lock: people commit while diff runs
        "GIT_TERMINAL_PROMPT": "0",
    }
    try:
        return subprocess.run(
            ["git", *args], cwd=repo_dir, input=stdin, capture_output=True, env=env, check=False
        )
    except FileNotFoundError:
        raise _NoRepository(
            "git is not installed (or not on PATH): install it, e.g. `apt-get install git`"
        ) from None


def _output(repo: Repository, *args: str, stdin: bytes | None = None) -> bytes:
    done = _git(repo.top, *args, stdin=stdin)
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit code {done.returncode}"
        raise GitError(f"git {args[0]} failed: {message}")
    return done.stdout


def _relative(path: Path, top: Path) -> str:
    try:
        rel = path.resolve().relative_to(top)
    except ValueError:
        raise GitError(f"{path} is outside the git repository at {top}") from None
    return "" if rel == Path() else rel.as_posix()


def repository(ws: Workspace) -> Repository:
    """The repository holding the workspace; GitError if there is none."""
    done = _git(ws.root, "rev-parse", "--show-toplevel")
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        if "not a git repository" in message:
            raise _NoRepository(
                f"{ws.root} is not inside a git repository: comparing plans needs their git "
                "history (run planforge in a clone of the repository)"
            )
        raise GitError(f"git cannot use {ws.root}: {message}")
    top = Path(done.stdout.decode().strip()).resolve()
    return Repository(top, _relative(ws.root, top), _relative(ws.projects_dir, top))


def _optional_repository(ws: Workspace) -> Repository | None:
    try:
        return repository(ws)
    except _NoRepository:
        return None


def is_shallow(repo: Repository) -> bool:
    """Whether the clone lacks older history."""
    return _output(repo, "rev-parse", "--is-shallow-repository").strip() == b"true"


def _verify(repo: Repository, rev: str) -> str | None:
    done = _git(repo.top, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    return done.stdout.decode().strip() if done.returncode == 0 else None


def resolve(repo: Repository, rev: str) -> str:
    """The commit a revision names, as a full hash; GitError naming it if there is none."""
    if not rev or rev.startswith("-"):  # never let a revision be read as an option
        raise GitError(f"'{rev}' is not a revision")
    commit = _verify(repo, rev)
    if commit is not None:
        return commit
    if rev == "HEAD":
        raise GitError(f"the repository at {repo.top} has no commits yet")
    message = f"unknown revision '{rev}': no branch, tag or commit of that name"
    if is_shallow(repo):
        message += f"; {SHALLOW_HINT}"
    elif "/" in rev and not rev.startswith("refs/"):
        remote, _, branch = rev.partition("/")
        message += f" (if it is a remote branch, fetch it: `git fetch {remote} {branch}`)"
    raise GitError(message)


def default_branch(repo: Repository) -> str:
    """The branch pull requests go into: ``origin/HEAD``, else main, else master."""
    done = _git(repo.top, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD")
    if done.returncode == 0 and _verify(repo, done.stdout.decode().strip()):
        return done.stdout.decode().strip()
    for name in DEFAULT_BRANCHES:
        if _verify(repo, name):
            return name
    message = (
        "cannot tell the default branch (no origin/HEAD, main or master): name the base, such "
        "as `planforge diff origin/develop`"
    )
    if is_shallow(repo):
        message += f"; {SHALLOW_HINT}"
    raise GitError(message)


def merge_base(repo: Repository, branch: str, rev: str = "HEAD") -> str:
    """The newest commit that ``rev`` and ``branch`` share: where a pull request started."""
    a, b = resolve(repo, branch), resolve(repo, rev)
    done = _git(repo.top, "merge-base", a, b)
    if done.returncode == 0:
        return done.stdout.decode().strip()
    message = f"{branch} and {rev} share no history"
    if is_shallow(repo):
        raise GitError(f"{message}: {SHALLOW_HINT}")
    raise GitError(f"{message}: name the base revision, such as `planforge diff {branch}`")


def commit_before(repo: Repository, moment: datetime) -> str | None:
    """The newest commit of the current branch made before ``moment`` (None if there is none)."""
    if _verify(repo, "HEAD") is None:
        return None
    # --first-parent: the state of this branch at that time, not a side branch merged later.
    # git's --before includes its own second, "before" does not: hence the second taken off.
    cutoff = (moment - timedelta(seconds=1)).isoformat()
    out = _output(repo, "rev-list", "-1", "--first-parent", f"--before={cutoff}", "HEAD")
    return out.decode().strip() or None


def _changed_paths(repo: Repository, base: str, head: str | None, where: str,
                   others: str | None = None, also: tuple[str, ...] = ()) -> list[str]:
    """Files under ``where`` (and the files ``also``) that differ between two commits, or
    between a commit and the working tree (untracked files included, those under ``others``
    alone if given): paths relative to the top of the repository."""
    spec = where or "."
    if head is not None:
        out = _output(repo, "diff", "--name-only", "-z", "--no-renames", base, head, "--", spec,
                      *also)
        return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]
    out = _output(repo, "diff", "--name-only", "-z", "--no-renames", base, "--", spec, *also)
    out += _output(repo, "ls-files", "-z", "--others", "--exclude-standard", "--",
                   spec if others is None else others or ".")
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def _project_of(repo: Repository, path: str) -> str | None:
    rel = PurePosixPath(path)
    try:
        rel = rel.relative_to(repo.projects) if repo.projects else rel
    except ValueError:
        return None
    return rel.parts[0] if len(rel.parts) > 1 else None


def _changed_since(
    ws: Workspace, rev: str, untracked_projects_only: bool = False
) -> tuple[Repository, list[PurePosixPath]]:
    """The repository and the workspace's files changed since ``rev`` (working tree and
    untracked files included; with ``untracked_projects_only`` the untracked ones of the
    projects folder alone), relative to the top of the repository."""
    repo = repository(ws)
    others = repo.projects if untracked_projects_only else None
    paths = _changed_paths(repo, resolve(repo, rev), None, repo.prefix, others)
    return repo, [PurePosixPath(p) for p in paths]


def _in_repository(repo: Repository, paths: Iterable[Path]) -> list[PurePosixPath]:
    """Workspace paths relative to the top of the repository; those outside it (git cannot
    tell their changes) are left out."""
    return [PurePosixPath(p.resolve().relative_to(repo.top).as_posix())
            for p in paths if p.resolve().is_relative_to(repo.top)]


def _under(path: PurePosixPath, folders: Iterable[PurePosixPath]) -> bool:
    return any(path == f or f in path.parents for f in folders)


def changed_projects(ws: Workspace, rev: str) -> set[str]:
    """The projects whose documents may differ from those built at ``rev``: those with a file
    changed since then (working tree and untracked files included), or every project when a
    workspace-wide input (planforge.yaml, templates, logo) changed. Projects since deleted are
    left out: there is nothing to build."""
    repo, paths = _changed_since(ws, rev)
    current = set(ws.project_ids())
    shared = [ws.root / CONFIG_FILE, ws.templates_dir]
    if ws.settings.logo:
        shared.append(ws.root / ws.settings.logo)
    shared_rel = _in_repository(repo, shared)
    if any(_under(path, shared_rel) for path in paths):
        return current
    return {pid for p in paths if (pid := _project_of(repo, str(p))) is not None} & current


def projects_to_validate(ws: Workspace, rev: str) -> list[str] | None:
    """The projects ``validate --changed-since`` checks: those with a file changed since ``rev``
    (working tree and untracked files included), sorted; None (every project, and the
    workspace's own files) when a tracked file of the workspace outside the projects folder
    changed, as planforge.yaml, the schemas or the pinned planforge version may change how each
    project is checked. Untracked files there are what CI jobs leave (a pip cache, reports) and
    count for nothing. Projects since deleted are left out: there is nothing to check."""
    repo, paths = _changed_since(ws, rev, untracked_projects_only=True)
    # A change in the projects folder touches one project at most; the output folder is
    # written by planforge and never read by a check.
    local = [PurePosixPath(repo.projects), *_in_repository(repo, [ws.output_dir])]
    if any(not _under(path, local) for path in paths):
        return None
    changed = {pid for p in paths if (pid := _project_of(repo, str(p))) is not None}
    return sorted(changed & set(ws.project_ids()))


def _tree(repo: Repository, commit: str, only: str | None = None) -> dict[str, dict[str, str]]:
    """Project id → {path inside the project folder: blob hash} at a commit, for the files
    planforge reads (folders without project.yaml are not projects); ``only`` one project."""
    if not repo.projects:
        raise GitError("the projects folder cannot be the top of the repository")
    folder = f"{repo.projects}/{only}/" if only else f"{repo.projects}/"
    out = _output(repo, "ls-tree", "-r", "-z", commit, "--", folder)
    start = len(repo.projects) + 1  # git names every path under the folder as given
    found: dict[str, dict[str, str]] = {}
    for entry in out.decode("utf-8", "surrogateescape").split("\0"):
        if not entry:
            continue
        meta, _, path = entry.partition("\t")
        mode, kind, blob = meta.split()
        if kind != "blob" or mode == "120000":  # symlinks would point outside the snapshot
            continue
        pid, _, rel = path[start:].partition("/")
        if is_project_file(rel):
            found.setdefault(pid, {})[rel] = blob
    return {pid: files for pid, files in found.items() if PROJECT_FILE in files}


def _objects(repo: Repository, names: Iterable[str]) -> dict[str, bytes | None]:
    """The contents of many objects (blob hashes, or ``commit:path``) with one ``git cat-file
    --batch``; None for a name that names nothing (a file deleted at that commit)."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    out = _output(repo, "cat-file", "--batch", stdin="".join(f"{h}\n" for h in wanted).encode())
    contents: dict[str, bytes | None] = {}
    pos = 0
    for name in wanted:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        if len(header) != 3:  # "<name> missing"
            contents[name] = None
            pos = end + 1
            continue
        size = int(header[2])
        contents[name] = out[end + 1 : end + 1 + size]
        pos = end + 1 + size + 1  # the content is followed by a newline
    return contents


def _blobs(repo: Repository, hashes: Iterable[str]) -> dict[str, bytes]:
    """The contents of many blobs with one ``git cat-file --batch``."""
    contents: dict[str, bytes] = {}
    for blob, content in _objects(repo, hashes).items():
        if content is None:
            raise GitError(f"git cat-file: object {blob} is missing from the repository")
        contents[blob] = content
    return contents


Loaded = tuple[dict[str, Project | None], dict[str, int]]


def _load(ws: Workspace, sources: Iterable[str | Source], as_of: date) -> Loaded:
    """Projects (ids in the working tree, or sources) as models; None and an error count for
    each invalid one."""
    projects: dict[str, Project | None] = {}
    errors: dict[str, int] = {}
    for source in sources:
        pid = source if isinstance(source, str) else source.project_id
        if not PROJECT_ID.fullmatch(pid):  # a folder name that is not a valid project id
            projects[pid], errors[pid] = None, 1
            continue
        try:
            projects[pid] = load_project(ws, source, as_of)[0]
        except InvalidFilesError as exc:
            projects[pid] = None
            errors[pid] = max(1, sum(f.severity == "error" for f in exc.findings))
    return projects, errors


def _sources(
    repo: Repository, commit: str, tree: dict[str, dict[str, str]], ids: Iterable[str]
) -> list[GitTreeSource]:
    """The projects of ``ids`` found in a commit's tree, their files read with one
    ``git cat-file --batch`` for them all."""
    found = sorted(set(ids) & set(tree))
    contents = _blobs(repo, (blob for pid in found for blob in tree[pid].values()))
    return [
        GitTreeSource(pid, commit, f"{repo.projects}/{pid}",
                      {rel: contents[blob] for rel, blob in tree[pid].items()})
        for pid in found
    ]


def sources_at(ws: Workspace, rev: str) -> list[GitTreeSource]:
    """Every project as committed at a revision, for ``load_project``: the files of them all
    cost one ``git ls-tree`` and one ``git cat-file --batch``."""
    repo = repository(ws)
    commit = resolve(repo, rev)
    tree = _tree(repo, commit)
    return _sources(repo, commit, tree, tree)


@dataclass(frozen=True)
class Snapshot:
    """The projects as committed at the end of a moment, or why there is no such commit."""

    commit: str | None
    sources: tuple[GitTreeSource, ...] = ()
    missing: str = ""  # why commit is None: no repository, or history not reaching back
    uncommitted: tuple[str, ...] = ()  # projects whose late file the working tree has changed


def snapshot_before(ws: Workspace, moment: datetime, late: str) -> Snapshot:
    """Every project as committed on the current branch before ``moment``, each with its file
    ``late`` (a path inside the project folder) as the branch's newest commit has it, where it
    has one: two ``git ls-tree`` and one ``git cat-file --batch`` for them all, and one ``git
    diff`` for the late files changed but not committed. A commit is None, with the reason,
    outside a repository or where no commit is that old."""
    repo = _optional_repository(ws)
    if repo is None:
        return Snapshot(None, missing="not a git repository")
    commit = commit_before(repo, moment)
    if commit is None:
        if _verify(repo, "HEAD") is None:
            return Snapshot(None, missing="no commits yet")
        return Snapshot(None, missing="a shallow clone: run `git fetch --unshallow`"
                        if is_shallow(repo) else "the first commit is later")
    tree = _tree(repo, commit)
    tip = resolve(repo, "HEAD")
    taken: dict[str, str] = {}  # project id → blob of its late file at the tip
    if tip != commit:
        for pid, files in _tree(repo, tip).items():
            if pid in tree and late in files and files[late] != tree[pid].get(late):
                taken[pid] = files[late]
    contents = _blobs(repo, [*(b for files in tree.values() for b in files.values()),
                             *taken.values()])
    sources = []
    for pid in sorted(tree):
        blobs = {rel: contents[blob] for rel, blob in tree[pid].items()}
        if pid in taken:
            blobs[late] = contents[taken[pid]]
        sources.append(GitTreeSource(pid, commit, f"{repo.projects}/{pid}", blobs,
                                     {late: tip} if pid in taken else {}))
    edited = {PurePosixPath(p) for p in _changed_paths(repo, tip, None, repo.projects)}
    uncommitted = tuple(pid for pid in sorted(tree)
                        if PurePosixPath(repo.projects, pid, late) in edited)
    return Snapshot(commit, tuple(sources), uncommitted=uncommitted)


def _load_at(
    ws: Workspace, repo: Repository, commit: str, ids: Iterable[str], as_of: date,
    tree: dict[str, dict[str, str]] | None = None,
) -> Loaded:
    """Projects as they were at a commit, checked exactly as ``validate`` checks files."""
    ids = list(ids)
    if tree is None:  # one project is listed alone: a brief is built per project
        tree = _tree(repo, commit, ids[0] if len(ids) == 1 else None)
    return _load(ws, _sources(repo, commit, tree, ids), as_of)


def plan_at(ws: Workspace, rev: str | None, as_of: date) -> Loaded:
    """Every project at a revision (None: the working tree), with error counts of invalid ones."""
    if rev is None:
        return _load(ws, ws.project_ids(), as_of)
    return _load(ws, sources_at(ws, rev), as_of)


def _as_committed(repo: Repository, *commits: str) -> list[Repository]:
    """For each commit, the repository with the projects folder that planforge.yaml names
    there (the current one where that file was invalid then): one ``git cat-file`` for all."""
    config = PurePosixPath(repo.prefix, CONFIG_FILE).as_posix()
    files = _objects(repo, (f"{commit}:{config}" for commit in commits))
    found = []
    for commit in commits:
        settings = committed_settings(files[f"{commit}:{config}"], f"{commit[:7]}:{config}")
        folder = "" if settings is None else posixpath.normpath(
            PurePosixPath(repo.prefix, settings.projects_dir).as_posix())
        inside = folder not in ("", ".") and not folder.startswith("../")
        found.append(replace(repo, projects=folder) if inside else repo)
    return found


def _moved_and_changed(
    ws: Workspace, base_repo: Repository, base: str, base_tree: dict[str, dict[str, str]],
    head_tree: dict[str, dict[str, str]] | None,
) -> set[str]:
    """The projects whose files differ between the base, in its projects folder, and the head
    in another (the working tree where ``head_tree`` is None): blob ids compared for a commit,
    contents for the working tree."""
    if head_tree is not None:
        return {pid for pid in set(base_tree) | set(head_tree)
                if base_tree.get(pid) != head_tree.get(pid)}
    head_ids = set(ws.project_ids())
    changed = set(base_tree) ^ head_ids
    both = sorted(set(base_tree) & head_ids)
    for source in _sources(base_repo, base, base_tree, both):
        folder = FolderSource(ws.projects_dir / source.project_id)
        try:
            same = folder.paths() == source.paths() and all(
                folder.read(rel) == source.read(rel) for rel in source.paths())
        except PlanforgeError:  # a file that cannot be read is a change to report
            same = False
        if not same:
            changed.add(source.project_id)
    return changed


def compare(ws: Workspace, base: str | None, head: str | None, as_of: date) -> Review:
    """The review of a pull request: ``base`` (default: the merge base with the default branch)
    against ``head`` (default: the working tree). Only projects with changed files are read."""
    repo = repository(ws)
    head_commit = resolve(repo, head) if head is not None else None
    if base is None:
        branch = default_branch(repo)
        base_side = Side(branch, merge_base(repo, branch, head or "HEAD"), merge_base=True)
    else:
        base_side = Side(base, resolve(repo, base))
    assert base_side.commit is not None
    head_side = Side(head, head_commit)

    # One git call for what differs, planforge.yaml included: only where it changed can the
    # projects folder differ between the sides.
    config = PurePosixPath(repo.prefix, CONFIG_FILE).as_posix()
    paths = _changed_paths(repo, base_side.commit, head_commit, repo.projects, also=(config,))
    base_repo, head_repo = repo, repo
    if config in paths and head_commit is None:
        [base_repo] = _as_committed(repo, base_side.commit)
    elif config in paths and head_commit is not None:
        base_repo, head_repo = _as_committed(repo, base_side.commit, head_commit)
    base_tree = _tree(base_repo, base_side.commit)
    head_tree = _tree(head_repo, head_commit) if head_commit is not None else None
    head_ids = set(head_tree) if head_tree is not None else set(ws.project_ids())
    if base_repo.projects == head_repo.projects:
        changed = {pid for p in paths if (pid := _project_of(repo, p)) is not None}
    else:  # the folder moved: the files of each project are compared across the two folders
        changed = _moved_and_changed(ws, base_repo, base_side.commit, base_tree, head_tree)

    old, errors_old = _load_at(ws, base_repo, base_side.commit, changed, as_of, base_tree)
    if head_commit is None:
        new, errors_new = _load(ws, sorted(changed & head_ids), as_of)
    else:
        new, errors_new = _load_at(ws, head_repo, head_commit, changed, as_of, head_tree)
    diff = diff_plans(old, new, errors_old=errors_old, errors_new=errors_new)
    shown = {p.project_id for p in diff.projects} | {
        p.renamed_from for p in diff.projects if p.renamed_from
    }
    edited = tuple(sorted((changed & (set(base_tree) | head_ids)) - shown))
    return Review(base_side, head_side, diff, len(set(base_tree) | head_ids), edited)


def changes_since_last_week(ws: Workspace, project: Project, as_of: date,
                            log: PlanLog | None = None) -> list[Change] | None:
    """What changed in the project's plan between the end of the previous ISO week and
    ``project``, the plan the document is made from (the working tree in the current week, the
    plan as of the date for a past one: ``timeline``). None when there is no git history to
    tell: not a repository, no commit that old (a shallow clone, say), git failing, or the plan
    then invalid: the brief then says so in one line rather than failing. Weekly updates are
    left out: the brief shows the update itself. With ``log`` (read once for a build) the plan
    of last week is taken from it, at no git call."""
    try:
        if log is not None:
            return _changes_in_log(ws, project, as_of, log)
        return _changes_since_last_week(ws, project, as_of)
    except GitError:
        return None


def _week_before(ws: Workspace, as_of: date) -> tuple[Repository, str, bool] | None:
    """The repository, the last commit before the as-of week, and whether that week is the
    current one (its plan is the working tree); None when there is no such history."""
    repo = _optional_repository(ws)
    if repo is None:
        return None
    old_commit = commit_before(repo, week_start(as_of, ws.timezone()))
    if old_commit is None:
        return None
    return repo, old_commit, iso_week(as_of) >= iso_week(ws.today())


def last_week_in_history(ws: Workspace) -> tuple[bool, bool] | None:
    """For ``doctor``: None without a repository; else whether a commit from before this week
    exists (what "since last week" compares with) and whether the clone is shallow."""
    repo = _optional_repository(ws)
    if repo is None:
        return None
    return commit_before(repo, week_start(ws.today(), ws.timezone())) is not None, \
        is_shallow(repo)


def history_key(ws: Workspace, as_of: date) -> str:
    """What "since last week" reads besides the plan of the document, as text for a cache key:
    an unrelated new commit changes nothing, a commit that moves last week's end changes all."""
    try:
        found = _week_before(ws, as_of)
    except GitError:
        return ""
    if found is None:
        return ""
    # The plan of a past week is hashed with the document's own inputs (``timeline``).
    return f"{found[1]} {'working tree' if found[2] else 'as of'}"


def _changes_since_last_week(ws: Workspace, project: Project, as_of: date) -> list[Change] | None:
    found = _week_before(ws, as_of)
    if found is None:
        return None
    repo, old_commit, _current = found
    before = _load_at(ws, repo, old_commit, [project.id], as_of)[0]
    if project.id in before and before[project.id] is None:
        return None
    changes = diff_projects(before.get(project.id), project)
    return [c for c in changes if c.kind != "update-added"]


def _changes_in_log(ws: Workspace, project: Project, as_of: date,
                    log: PlanLog) -> list[Change] | None:
    cutoff = week_start(as_of, ws.timezone())
    if log.oldest >= cutoff:
        return None  # no commit that old: history cannot tell
    # The newest version committed before the week began, as ``commit_before`` finds it.
    before = next((r for r in reversed(log.of(project.id)) if r.moment < cutoff), None)
    old: Project | None = None
    if before is not None and before.source is not None:
        old = _load(ws, [before.source], as_of)[0][project.id]
        if old is None:
            return None
    changes = diff_projects(old, project)
    return [c for c in changes if c.kind != "update-added"]


@dataclass(frozen=True)
class PlanRevision:
    """One commit of the current branch that changed a project's plan, with the plan as
    committed then (``source`` None: the commit deleted it)."""

    commit: str
    moment: datetime  # the commit date, the one ``plan_as_of`` reads by
    subject: str  # the first line of the commit message
    source: GitTreeSource | None


@dataclass(frozen=True)
class PlanLog:
    """Every version of some projects' plans on the current branch, read at once: what a build
    reads once and hands to each project (the retrospective, the brief's first promised dates
    and its "since last week")."""

    revisions: Mapping[str, tuple[PlanRevision, ...]]  # project id → oldest first
    oldest: datetime  # the date of the branch's first commit: history reaches no further back
    shallow: bool  # a shallow clone: its first commit would pass for the kickoff

    def of(self, project_id: str) -> tuple[PlanRevision, ...]:
        """One project's revisions, oldest first (none: never committed)."""
        return self.revisions.get(project_id, ())

    def only(self, ids: Iterable[str]) -> PlanLog:
        """The same history for these projects alone: what one task of a build needs."""
        wanted = set(ids)
        return PlanLog({pid: r for pid, r in self.revisions.items() if pid in wanted},
                       self.oldest, self.shallow)


_NO_BLOB = "0" * 40


def plan_log(ws: Workspace, ids: Iterable[str] | None = None) -> PlanLog | None:
    """Every commit of the current branch that changed the ``project.yaml`` of one of ``ids``
    (None: of every project), with the file as committed: one ``git log`` and one ``git
    cat-file --batch`` for them all, whatever their number. None without a repository or
    commits. Only the plan file is read: updates and the retrospective are kept whole in the
    working tree, the plan is what gets overwritten."""
    repo = _optional_repository(ws)
    if repo is None or _verify(repo, "HEAD") is None:
        return None
    if not repo.projects:
        raise GitError("the projects folder cannot be the top of the repository")
    wanted = None if ids is None else sorted(set(ids))
    for pid in wanted or ():
        if not PROJECT_ID.fullmatch(pid):
            raise GitError(f"'{pid}' is not a project id")
    paths = ([f"{repo.projects}/*/{PROJECT_FILE}"] if wanted is None
             else [f"{repo.projects}/{pid}/{PROJECT_FILE}" for pid in wanted])
    # --first-parent: the branch as it lived, a merged pull request as one change dated when
    # it was merged, rather than the side branch's states interleaved by date. --raw gives each
    # version's blob, so that a version shared by several commits is read once.
    logged: list[tuple[str, str, str, str, str]] = []  # commit, date, subject, project, blob
    out = _output(repo, "log", "--first-parent", "--no-renames", "--raw", "-z", "--no-abbrev",
                  "--format=%x01%H%x00%cI%x00%s", "HEAD", "--", *paths)
    for record in out.decode("utf-8", "surrogateescape").split("\x01")[1:]:
        fields = record.split("\0")
        commit, when, subject = fields[:3]
        for meta, path in zip(fields[3::2], fields[4::2], strict=False):
            blob = meta.split()[3] if meta.strip() else _NO_BLOB
            found = _project_of(repo, path)
            if found is not None and path == f"{repo.projects}/{found}/{PROJECT_FILE}":
                logged.append((commit, when, subject, found, blob))
    # rev-list with --format prints a "commit <hash>" line before each date.
    first = _output(repo, "rev-list", "--first-parent", "--max-parents=0", "--format=%cI", "HEAD")
    oldest = min(datetime.fromisoformat(line) for line in first.decode().splitlines()
                  if not line.startswith("commit "))
    contents = _blobs(repo, (blob for *_, blob in logged if blob != _NO_BLOB))
    revisions: dict[str, list[PlanRevision]] = {}
    for commit, when, subject, pid, blob in reversed(logged):
        source = (GitTreeSource(pid, commit, f"{repo.projects}/{pid}",
                                {PROJECT_FILE: contents[blob]}) if blob != _NO_BLOB else None)
        revisions.setdefault(pid, []).append(
            PlanRevision(commit, datetime.fromisoformat(when), subject, source))
    return PlanLog({pid: tuple(r) for pid, r in revisions.items()}, oldest, is_shallow(repo))


def plan_revisions(ws: Workspace, project_id: str) -> list[PlanRevision] | None:
    """Every commit of the current branch that changed the project's ``project.yaml``, oldest
    first, with the file as committed (``plan_log`` of one project). None without usable
    history: not a repository, or a shallow clone (its first commit would pass for the
    kickoff)."""
    log = plan_log(ws, [project_id])
    if log is None or log.shallow:
        return None
    return list(log.of(project_id))
