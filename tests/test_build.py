"""`planforge build`: isolation of failures, atomic writes, incremental skips, shards, index."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from planforge import outputs as outputs_module
from planforge.build import BuildOptions, Result, build_workspace, shard_of
from planforge.dates import iso_week
from planforge.outputs import write_atomic
from planforge.workspace import Workspace, find_workspace

from .conftest import AS_OF, WEEK, RunCli
from .gitplans import Repo, isolate_git

MD = ("md",)


pytestmark = pytest.mark.slow  # each test builds the example workspace

def _options(**kwargs: object) -> BuildOptions:
    return BuildOptions(as_of=AS_OF, week=WEEK, **{"formats": MD, **kwargs})  # type: ignore[arg-type]


def test_builds_every_document_and_portfolio(examples: Path) -> None:
    report = build_workspace(find_workspace(examples), _options())
    assert report.failed == []
    out = examples / "output"
    for pid in ("acme-crm", "globex-portal", "northwind-pipeline-revamp", "xinghe-market-push"):
        assert (out / pid / "charter.md").is_file()
        assert (out / pid / "briefs" / f"{WEEK}.md").is_file()
    assert (out / "northwind-pipeline-revamp" / "retrospective.md").is_file()
    assert not (out / "acme-crm" / "retrospective.md").exists()
    # Jonas Weber sells acme-crm and globex-portal under different ids: one portfolio.
    portfolio = out / "portfolio" / "jonas.weber@example.com" / f"{WEEK}.md"
    text = portfolio.read_text("utf-8")
    assert "Acme" in text and "Globex" in text
    # Zhao Min sells one project: her brief is that project's, with no portfolio.
    assert not (out / "portfolio" / "zhao.min@example.cn").exists()


def test_one_broken_project_does_not_stop_the_others(examples: Path, run_cli: RunCli) -> None:
    plan = examples / "projects" / "globex-portal" / "project.yaml"
    plan.write_text(plan.read_text("utf-8").replace("likelihood:", "likelyhood:", 1), "utf-8")
    result = run_cli("build", "--formats", "md", "--week", WEEK, "--jobs", "1", cwd=examples)
    assert result.exit_code == 1
    assert "likelyhood: unknown key; did you mean 'likelihood'?" in result.output
    assert "projects: 3 built, 0 unchanged, 1 failed" in result.output
    assert (examples / "output" / "acme-crm" / "charter.md").is_file()
    assert not (examples / "output" / "globex-portal").exists()
    assert "Traceback" not in result.output


def test_unchanged_projects_are_skipped_and_changes_invalidate(examples: Path) -> None:
    ws = find_workspace(examples)
    first = build_workspace(ws, _options())
    assert first.count("skipped") == 0
    again = build_workspace(ws, _options())
    assert {r.status for r in again.results} == {"skipped"}
    assert again.count("skipped") == 4 and again.count("skipped", portfolios=True) == 1
    acme = next(r for r in again.results if r.name == "acme-crm")
    assert acme.record is not None
    assert (acme.record.health, acme.record.name) == ("amber", "Acme CRM rollout")

    update = examples / "projects" / "globex-portal" / "updates" / "2026-W47.yaml"
    update.write_text(update.read_text("utf-8") + "\n# reviewed with the customer\n", "utf-8")
    changed = build_workspace(ws, _options())
    built = {r.name for r in changed.results if r.status == "built"}
    # and the calendar of the sales person whose projects include it
    assert built == {"globex-portal", "portfolio/jonas.weber@example.com",
                     "calendars/jonas.weber@example.com.ics"}

    # A template override changes every document.
    (examples / "templates").mkdir()
    (examples / "templates" / "charter.md.j2").write_text(
        '{% extends "builtin:charter.md.j2" %}', "utf-8")
    after_template = build_workspace(ws, _options())
    assert after_template.count("skipped") == 0


def test_a_deleted_output_is_rebuilt(examples: Path) -> None:
    ws = find_workspace(examples)
    build_workspace(ws, _options())
    (examples / "output" / "acme-crm" / "charter.md").unlink()
    report = build_workspace(ws, _options())
    assert {r.name for r in report.results if r.status == "built"} == {"acme-crm"}
    assert (examples / "output" / "acme-crm" / "charter.md").is_file()


def test_a_file_rewritten_since_the_build_is_rebuilt(examples: Path) -> None:
    ws = find_workspace(examples)
    build_workspace(ws, _options())
    charter = examples / "output" / "globex-portal" / "charter.md"
    built = charter.read_bytes()
    charter.write_bytes(b"rendered by hand as of another day\n")
    report = build_workspace(ws, _options())
    assert {r.name for r in report.results if r.status == "built"} == {"globex-portal"}
    assert charter.read_bytes() == built


def test_an_interrupted_write_leaves_the_old_file(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "brief.pdf"
    target.write_bytes(b"old complete file")

    replace = os.replace

    def crash(source: str, destination: str) -> None:
        if Path(destination) == target:  # stopped after the bytes were written, before the rename
            raise KeyboardInterrupt
        replace(source, destination)

    monkeypatch.setattr(outputs_module.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, b"new file" * 1000)
    assert target.read_bytes() == b"old complete file"
    assert [p.name for p in tmp_path.iterdir()] == ["brief.pdf"]


def test_a_failed_render_keeps_the_previous_outputs(examples: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ws = find_workspace(examples)
    build_workspace(ws, _options())
    charter = examples / "output" / "acme-crm" / "charter.md"
    before = charter.read_bytes()
    plan = examples / "projects" / "acme-crm" / "project.yaml"
    plan.write_text(plan.read_text("utf-8").replace("start: 2026-08-03", "start: 2026-02-30"),
                    "utf-8")
    report = build_workspace(ws, _options())
    assert [r.name for r in report.failed] == ["acme-crm"]
    assert charter.read_bytes() == before


def test_shards_partition_the_projects(examples: Path) -> None:
    ids = [f"project-{i:04d}" for i in range(200)]
    for count in (1, 2, 3, 7):
        shards = [[pid for pid in ids if shard_of(pid, count) == i] for i in range(1, count + 1)]
        assert sorted(pid for shard in shards for pid in shard) == ids
        assert all(shards), "a shard is empty"
    # Stable: the same id lands in the same shard on every machine (not Python's salted hash).
    assert shard_of("acme-crm", 4) == shard_of("acme-crm", 4)

    ws = find_workspace(examples)
    built: list[str] = []
    for index in (1, 2):
        report = build_workspace(ws, _options(shard=(index, 2)))
        built += [r.name for r in report.results if not r.portfolio and not r.calendar]
    assert sorted(built) == ws.project_ids()


def test_index_links_resolve_and_manifest_lists_every_file(examples: Path) -> None:
    ws = find_workspace(examples)
    build_workspace(ws, _options())
    out = examples / "output"
    index = (out / "index.html").read_text("utf-8")
    links = re.findall(r'href="([^"#][^"]*)"', index)  # in-page anchors aside
    assert len(links) >= 9
    for link in links:
        assert (out / link).is_file(), link
    assert "amber" in index and "Acme" in index
    # Read on phones: laid out at the screen's width (the documents' golden HTML has no viewport).
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in index
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    written = {p.relative_to(out).as_posix() for p in out.rglob("*")
               if p.is_file() and p.name not in ("manifest.json", "index.html")}
    assert set(manifest["files"]) == written
    assert all(len(entry["inputs"]) == 64 for entry in manifest["files"].values())


def test_a_chinese_workspace_gets_a_chinese_index(examples: Path) -> None:
    settings = examples / "planforge.yaml"
    text = settings.read_text("utf-8")
    assert "\nlocale: en " in text
    settings.write_text(text.replace("\nlocale: en ", "\nlocale: zh-CN ", 1), "utf-8")
    ws = find_workspace(examples)
    build_workspace(ws, _options())
    index = (examples / "output" / "index.html").read_text("utf-8")
    assert '<html lang="zh-CN">' in index
    assert "<h1>项目组合看板</h1>" in index
    assert "2026-W47 周，截至 2026年11月20日。健康状况由 planforge 计算。" in index
    assert '<span class="badge amber">黄色</span>' in index  # Acme, as the documents show it
    assert '2026-W47 销售周报：<a href="acme-crm/briefs/2026-W47.md">MD</a>' in index
    assert "Portfolio dashboard" not in index and "Charter" not in index


def test_outputs_are_readable_by_others(examples: Path) -> None:
    ws = find_workspace(examples)
    build_workspace(ws, _options())
    umask = os.umask(0)
    os.umask(umask)
    for path in (examples / "output").rglob("*"):
        if path.is_file():
            assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path


def test_same_inputs_same_bytes(examples: Path, tmp_path: Path) -> None:
    ws = find_workspace(examples)
    build_workspace(ws, _options())
    first = {p.relative_to(examples / "output"): p.read_bytes()
             for p in (examples / "output").rglob("*.md")}
    shutil.rmtree(examples / "output")
    build_workspace(ws, _options())
    second = {p.relative_to(examples / "output"): p.read_bytes()
              for p in (examples / "output").rglob("*.md")}
    assert first == second


# starts a process pool (slow, as every test here)
def test_parallel_build_matches_serial(examples: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # A history, so that each project's inputs include its plan's commits: with --jobs 2 into
    # an empty folder the workers hash their own projects, and must reach the same hashes.
    home = isolate_git(monkeypatch, tmp_path)
    repo = Repo(examples, home)
    repo.git("init", "-q", "-b", "main")
    repo.commit("Plans", when="2026-08-03T09:00:00+02:00")
    plan = examples / "projects" / "acme-crm" / "project.yaml"
    plan.write_text(plan.read_text("utf-8").replace("Acme", "Acme Corp", 1), "utf-8")
    repo.commit("Rename", when="2026-10-05T09:00:00+02:00")

    def built() -> tuple[dict[Path, bytes], dict[str, str]]:
        out = examples / "output"
        files = {p.relative_to(out): p.read_bytes() for p in out.rglob("*")
                 if p.suffix in (".md", ".ics")}
        manifest = json.loads((out / "manifest.json").read_text("utf-8"))
        return files, {pid: entry["inputs"] for pid, entry in manifest["projects"].items()}

    ws = find_workspace(examples)
    build_workspace(ws, _options(jobs=1))
    serial = built()
    dashboard = (examples / "output" / "index.html").read_bytes()
    shutil.rmtree(examples / "output")
    report = build_workspace(ws, _options(jobs=2))
    assert report.failed == []
    assert built() == serial
    assert len(serial[1]) == 4 and len(serial[0]) > 12
    # The dashboard, from the workers' records of the projects and every file they wrote.
    assert (examples / "output" / "index.html").read_bytes() == dashboard


def test_bad_options_are_usage_errors(examples: Path, run_cli: RunCli) -> None:
    assert run_cli("build", "--shard", "3/2", cwd=examples).exit_code == 2
    assert run_cli("build", "--formats", "docx", cwd=examples).exit_code == 2
    assert run_cli("build", "--week", "2025-W53", cwd=examples).exit_code == 2
    unknown = run_cli("build", "nope", cwd=examples)
    assert unknown.exit_code == 1 and "no project 'nope'" in unknown.output


def _git(root: Path, *args: str, when: str | None = None) -> None:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(root.parent),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    if when:
        env |= {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


# a git repository (slow, as every test here)
def test_an_unrelated_commit_rebuilds_nothing(examples: Path) -> None:
    ws = find_workspace(examples)
    today = ws.today()
    _git(examples, "init", "-q", "-b", "main")
    _git(examples, "add", ".")
    two_weeks_ago = f"{today - timedelta(days=14)}T12:00:00+00:00"
    _git(examples, "commit", "-q", "-m", "plans", when=two_weeks_ago)
    options = BuildOptions(as_of=today, week=iso_week(today), formats=MD)
    first = build_workspace(ws, options)
    assert first.failed == [] and first.count("built") == 4
    (examples / "NOTES.txt").write_text("meeting notes\n", "utf-8")
    _git(examples, "add", "NOTES.txt")
    _git(examples, "commit", "-q", "-m", "notes")
    again = build_workspace(ws, options)
    assert {r.status for r in again.results} == {"skipped"}


def test_briefs_of_a_past_week_build(examples: Path) -> None:
    # Work recorded as done after that week is history, not an error.
    report = build_workspace(find_workspace(examples),
                             BuildOptions(as_of=date(2026, 10, 2), week="2026-W40", formats=MD))
    assert report.failed == []
    assert (examples / "output" / "acme-crm" / "briefs" / "2026-W40.md").is_file()


def test_each_portfolio_is_built_by_exactly_one_shard(examples: Path) -> None:
    ws = find_workspace(examples)
    portfolios: list[str] = []
    for index in (1, 2, 3):
        report = build_workspace(ws, _options(shard=(index, 3)))
        portfolios += [r.name for r in report.results if r.name.startswith("portfolio/")]
    assert portfolios == ["portfolio/jonas.weber@example.com"]


def test_a_crashed_portfolio_is_reported_as_a_portfolio(
    examples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import planforge.documents as documents

    def crash(*args: object, **kwargs: object) -> dict[str, bytes]:
        raise RuntimeError("a bug in the portfolio template code")

    monkeypatch.setattr(documents, "render_portfolio_formats", crash)
    report = build_workspace(find_workspace(examples), _options())
    assert report.count("failed") == 0
    assert [r.name for r in report.failed] == ["portfolio/jonas.weber@example.com"]
    assert "a bug in the portfolio template code" in report.failed[0].error
    # The same person's calendar is made by the same task, and is not lost with the brief.
    assert "calendars/jonas.weber@example.com.ics" in [r.name for r in report.results
                                                       if r.calendar and r.status == "built"]


def test_a_badly_named_folder_does_not_stop_building_another_project(
    examples: Path, run_cli: RunCli
) -> None:
    shutil.copytree(examples / "projects" / "globex-portal", examples / "projects" / "Globex_Old")
    result = run_cli("build", "acme-crm", "--formats", "md", "--week", WEEK, cwd=examples)
    assert result.exit_code == 0, result.output
    assert (examples / "output" / "manifest.json").is_file()


@dataclass(frozen=True)
class _BrokenInWorkers(Workspace):
    """A workspace with a bug that shows only in a worker process."""

    parent: int = 0

    @property
    def templates_dir(self) -> Path:
        if os.getpid() != self.parent:
            raise KeyError("foo")
        return super().templates_dir


@dataclass(frozen=True)
class _WorkersDieOnSignal(Workspace):
    """A workspace whose worker processes end at once (as if killed) once ``die`` exists."""

    parent: int = 0

    @property
    def templates_dir(self) -> Path:
        if os.getpid() != self.parent and (self.root / "die").exists():
            os._exit(3)
        return super().templates_dir


def test_a_worker_killed_fails_what_it_had_and_what_was_left(examples: Path) -> None:
    # The projects are built; then the workers die as the portfolio brief and calendars are
    # being made: those fail with the reason, and the build still writes its manifest and index.
    ws = find_workspace(examples)
    dying = _WorkersDieOnSignal(ws.root, ws.settings, ws.config_path, os.getpid())

    def progress(result: Result, done: int, total: int) -> None:
        if done == total and not result.portfolio:
            (examples / "die").touch()

    report = build_workspace(dying, _options(jobs=2), progress)
    assert report.count("built") == 4
    assert [r.name for r in report.failed if r.portfolio] == ["portfolio/jonas.weber@example.com"]
    calendars = [r for r in report.results if r.calendar]
    assert calendars and all(r.status == "failed" for r in calendars)
    assert all("terminated abruptly" in r.error for r in report.failed)
    assert (examples / "output" / "index.html").is_file()
    manifest = json.loads((examples / "output" / "manifest.json").read_text("utf-8"))
    assert len(manifest["projects"]) == 4


def test_tasks_left_for_a_broken_pool_fail_without_running(examples: Path) -> None:
    # A worker killed while projects were built breaks the pool: the portfolio briefs and
    # calendars left to send it are failed results, not an exception that loses the build.
    from concurrent.futures import BrokenExecutor

    import planforge.build as build_module

    ws = find_workspace(examples)
    options = _options(jobs=2)
    pool = build_module._Pool(options)
    try:
        executor = pool.get(2)
        assert executor is not None
        with pytest.raises(BrokenExecutor):
            executor.submit(os._exit, 3).result()
        tasks = [build_module.ProjectTask(pid, "") for pid in ws.project_ids()]
        results = build_module._run(ws, options, pool, [], tasks, None)
    finally:
        pool.close()
    assert [(r.name, r.status) for r in results] == [(t.name, "failed") for t in tasks]
    assert all("terminated abruptly" in r.error for r in results)


def test_small_tasks_go_to_the_workers_several_at_a_time(
    examples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import planforge.build as build_module

    # Four projects make groups of one; with a group per worker, they go two at a time.
    monkeypatch.setattr(build_module, "_GROUPS_PER_WORKER", 1)
    ws = find_workspace(examples)
    sizes = [len(group) for group in build_module._batches(
        [build_module.ProjectTask(pid, "") for pid in ws.project_ids()], _options(jobs=2))]
    assert sizes == [2, 2]
    build_workspace(ws, _options(jobs=1))
    out = examples / "output"
    serial = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.suffix == ".md"}
    shutil.rmtree(out)
    report = build_workspace(ws, _options(jobs=2))
    assert report.failed == [] and report.count("built") == 4
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.suffix == ".md"} \
        == serial
    assert [len(group) for group in build_module._batches(
        [build_module.ProjectTask(pid, "") for pid in ws.project_ids()],
        _options(jobs=2, formats=("md", "pdf")))] == [1, 1, 1, 1]  # PDFs go one by one


def test_a_bug_in_a_worker_keeps_its_type_and_traceback(examples: Path) -> None:
    ws = find_workspace(examples)
    broken = _BrokenInWorkers(ws.root, ws.settings, ws.config_path, os.getpid())
    report = build_workspace(broken, _options(jobs=2))
    assert report.count("failed") == 4
    failure = next(r for r in report.failed if r.name == "acme-crm")
    assert failure.error == "internal error: KeyError: 'foo'" and failure.bug
    assert "in templates_dir" in failure.traceback  # where it happened, in the worker
    assert failure.traceback.rstrip().endswith("KeyError: 'foo'")


def test_debug_shows_the_traceback_of_a_failed_project(
    examples: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import planforge.documents as documents

    def crash(*args: object, **kwargs: object) -> dict[str, bytes]:
        return {}["foo"]

    monkeypatch.setattr(documents, "render_formats", crash)
    args = ("build", "acme-crm", "--formats", "md", "--week", WEEK, "--jobs", "1")
    plain = run_cli(*args, cwd=examples)
    assert plain.exit_code == 1
    assert "failed: acme-crm\ninternal error: KeyError: 'foo'\n" in plain.output
    assert "--debug" in plain.output and "Traceback" not in plain.output
    debug = run_cli(*args, "--debug", cwd=examples)
    assert debug.exit_code == 1
    assert "Traceback (most recent call last)" in debug.output
    assert 'return {}["foo"]' in debug.output
