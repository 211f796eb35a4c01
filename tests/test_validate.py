"""`planforge validate`: a corpus of damaged workspaces, each with its exact expected output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import REPO, CheckGolden, RunCli

DATA = Path(__file__).parent / "data"
GOLDEN = Path(__file__).parent / "golden" / "validate"
CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "validate_cases.yaml").read_text("utf-8"))


def make_case(root: Path, case: dict[str, Any]) -> None:
    """Copy the valid base workspace to ``root`` and apply the case's edits."""
    shutil.copytree(DATA / "base", root)
    for edit in case.get("edits", []):
        path = root / edit["file"]
        if "replace" in edit:
            text = path.read_text("utf-8")
            assert text.count(edit["replace"]) == 1, f"{case['name']}: edit must match once"
            path.write_text(text.replace(edit["replace"], edit["with"]), "utf-8")
        elif "write" in edit:
            path.write_text(edit["write"], "utf-8")
        elif "hex" in edit:
            path.write_bytes(bytes.fromhex(edit["hex"]))
        elif edit.get("delete"):
            path.unlink()
    if "rename" in case:
        (root / case["rename"]["from"]).rename(root / case["rename"]["to"])


def test_base_workspace_is_valid(tmp_path: Path, run_cli: RunCli) -> None:
    shutil.copytree(DATA / "base", tmp_path / "ws")
    result = run_cli("validate", "--as-of", "2026-11-20", "--strict", cwd=tmp_path / "ws")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30
    assert len({c["name"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case: dict[str, Any], tmp_path: Path, run_cli: RunCli,
              check_golden: CheckGolden) -> None:
    root = tmp_path / "ws"
    make_case(root, case)
    result = run_cli("validate", "--as-of", "2026-11-20", *case.get("args", []), cwd=root)
    actual = f"{result.output}exit code: {result.exit_code}\n"
    check_golden(GOLDEN / f"{case['name']}.txt", actual)
    assert "Traceback" not in result.output


def test_examples_validate_cleanly(run_cli: RunCli) -> None:
    result = run_cli("validate", "--as-of", "2026-11-20", "--strict", cwd=REPO)
    assert result.exit_code == 0, result.output
    assert "no problems" in result.stderr


def test_single_file_reports_only_that_file(tmp_path: Path, run_cli: RunCli) -> None:
    root = tmp_path / "ws"
    make_case(root, {"edits": [
        {"file": "projects/demo/updates/2026-W46.yaml", "replace": "health: amber",
         "with": "health: blue"},
        {"file": "projects/demo/updates/2026-W47.yaml", "replace": "actuals: {g1: 40}",
         "with": "actuals: {g9: 40}"},
    ]})
    result = run_cli("validate", "projects/demo/updates/2026-W47.yaml", "--as-of", "2026-11-20",
                     cwd=root)
    assert result.exit_code == 1
    assert "2026-W47.yaml:4:11: error: actuals.g9" in result.stdout
    assert "2026-W46" not in result.stdout


def test_single_file_with_a_broken_plan_reports_the_plan(tmp_path: Path, run_cli: RunCli) -> None:
    root = tmp_path / "ws"
    make_case(root, {"edits": [
        {"file": "projects/demo/project.yaml", "replace": "impact: 4", "with": "impact: 9"},
    ]})
    result = run_cli("validate", "projects/demo/updates/2026-W47.yaml", "--as-of", "2026-11-20",
                     cwd=root)
    assert result.exit_code == 1
    assert "project.yaml:58:13: error: risks[0].impact: 9 is too large" in result.stdout


def test_json_findings_are_data(tmp_path: Path, run_cli: RunCli) -> None:
    root = tmp_path / "ws"
    make_case(root, CASES[[c["name"] for c in CASES].index("schema-out-of-range")])
    result = run_cli("validate", "--format", "json", "--as-of", "2026-11-20", cwd=root)
    findings = json.loads(result.stdout)
    assert [(f["file"], f["path"], f["severity"]) for f in findings] == [
        ("projects/demo/project.yaml", "risks[0].likelihood", "error")
    ]
    assert isinstance(findings[0]["line"], int) and isinstance(findings[0]["column"], int)


def test_a_person_may_be_called_no(tmp_path: Path, run_cli: RunCli) -> None:
    root = tmp_path / "ws"
    make_case(root, {"edits": [{"file": "projects/demo/project.yaml",
                                "replace": "  cust: {name: Chris Client",
                                "with": "  'no': {name: No Body, role: Key user, team: customer}\n"
                                        "  cust: {name: Chris Client"},
                               {"file": "projects/demo/project.yaml",
                                "replace": "informed: [cust]", "with": "informed: [cust, no]"}]})
    result = run_cli("validate", "--as-of", "2026-11-20", cwd=root)
    assert result.exit_code == 0, result.output


def test_missing_path_is_an_error(tmp_path: Path, run_cli: RunCli) -> None:
    shutil.copytree(DATA / "base", tmp_path / "ws")
    result = run_cli("validate", "projects/nope", cwd=tmp_path / "ws")
    assert result.exit_code == 1
    assert "projects/nope: error: no such file or folder" in result.stdout


def test_usage_error_exits_2(run_cli: RunCli) -> None:
    result = run_cli("validate", "--format", "xml")
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("address", "ok"),
    [("jonas.weber@example.com", True), ("o'brien+tag@mail.example.co.uk", True),
     (".hidden@example.com", False), ("a..b@example.com", False), ("x.@example.com", False),
     ("a/b@example.com", False), ("a\\b@example.com", False), ("a@localhost", False),
     ("jonas weber@example.com", False)],
)
def test_addresses_are_strict_enough_to_name_a_folder(address: str, ok: bool) -> None:
    from planforge.schema import is_address

    assert is_address(address) is ok


@pytest.mark.parametrize(("text", "line", "words"), [
    ('a: 1\nb: "open\nc: 3\nd: 4\n', 2, "never closed (add the closing quote)"),
    ("a: 1\nb: 'open\nc: 3\nd: '4'\ne: 5\n", 2, "runs on to line 4"),
    ("a: 1\nb: [x, y\nc: 3\n", 2, "[ ] starts here and is never closed"),
    ("a: {x: 1,\n  y: Note: 2}\n", 2, "(quote this value: \"Note: 2\")"),
])
def test_syntax_errors_point_where_the_mistake_is(text: str, line: int, words: str) -> None:
    from planforge.yamlio import load_text

    doc, findings = load_text(text, "f.yaml")
    assert doc is None and findings[0].line == line and words in findings[0].message, findings


def test_quotes_and_brackets_over_several_lines_are_fine() -> None:
    from planforge.yamlio import load_text

    doc, findings = load_text('a: "one\n  two: three"\nb: [x,\n  y]\nc: {k: 1,\n  v: 2}\n', "f")
    assert findings == [] and doc is not None
    assert doc.data == {"a": "one two: three", "b": ["x", "y"], "c": {"k": 1, "v": 2}}
