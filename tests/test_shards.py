"""One site from a CI matrix: N ``build --shard I/N`` jobs and ``build --merge`` give the output
of one build on one machine, and a merge of shards that are not one build says why and stops."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from planforge.build import shard_of

from .conftest import WEEK, RunCli
from .gitplans import dump, plan

pytestmark = pytest.mark.slow  # each test builds the example workspace several times


def build_shards(run_cli: RunCli, ws: Path, count: int, formats: str = "md,html",
                 week: str = WEEK) -> list[Path]:
    """Each shard built as a CI job builds it, its output folder kept as its artifact is."""
    folders = []
    for index in range(1, count + 1):
        result = run_cli("build", "--shard", f"{index}/{count}", "--formats", formats,
                         "--week", week, "--jobs", "1", cwd=ws)
        assert result.exit_code == 0, result.output
        folder = ws.parent / "shards" / str(index)
        folder.parent.mkdir(exist_ok=True)
        shutil.move(ws / "output", folder)
        folders.append(folder)
    return folders


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def without_mtimes(data: bytes) -> Any:
    """A manifest as JSON, less the time each file was written, which differs between any two
    builds (the manifest records it to notice a file rewritten since)."""
    manifest = json.loads(data)
    for entry in manifest["files"].values():
        del entry["mtime_ns"]
    return manifest


def assert_same_output(merged: dict[str, bytes], single: dict[str, bytes]) -> None:
    assert sorted(merged) == sorted(single)
    for name in single:
        if name == "manifest.json":
            assert without_mtimes(merged[name]) == without_mtimes(single[name])
        else:
            assert merged[name] == single[name], name


def test_four_shards_merged_are_the_single_machine_build(examples: Path,
                                                         run_cli: RunCli) -> None:
    # Jonas Weber's projects are in two shards, his portfolio brief and calendar in a third.
    assert (shard_of("acme-crm", 4), shard_of("globex-portal", 4)) == (2, 3)
    folders = build_shards(run_cli, examples, 4)
    assert not list(folders[1].glob("portfolio/*"))

    result = run_cli("build", "--merge", *map(str, folders), cwd=examples)
    assert result.exit_code == 0, result.output
    assert "merged 4 shards" in result.output
    merged = tree(examples / "output")
    assert "shard" not in json.loads(merged["manifest.json"])
    shutil.rmtree(examples / "output")

    single = run_cli("build", "--formats", "md,html", "--week", WEEK, "--jobs", "1",
                     cwd=examples)
    assert single.exit_code == 0, single.output
    everything = tree(examples / "output")
    assert_same_output(merged, everything)
    for name in ("index.html", f"portfolio/jonas.weber@example.com/{WEEK}.md",
                 "calendars/jonas.weber@example.com.ics", "acme-crm/calendar.ics",
                 f"globex-portal/briefs/{WEEK}.html"):
        assert name in merged
    # The merged folder is a build's output like any other: the next build renders nothing.
    shutil.rmtree(examples / "output")
    run_cli("build", "--merge", *map(str, folders), cwd=examples)
    again = run_cli("build", "--formats", "md,html", "--week", WEEK, cwd=examples)
    assert "projects: 0 built, 4 unchanged" in again.output
    assert "portfolio briefs: 0 built, 1 unchanged" in again.output


@pytest.mark.pdf
def test_pdf_shards_merged_are_the_single_machine_build(tmp_path: Path,
                                                        run_cli: RunCli) -> None:
    """PDFs are the same bytes given the same fonts: small plans, for speed, with one sales
    person's portfolio over both shards."""
    ws = tmp_path / "ws"
    (ws / "projects").mkdir(parents=True)
    (ws / "planforge.yaml").write_text("timezone: Europe/Berlin\n", "utf-8")
    for pid, customer in (("alpha", "Alpha AG"), ("beta", "Beta GmbH")):
        data = plan(customer=customer)
        data["people"]["ae"]["email"] = "alex@example.com"
        (ws / "projects" / pid).mkdir()
        (ws / "projects" / pid / "project.yaml").write_text(dump(data), "utf-8")
    assert (shard_of("alpha", 2), shard_of("beta", 2)) == (1, 2)
    week = "2020-W30"
    folders = build_shards(run_cli, ws, 2, formats="pdf", week=week)
    assert run_cli("build", "--merge", *map(str, folders), cwd=ws).exit_code == 0
    merged = tree(ws / "output")
    shutil.rmtree(ws / "output")
    result = run_cli("build", "--formats", "pdf", "--week", week, "--jobs", "1", cwd=ws)
    assert result.exit_code == 0, result.output
    assert f"portfolio/alex@example.com/{week}.pdf" in merged
    assert_same_output(merged, tree(ws / "output"))


def merge_fails(run_cli: RunCli, ws: Path, *folders: Path) -> str:
    result = run_cli("build", "--merge", *map(str, folders), cwd=ws)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert not (ws / "output" / "manifest.json").exists()  # nothing merged
    return result.output


def edit_manifest(folder: Path, **changes: Any) -> None:
    path = folder / "manifest.json"
    data = json.loads(path.read_text("utf-8"))
    for key, value in changes.items():
        if key in ("index", "count", "workspace", "formats"):
            data["shard"][key] = value
        else:
            data[key] = value
    path.write_text(json.dumps(data), "utf-8")


def test_shards_that_are_not_one_build_are_refused(examples: Path, run_cli: RunCli,
                                                   tmp_path: Path) -> None:
    one, two, three = build_shards(run_cli, examples, 3, formats="md")

    assert "shard 2/3 missing" in merge_fails(run_cli, examples, one, three)
    assert "are both shard 1/3" in merge_fails(run_cli, examples, one, one, two)
    text = merge_fails(run_cli, examples, one, two, three, tmp_path / "nowhere")
    assert "nowhere: no such folder" in text
    (tmp_path / "empty").mkdir()
    assert "no manifest.json" in merge_fails(run_cli, examples, one, tmp_path / "empty")

    other = tmp_path / "other"
    shutil.copytree(three, other)
    edit_manifest(other, planforge="0.0.1")
    assert "built by planforge 0.0.1" in merge_fails(run_cli, examples, one, two, other)

    edit_manifest(other, planforge=json.loads((one / "manifest.json").read_text())["planforge"],
                  week="2026-W48", as_of="2026-11-27")
    assert "the week 2026-W48" in merge_fails(run_cli, examples, one, two, other)

    # A shard of another week, built for real: it is another build of the workspace.
    shutil.rmtree(other)
    result = run_cli("build", "--shard", "3/3", "--formats", "md", "--week", "2026-W46",
                     cwd=examples)
    assert result.exit_code == 0, result.output
    shutil.move(examples / "output", other)
    assert "holds the week 2026-W47" in merge_fails(run_cli, examples, one, two, other)

    # A shard of another workspace (here: other settings), and the merge's own checkout.
    shutil.rmtree(other)
    settings = examples / "planforge.yaml"
    original = settings.read_text("utf-8")
    settings.write_text(original + "\n# edited\n", "utf-8")
    assert run_cli("build", "--shard", "3/3", "--formats", "md", "--week", WEEK,
                   cwd=examples).exit_code == 0
    shutil.move(examples / "output", other)
    assert "different workspaces" in merge_fails(run_cli, examples, one, two, other)
    assert "another workspace" in merge_fails(run_cli, examples, one, two, three)
    settings.write_text(original, "utf-8")

    shutil.rmtree(other)
    shutil.copytree(three, other)
    edit_manifest(other, count=4, index=4)
    assert "shard 4/4" in merge_fails(run_cli, examples, one, two, other)

    # A shard built without --shard, a damaged artifact, a manifest naming files elsewhere.
    full = run_cli("build", "--formats", "md", "--week", WEEK, cwd=examples)
    assert full.exit_code == 0, full.output
    shutil.rmtree(other)
    shutil.move(examples / "output", other)
    assert "built without --shard" in merge_fails(run_cli, examples, one, two, other)
    shutil.rmtree(other)
    shutil.copytree(three, other)
    (other / "manifest.json").write_text("{not json", "utf-8")
    assert "not a manifest planforge wrote" in merge_fails(run_cli, examples, one, two, other)
    shutil.rmtree(other)
    shutil.copytree(three, other)
    [document, *_] = sorted(other.rglob("*.md"))
    document.write_text("changed by hand\n", "utf-8")
    assert "not the file the shard's build wrote" in merge_fails(run_cli, examples, one, two,
                                                                 other)
    document.unlink()
    assert "missing, though the shard's manifest lists it" in merge_fails(
        run_cli, examples, one, two, other)
    shutil.rmtree(other)
    shutil.copytree(three, other)
    data = json.loads((other / "manifest.json").read_text("utf-8"))
    data["files"]["../../escape.md"] = next(iter(data["files"].values()))
    (other / "manifest.json").write_text(json.dumps(data), "utf-8")
    assert "no document of an output folder" in merge_fails(run_cli, examples, one, two, other)
    assert not (tmp_path / "escape.md").exists()

    # Options that belong to the shards' builds are usage errors with --merge.
    result = run_cli("build", "--merge", "--week", WEEK, str(one), cwd=examples)
    assert result.exit_code == 2 and "no --week" in result.output
    assert run_cli("build", "--merge", cwd=examples).exit_code == 2
    assert run_cli("build", "--merge", str(one), str(two), str(three),
                   cwd=examples).exit_code == 0
