"""The benchmark: planforge against the floor of what its work costs, as ratios from one run.

    python bench/run.py [--sizes 10,100,1000] [--keep DIR]
    python bench/run.py --dashboard output/index.html   # only time a built dashboard
    python bench/run.py --pr-check-only                 # only the pull-request check

Prints a Markdown table. Timings from shared machines are noisy: quote the ratios, each
measured within one run, not the seconds.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard import dashboard_times
from generate import AS_OF, generate_workspace

REPO = Path(__file__).resolve().parents[1]
#: The benchmark's own cache folder (planforge's PLANFORGE_CACHE), never the user's: set by
#: main() for every command it runs.
CACHE = Path(tempfile.gettempdir()) / f"planforge-bench-cache-{os.getpid()}"
#: Where the outputs of timed builds go: set by main(), deleted at its end.
TRASH = Path(tempfile.gettempdir())
WEEK = "2026-W47"
PLANFORGE = [sys.executable, "-m", "planforge"]


def clear_output(root: Path) -> None:
    """Empty a workspace's output folder for the next timed build by moving it aside, into a
    folder deleted when the benchmark ends. Deleting 4,000 files just before a build made that
    build pay for it on ext4: each new file and folder was allocated past every inode deleted
    in the last seconds (the kernel's recently_deleted scan), 0.5 to 9 s of a 1,000-project
    build depending on the moment. A user's build does not follow its own deletion."""
    if (root / "output").exists():
        (root / "output").rename(Path(tempfile.mkdtemp(prefix="old-", dir=TRASH)) / "output")


def run(args: list[str], cwd: Path) -> tuple[float, float]:
    """Seconds and peak resident memory (MiB) of one planforge command in its own process."""
    started = time.perf_counter()
    proc = subprocess.Popen([*PLANFORGE, *args], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "CI": "true"})
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    assert proc.stderr is not None
    errors = proc.stderr.read().decode()
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0,):
        raise SystemExit(f"planforge {' '.join(args)} failed:\n{errors[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def md_floor(ws_root: Path) -> float:
    """The bare minimum of a Markdown build: load each project's YAML and render the same
    Markdown templates with a context prepared beforehand (not timed)."""
    from planforge.documents import document_context, project_locale
    from planforge.facts import compute_facts
    from planforge.render import environment, render_template
    from planforge.validate import load_project
    from planforge.workspace import find_workspace

    ws = find_workspace(ws_root)
    prepared = []
    for pid in ws.project_ids():
        project, _ = load_project(ws, pid, AS_OF)
        facts = compute_facts(project, AS_OF, ws.settings)
        env = environment(ws.templates_dir, project_locale(ws, project))
        for kind in ("charter", "brief"):
            prepared.append((pid, env, f"{kind}.md.j2",
                             document_context(ws, project, kind, facts)))
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    # What was prepared lives through the timing, as a build's loaded projects do: frozen, as
    # the build freezes those, so the collector does not walk it (that cost varied between runs
    # from a third to a half of the floor).
    gc.collect()
    gc.freeze()
    started = time.perf_counter()
    for pid, env, name, ctx in prepared:
        if name.startswith("charter"):
            folder = ws.projects_dir / pid
            for path in [folder / "project.yaml", *sorted((folder / "updates").glob("*.yaml"))]:
                yaml.load(path.read_bytes(), Loader=loader)  # the safe C loader
        render_template(env, name, ctx)
    seconds = time.perf_counter() - started
    gc.unfreeze()
    return seconds


def pdf_ratio(kind: str, project_id: str) -> tuple[float, float, float]:
    """planforge's PDF of one document against WeasyPrint alone on the same HTML: median
    seconds of each and the median ratio, imports paid before."""
    import weasyprint

    from planforge.documents import render_formats
    from planforge.validate import load_project
    from planforge.workspace import find_workspace

    ws = find_workspace(REPO)
    project, _ = load_project(ws, project_id, AS_OF)
    html = render_formats(ws, project, kind, AS_OF, ["html"])["html"].decode()
    render_formats(ws, project, kind, AS_OF, ["pdf"])  # warm-up: fonts and imports

    def ours() -> float:
        gc.collect()  # each render leaves garbage that would otherwise be collected in the next
        started = time.perf_counter()
        render_formats(ws, project, kind, AS_OF, ["pdf"])
        return time.perf_counter() - started

    def alone() -> float:
        gc.collect()
        started = time.perf_counter()
        weasyprint.HTML(string=html, base_url=str(REPO / "templates")).write_pdf()
        return time.perf_counter() - started

    # Pairs in alternating order, so that the machine's passing load falls on both alike; the
    # median of the pairs' ratios is steadier than either minimum.
    pairs = []
    for i in range(10):
        if i % 2:
            pairs.append((ours(), alone()))
        else:
            theirs = alone()
            pairs.append((ours(), theirs))
    ratios = sorted(a / b for a, b in pairs)
    middle = len(pairs) // 2
    return sorted(a for a, _ in pairs)[middle], sorted(b for _, b in pairs)[middle], ratios[middle]


def render_process_row() -> tuple[str, str, str]:
    """``planforge render brief P --format pdf -o F`` as a whole process against the
    ``weasyprint`` command on the same HTML with the same PDF options: median seconds of each
    and the median ratio of pairs run in alternating order, on the example workspace."""
    bin_dir = Path(sys.executable).parent
    weasyprint = bin_dir / "weasyprint"
    folder = Path(tempfile.mkdtemp(prefix="planforge-render-"))
    as_of = ["--as-of", AS_OF.isoformat()]
    # Installed from a wheel, planforge's modules are compiled; an editable install under
    # PYTHONDONTWRITEBYTECODE would compile them from source in every process, which WeasyPrint's
    # installed modules never do.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src" / "planforge")],
                   check=True, stdout=subprocess.DEVNULL)
    try:
        html = folder / "brief.html"
        run(["render", "brief", "acme-crm", "--format", "html", *as_of, "-o", str(html)], REPO)
        ours = [*PLANFORGE, "render", "brief", "acme-crm", "--format", "pdf", *as_of,
                "-o", str(folder / "ours.pdf")]
        # planforge writes tagged PDF/UA-1; the HTML holds its stylesheet and fonts inline.
        theirs = [str(weasyprint), "--pdf-variant", "pdf/ua-1", "--pdf-tags", str(html),
                  str(folder / "theirs.pdf")]

        def timed(command: list[str]) -> float:
            started = time.perf_counter()
            subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            return time.perf_counter() - started

        timed(ours)  # warm-up: the disk cache and planforge's cached compilations
        timed(theirs)
        pairs = []
        for i in range(6):  # alternating order, as for the PDFs above; a pair takes
            # about 2.5 s
            if i % 2:
                mine = timed(ours)
                pairs.append((mine, timed(theirs)))
            else:
                other = timed(theirs)
                pairs.append((timed(ours), other))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    middle = len(pairs) // 2
    mine_s = sorted(a for a, _ in pairs)[middle]
    theirs_s = sorted(b for _, b in pairs)[middle]
    ratio = sorted(a / b for a, b in pairs)[middle]
    return ("PDF of one brief (acme-crm), `planforge render` as a whole process",
            f"{mine_s:.2f} s against {theirs_s:.2f} s",
            f"{ratio:.2f}× weasyprint as a whole process (target at most 1.2×)")


def tagging_ratio(kind: str, project_id: str) -> tuple[float, float, float, float]:
    """Tagged PDF/UA-1 against untagged output of WeasyPrint on the same HTML (planforge's):
    median seconds of each, the median ratio, and the median share of the tagged time spent
    writing the PDF (where the structure tree is built) rather than laying out."""
    import weasyprint

    from planforge.documents import render_formats
    from planforge.validate import load_project
    from planforge.workspace import find_workspace

    ws = find_workspace(REPO)
    project, _ = load_project(ws, project_id, AS_OF)
    html = render_formats(ws, project, kind, AS_OF, ["html"])["html"].decode()
    base = str(REPO / "templates")

    def timed(tagged: bool) -> tuple[float, float]:
        gc.collect()
        started = time.perf_counter()
        document = weasyprint.HTML(string=html, base_url=base).render()
        laid_out = time.perf_counter()
        if tagged:
            document.write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True)
        else:
            document.write_pdf()
        done = time.perf_counter()
        return done - started, (done - laid_out) / (done - started)

    timed(True)  # warm-up: fonts and imports
    pairs = []
    for i in range(10):  # alternating order, as for the PDFs above
        if i % 2:
            untagged, _ = timed(False)
            pairs.append((timed(True), untagged))
        else:
            tagged = timed(True)
            pairs.append((tagged, timed(False)[0]))
    middle = len(pairs) // 2
    return (sorted(t for (t, _), _ in pairs)[middle], sorted(u for _, u in pairs)[middle],
            sorted(t / u for (t, _), u in pairs)[middle],
            sorted(share for (_, share), _ in pairs)[middle])


def revision_ratio(root: Path) -> tuple[float, float, float, float]:
    """Loading every project as committed at HEAD against loading the same files from disk:
    median seconds of each, the median ratio, and median seconds of reading the revision's
    files alone (its git calls)."""
    from planforge.history import plan_at, sources_at
    from planforge.workspace import find_workspace

    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "bench"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True)
    ws = find_workspace(root)
    assert plan_at(ws, "HEAD", AS_OF) == plan_at(ws, None, AS_OF)  # warm-up, and a check

    def timed(rev: str | None) -> float:
        gc.collect()
        started = time.perf_counter()
        plan_at(ws, rev, AS_OF)
        return time.perf_counter() - started

    def reads() -> float:
        gc.collect()
        started = time.perf_counter()
        sources_at(ws, "HEAD")
        return time.perf_counter() - started

    # Pairs in alternating order, as for the PDFs: the median ratio of pairs is the steady one.
    pairs = []
    for i in range(8):
        if i % 2:
            at_head = timed("HEAD")
            pairs.append((at_head, timed(None)))
        else:
            on_disk = timed(None)
            pairs.append((timed("HEAD"), on_disk))
    middle = len(pairs) // 2
    ratio = sorted(a / b for a, b in pairs)[middle]
    return (sorted(a for a, _ in pairs)[middle], sorted(b for _, b in pairs)[middle], ratio,
            sorted(reads() for _ in range(8))[middle])


def _fast_import_commit(week: str, when: int, files: dict[str, bytes]) -> bytes:
    """One commit of a ``git fast-import`` stream writing ``files``, dated ``when``; its parent
    is the branch's previous commit in the stream."""
    message = f"{week}: weekly updates".encode()
    out = [b"commit refs/heads/main\n",
           f"committer bench <bench@example.com> {when} +0000\n".encode(),
           f"data {len(message)}\n".encode(), message, b"\n"]
    for path, data in sorted(files.items()):
        out += [f"M 100644 inline {path}\n".encode(), f"data {len(data)}\n".encode(), data,
                b"\n"]
    return b"".join(out) + b"\n"


def commit_a_year(root: Path, weeks: int = 52) -> tuple[str, str]:
    """The generated workspace committed as a year of weekly history, with ``git fast-import``
    (plain commits of 300 projects would take minutes): each Friday's commit adds that week's
    updates, revises the newest update of every project that has one and a tenth of the plans
    (a comment appended: a new version to read). The last commit holds the files as generated.
    Returns a past week to build and its Friday."""
    projects = sorted(p for p in (root / "projects").iterdir() if p.is_dir())
    today = date.today()
    last_friday = today - timedelta(days=(today.weekday() - 4) % 7 or 7)
    fridays = [last_friday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    stream: list[bytes] = []
    for k, friday in enumerate(fridays):
        iso = friday.isocalendar()
        week = f"{iso.year}-W{iso.week:02d}"
        files: dict[str, bytes] = {}
        if k == 0:
            files["planforge.yaml"] = (root / "planforge.yaml").read_bytes()
        for n, folder in enumerate(projects):
            rel = f"projects/{folder.name}"
            updates = sorted(p for p in (folder / "updates").glob("*.yaml") if p.stem <= week)
            if updates:
                revised = b"" if updates[-1].stem == week or k == len(fridays) - 1 \
                    else f"# revised in {week}\n".encode()
                files[f"{rel}/updates/{updates[-1].name}"] = updates[-1].read_bytes() + revised
            if k == 0 or n % 10 == k % 10 or k == len(fridays) - 1:
                plan = (folder / "project.yaml").read_bytes()
                files[f"{rel}/project.yaml"] = plan + (
                    b"" if k == len(fridays) - 1 else f"# revised in {week}\n".encode())
        moment = datetime(friday.year, friday.month, friday.day, 17, tzinfo=UTC)
        stream.append(_fast_import_commit(week, int(moment.timestamp()), files))
    git = ["git", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "fast-import", "--quiet"], cwd=root, input=b"".join(stream),
                   check=True)
    subprocess.run([*git, "checkout", "-q", "-f", "main"], cwd=root, check=True)
    past = fridays[len(fridays) // 2]
    iso = past.isocalendar()
    return f"{iso.year}-W{iso.week:02d}", past.isoformat()


def history_ratio(root: Path) -> tuple[float, float, str]:
    """Seconds of a Markdown build of a past week (read from a year of history) and of the
    current week (the working tree, "since last week" from history), each into a fresh output
    folder; and the past week built."""
    past, _friday = commit_a_year(root)
    clear_output(root)
    then, _ = run(["build", "--formats", "md", "--week", past], root)
    clear_output(root)
    now, _ = run(["build", "--formats", "md"], root)
    clear_output(root)
    return then, now, past


def dashboard_row(index: Path, size: int) -> tuple[str, str, str]:
    """The dashboard (output/index.html) of a build, opened in headless Chromium."""
    what = f"dashboard of {size} projects in headless Chromium"
    times = dashboard_times(index)
    if times is None:
        return (what, "skipped", "needs Playwright for Python and chromium")
    load, chosen, ordered = times
    return (what, f"load {load:.0f} ms, filter {chosen:.0f} ms, sort {ordered:.0f} ms",
            f"{index.stat().st_size / 1e6:.1f} MB of HTML")


def jobs_ratio(root: Path, md: list[str], pairs: int = 5) -> tuple[float, float, float]:
    """``md`` (a --jobs 1 build) against the same with --jobs 2, in alternating pairs: median
    seconds of each and the median of the pairs' ratios (one pair swung from 1.2× to 2×, and
    seven in a row from 1.19× to 1.38×: five pairs, not three)."""
    def timed(jobs: str) -> float:
        seconds, _ = run([*md[:-1], jobs], root)
        clear_output(root)
        return seconds

    measured = [(timed("1"), timed("2")) if i % 2 == 0 else tuple(reversed((timed("2"),
                                                                           timed("1"))))
                for i in range(pairs)]
    middle = pairs // 2
    return (sorted(a for a, _ in measured)[middle], sorted(b for _, b in measured)[middle],
            sorted(a / b for a, b in measured)[middle])


def floor_ratio(root: Path, md: list[str], pairs: int = 3) -> tuple[float, float, float, float]:
    """The build ``md`` (its files validated before) against the floor, in alternating pairs:
    median seconds of each, the build's peak memory, and the median of the pairs' ratios (the
    machine's speed drifts by half within minutes; a pair sees the same minute)."""
    measured = []
    for i in range(pairs):
        if i % 2:
            floor = md_floor(root)
        seconds, memory = run(md, root)
        clear_output(root)
        if not i % 2:
            floor = md_floor(root)
        measured.append((seconds, floor, memory))
    middle = pairs // 2
    return (sorted(a for a, _, _ in measured)[middle], max(m for _, _, m in measured),
            sorted(b for _, b, _ in measured)[middle],
            sorted(a / b for a, b, _ in measured)[middle])


def touch_project(root: Path, project: str) -> None:
    update = root / "projects" / project / "updates" / f"{WEEK}.yaml"
    update.write_text(update.read_text("utf-8") + "decisions: [Benchmark change]\n", "utf-8")


def pr_check_row() -> tuple[str, str, str]:
    """The pull-request check of the CI recipes on 300 committed projects, a branch changing
    one project's weekly update and another's end date: ``validate --changed-since`` and
    ``diff`` against the base, each as a whole process, median of seven runs."""
    base = Path(tempfile.mkdtemp(prefix="planforge-prcheck-"))
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    try:
        root = generate_workspace(base / "pr300", 300)
        commit_a_year(root, weeks=4)

        def git(*args: str) -> None:
            subprocess.run(["git", *args], cwd=root, env=env, check=True)

        git("add", "-A")  # the updates older than the few weeks committed
        git("commit", "-q", "-m", "Older updates")
        git("checkout", "-q", "-b", "change")
        touch_project(root, "project-0003")
        plan = root / "projects" / "project-0007" / "project.yaml"
        data = yaml.safe_load(plan.read_text("utf-8"))
        data["end"] = (date.fromisoformat(data["end"]) + timedelta(days=14)).isoformat()
        plan.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "utf-8")
        git("commit", "-q", "-am", "A change")
        validate = ["validate", "--changed-since", "main", "--format", "github",
                    "--as-of", AS_OF.isoformat()]
        runs = [(run(validate, root)[0], run(["diff", "main"], root)[0]) for _ in range(7)]
        middle = len(runs) // 2
        seconds = sorted(a + b for a, b in runs)[middle]
        checks, diffs = sorted(a for a, _ in runs)[middle], sorted(b for _, b in runs)[middle]
        return ("pull-request check (validate --changed-since + diff), 300 projects, 2 changed",
                f"{seconds:.2f} s (validate {checks:.2f} s, diff {diffs:.2f} s)",
                f"{seconds:.2f}× the target of 1 s")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--keep", type=Path, help="Keep the generated workspaces here.")
    parser.add_argument("--history-only", action="store_true",
                        help="Only the row of a past week against the current one.")
    parser.add_argument("--dashboard", type=Path, metavar="INDEX_HTML",
                        help="Only open this built index.html in Chromium and time it.")
    parser.add_argument("--tagging-only", action="store_true",
                        help="Only the rows of tagged PDF/UA against untagged PDFs.")
    parser.add_argument("--pr-check-only", action="store_true",
                        help="Only the row of the pull-request check (validate + diff).")
    args = parser.parse_args()
    os.environ["PLANFORGE_CACHE"] = str(CACHE)
    global TRASH
    TRASH = Path(tempfile.mkdtemp(prefix="planforge-bench-trash-"))
    sizes = [int(s) for s in args.sizes.split(",")]
    base = args.keep or Path(tempfile.mkdtemp(prefix="planforge-bench-"))
    rows: list[tuple[str, str, str]] = []
    as_of = ["--as-of", AS_OF.isoformat()]
    try:
        if args.dashboard:
            rows.append(dashboard_row(args.dashboard,
                                      args.dashboard.read_text("utf-8").count(" data-id=")))
            print_rows(rows)
            return
        if args.tagging_only:
            rows += tagging_rows()
            print_rows(rows)
            return
        rows.append(pr_check_row())
        if args.pr_check_only:
            print_rows(rows)
            return
        history = generate_workspace(base / "history300", 300)
        then, now, past = history_ratio(history)
        rows.append((f"Markdown build of a past week ({past}) against the current week, 300 "
                     "projects, a year of weekly commits", f"{then:.1f} s against {now:.1f} s",
                     f"{then / now:.2f}× (target at most 2×)"))
        for size in sizes if not args.history_only else []:
            root = generate_workspace(base / f"ws{size}", size)
            validate, _ = run(["validate", *as_of], root)
            rows.append((f"validate, {size} projects", f"{validate:.2f} s",
                         f"{validate / size * 100:.2f} s per 100 projects"))
            # The first build of the day parses and validates every file; a second one (after
            # any build, render or send of the day) loads each unchanged project as it was.
            shutil.rmtree(CACHE, ignore_errors=True)
            md = ["build", "--formats", "md", "--week", WEEK, "--jobs", "1"]
            cold, _ = run(md, root)
            if size == max(sizes):
                rows.append(dashboard_row(root / "output" / "index.html", size))
            clear_output(root)
            warm, memory, floor, ratio = floor_ratio(root, md)
            rows.append((f"Markdown build, {size} projects, --jobs 1, first of the day",
                         f"{cold / size * 1000:.0f} ms per project",
                         f"{cold / floor:.2f}× the floor (YAML load + Jinja)"))
            rows.append((f"Markdown build, {size} projects, --jobs 1, files validated before",
                         f"{warm / size * 1000:.0f} ms per project",
                         f"{ratio:.2f}× the floor"
                         + (" (target at most 1.5×)" if size >= 1000 else "")))
            if size == max(sizes):
                one, two, ratio = jobs_ratio(root, md)
                rows.append((f"Markdown build, {size} projects, files validated before",
                             f"{two:.1f} s with --jobs 2 against {one:.1f} s with --jobs 1",
                             f"--jobs 2 is {ratio:.2f}× faster (target at least 1.7×); "
                             f"peak memory {memory:.0f} MiB (--jobs 1)"))
            if size == 100 or (size == min(sizes) and 100 not in sizes):
                clear_output(root)
                full, _ = run(["build", "--formats", "md,pdf", "--week", WEEK], root)
                touch_project(root, "project-0003")
                again, _ = run(["build", "--formats", "md,pdf", "--week", WEEK], root)
                rows.append((f"rebuild after changing 1 of {size} projects (md, pdf)",
                             f"{again:.1f} s against {full:.1f} s",
                             f"{again / full * 100:.1f} % of the full build"))
        if args.history_only:
            print_rows(rows)
            return
        committed = generate_workspace(base / "git300", 300)
        at_head, on_disk, ratio, git_reads = revision_ratio(committed)
        rows.append(("load 300 projects at a revision (HEAD) against from disk",
                     f"{at_head:.2f} s against {on_disk:.2f} s",
                     f"{ratio:.2f}×; the revision's git calls take {git_reads * 1000:.0f} ms"))
        ten = generate_workspace(base / "pdf10", 10)
        one, _ = run(["build", "--formats", "pdf", "--week", WEEK, "--jobs", "1", "--force"], ten)
        two, _ = run(["build", "--formats", "pdf", "--week", WEEK, "--jobs", "2", "--force"], ten)
        rows.append(("PDF build, 10 projects", f"{one:.1f} s --jobs 1, {two:.1f} s --jobs 2",
                     f"--jobs 2 is {one / two:.2f}× faster"))
        for kind, project in (("charter", "acme-crm"), ("brief", "acme-crm"),
                              ("brief", "xinghe-market-push"),
                              ("retro", "northwind-pipeline-revamp")):
            ours, alone, ratio = pdf_ratio(kind, project)
            rows.append((f"PDF of one {kind} ({project})",
                         f"{ours:.2f} s against {alone:.2f} s",
                         f"{ratio:.2f}× WeasyPrint alone on the same HTML"))
        rows.append(render_process_row())
    finally:
        shutil.rmtree(CACHE, ignore_errors=True)
        shutil.rmtree(TRASH, ignore_errors=True)
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    print_rows(rows)


def tagging_rows() -> list[tuple[str, str, str]]:
    """Rows of tagged PDF/UA-1 against untagged output, for a charter and two briefs."""
    rows = []
    for kind, project in (("charter", "acme-crm"), ("brief", "acme-crm"),
                          ("brief", "xinghe-market-push")):
        tagged, untagged, ratio, share = tagging_ratio(kind, project)
        rows.append((f"tagged PDF/UA-1 against untagged, one {kind} ({project}), same HTML",
                     f"{tagged:.2f} s against {untagged:.2f} s",
                     f"{ratio:.2f}× (target at most 1.15×); writing the PDF is "
                     f"{share * 100:.0f} % of the tagged time"))
    return rows


def print_rows(rows: list[tuple[str, str, str]]) -> None:
    """The table of results, with the machine it ran on."""
    print(f"planforge benchmark, {date.today().isoformat()}, {os.cpu_count()} cores, "
          f"Python {sys.version.split()[0]}\n")
    print("| measure | time | ratio |")
    print("| --- | --- | --- |")
    for row in rows:
        print(f"| {' | '.join(row)} |")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"\n(benchmark process peak memory {usage.ru_maxrss / 1024:.0f} MiB)")


if __name__ == "__main__":
    main()
