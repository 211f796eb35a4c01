"""The JSON Schemas and planforge agree: an editor using schemas/ refuses what planforge refuses,
wherever JSON Schema can say it, and what it cannot say is in the schemas' descriptions.

The examples and a corpus of damaged files go through the schemas alone (jsonschema without
format checks, as most editors run; check-jsonschema's ECMAScript regexes when installed) and
through ``planforge validate``; every disagreement is listed, and must be a documented one."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from planforge.dates import DATE_PATTERN, EARLIEST, LATEST, parse_week, timezone_names, week_pattern
from planforge.schema import is_valid
from planforge.yamlio import load_text

from .conftest import REPO, RunCli
from .schema_rules import SCHEMAS, expected, text
from .test_validate import CASES, make_case

AS_OF = "2026-11-20"

#: What planforge checks and JSON Schema cannot say, each as it is written in the schemas'
#: descriptions (the test below checks that they are), with the findings it explains.
DOCUMENTED = {
    "the week matches the file name": re.compile(r"does not match the file name|named after "
                                                 r"their ISO week"),
    "asks closed only after being asked": re.compile(r"never asked|no earlier update"),
    "unique ids": re.compile(r"already used|already names"),
    "references": re.compile(r"is not (in people|a goal|a milestone or task)"),
    "dependencies": re.compile(r"depends on|cycle"),
    "the order of dates": re.compile(r"before it starts|lies outside|in the future"),
    "a weekly meeting's day": re.compile(r"weekly meetings need a day"),
    "measure_from names a milestone of this project": re.compile(r"is not a milestone of this "
                                                                 r"project"),
    "measuring starts by the goal's due": re.compile(r"after the goal is due"),
}


@dataclass(frozen=True)
class Verdict:
    schema_errors: list[str]  # what the schemas alone say of the file
    planforge_errors: list[str]  # what planforge validate says of it


def _schema_name(path: Path) -> str | None:
    if path.name == "planforge.yaml":
        return "workspace"
    if path.name == "project.yaml":
        return "project"
    if path.name == "retrospective.yaml":
        return "retrospective"
    if path.parent.name == "updates" and path.suffix == ".yaml":
        return "update"
    return None


@pytest.fixture(scope="module")
def editor_validators() -> dict[str, Draft202012Validator]:
    """The shipped schemas as an editor reads them: no format checks, only the keywords."""
    return {name: Draft202012Validator(json.loads((SCHEMAS / f"{name}.schema.json")
                                                  .read_text("utf-8")))
            for name in ("project", "update", "retrospective", "workspace")}


def _verdicts(root: Path, run_cli: RunCli,
              validators: dict[str, Draft202012Validator]) -> dict[str, Verdict]:
    result = run_cli("validate", "--as-of", AS_OF, "--format", "json", cwd=root)
    findings: list[dict[str, Any]] = json.loads(result.stdout or "[]")
    out = {}
    for path in sorted(root.rglob("*.y*ml")):
        name = _schema_name(path)
        if name is None:
            continue
        file = path.relative_to(root).as_posix()
        doc, syntax = load_text(path.read_text("utf-8", errors="replace"), file)
        if doc is None or syntax:
            continue  # not YAML: the editor's YAML parser says so, not the schema
        data = {} if doc.data is None and name == "workspace" else doc.data
        errors = sorted(e.message for e in validators[name].iter_errors(data))
        mine = [f"{f['path']}: {f['message']}" for f in findings
                if f["file"] == file and f["severity"] == "error"]
        out[file] = Verdict(errors, mine)
    return out


def _disagreements(verdicts: dict[str, Verdict]) -> list[str]:
    """Every file one side refuses and the other accepts, with the documented reason or none."""
    lines = []
    for file, v in verdicts.items():
        if v.schema_errors and not v.planforge_errors:
            lines.append(f"{file}: the schema refuses what planforge accepts: {v.schema_errors}")
        elif v.planforge_errors and not v.schema_errors:
            for message in v.planforge_errors:
                reason = next((k for k, rx in DOCUMENTED.items() if rx.search(message)), None)
                lines.append(f"{file}: {message} [{reason or 'UNDOCUMENTED'}]")
    return lines


#: Damaged files of this suite's own, for the rules the schemas took over from planforge.
EDITOR_CASES: list[dict[str, Any]] = [
    {"name": f"date-{day}", "edits": [{"file": "projects/demo/project.yaml",
                                       "replace": "start: 2026-09-07\nend:",
                                       "with": f"start: {day}\nend:"}]}
    for day in ("2026-02-30", "2026-02-29", "2027-04-31", "2026-13-01", "2026-00-10",
                "2100-02-29", "1969-12-31", "2200-01-01", "2026-9-07", "2026-W47-1")
] + [
    {"name": f"week-{week}", "edits": [{"file": f"projects/demo/updates/{week}.yaml",
                                        "write": f"week: {week}\nhealth: green\nsummary: x\n"}]}
    for week in ("2026-W54", "2025-W53", "2026-W00", "1969-W10", "2026-W5", "2026-W53")
] + [
    {"name": f"timezone-{zone}",
     "edits": [{"file": "planforge.yaml", "write": f"timezone: {zone}\n"}]}
    for zone in ("Europe/Berln", "Mars/Olympus", "localtime", "Factory", "Asia/Shanghai")
] + [
    {"name": "meeting-timezone", "edits": [{"file": "projects/demo/project.yaml",
                                            "replace": "time: \"10:00\",",
                                            "with": "time: \"10:00\", timezone: Europe/Berln,"}]},
]


def _all_cases() -> list[dict[str, Any]]:
    return [*CASES, *EDITOR_CASES]


@pytest.mark.slow
def test_schemas_and_planforge_disagree_only_where_documented(
    tmp_path: Path, run_cli: RunCli, editor_validators: dict[str, Draft202012Validator]
) -> None:
    report: list[str] = []
    shutil.copytree(REPO / "projects", tmp_path / "examples" / "projects")
    shutil.copy(REPO / "planforge.yaml", tmp_path / "examples")
    workspaces = {"examples": tmp_path / "examples"}
    for case in _all_cases():
        if case.get("args") or case.get("rename") or case["name"].startswith("workspace-"):
            continue  # about the command line or the folders, not a file's content
        make_case(tmp_path / case["name"], case)
        workspaces[case["name"]] = tmp_path / case["name"]
    for name, root in workspaces.items():
        verdicts = _verdicts(root, run_cli, editor_validators)
        report += [f"{name}: {line}" for line in _disagreements(verdicts)]
    print("\n".join(report))  # the whole list, for the reader of a failure
    assert not [line for line in report if "UNDOCUMENTED" in line or "schema refuses" in line]
    # The rules the schemas took over are refused by the editor as well now.
    for case in EDITOR_CASES:
        if case["name"] in ("date-2026-02-29", "week-2026-W53", "timezone-Asia/Shanghai"):
            assert not any(line.startswith(f"{case['name']}:") for line in report)
    assert not any(line.startswith(("date-", "week-", "timezone-", "meeting-timezone"))
                   for line in report), report


def test_the_documented_reasons_are_in_the_schemas() -> None:
    words = " ".join(json.dumps(expected(n)) for n in ("project", "update", "retrospective"))
    for reason in DOCUMENTED:
        assert reason in words, reason


@pytest.mark.slow
def test_check_jsonschema_agrees(tmp_path: Path) -> None:
    """The same schemas through check-jsonschema, whose regexes are ECMAScript's (as editors'
    are): the damaged dates, weeks and zones are refused, the good ones pass."""
    tool = shutil.which("check-jsonschema") or str(Path(sys.executable).parent /
                                                   "check-jsonschema")
    if not Path(tool).exists():
        pytest.skip("check-jsonschema is not installed")
    good = ["2026-W53", "2028-02-29"]
    bad = ["2026-W54", "2025-W53", "2026-02-30", "2100-02-29"]
    for i, value in enumerate(good + bad):
        key = "week" if "W" in value else "d"
        body = (f"week: {value}\nhealth: green\nsummary: x\n" if key == "week" else
                f"week: 2026-W47\nhealth: green\nsummary: x\nsales_asks: [{{ask: x, owner: pm, "
                f"due: {value}}}]\n")
        (tmp_path / f"{i}.yaml").write_text(body, "utf-8")
    files = sorted(str(p) for p in tmp_path.glob("*.yaml"))
    run = subprocess.run([tool, "--disable-formats", "*", "-o", "json", "--schemafile",
                          str(SCHEMAS / "update.schema.json"), *files],
                         capture_output=True, text=True, check=False)
    refused = {Path(e["filename"]).stem for e in json.loads(run.stdout)["errors"]}
    assert refused == {str(i) for i in range(len(good), len(good) + len(bad))}, run.stdout
    zone = tmp_path / "planforge.yaml"
    for name, ok in (("Europe/Berlin", True), ("Europe/Berln", False)):
        zone.write_text(f"timezone: {name}\n", "utf-8")
        run = subprocess.run([tool, "-o", "json", "--schemafile",
                              str(SCHEMAS / "workspace.schema.json"), str(zone)],
                             capture_output=True, text=True, check=False)
        assert (run.returncode == 0) == ok, run.stdout


def test_schemas_carry_planforge_rules(request: pytest.FixtureRequest) -> None:
    """schemas/ holds the rules of planforge.dates; ``pytest --update-golden`` rewrites it."""
    for name in ("project", "update", "retrospective", "workspace"):
        path = SCHEMAS / f"{name}.schema.json"
        want = expected(name)
        if request.config.getoption("--update-golden"):
            path.write_text(text(want), "utf-8")
            continue
        have = json.loads(path.read_text("utf-8"))
        # The zone list is this machine's database: compared below, by what planforge accepts.
        for schema in (want, have):
            schema.get("$defs", {}).get("timezone", {}).pop("enum", None)
        assert have == want, f"{path.name} is out of date: run pytest --update-golden"


def test_every_zone_the_schemas_list_is_one_planforge_accepts() -> None:
    listed = json.loads((SCHEMAS / "workspace.schema.json").read_text("utf-8"))
    names = listed["$defs"]["timezone"]["enum"]
    assert names == sorted(names)
    assert "Europe/Berlin" in names and "localtime" not in names
    assert set(names) <= set(timezone_names())


def test_date_pattern_is_the_calendar() -> None:
    rx = re.compile(DATE_PATTERN)
    for year in range(EARLIEST.year - 3, LATEST.year + 4):
        for month in range(0, 14):
            for day in range(0, 33):
                written = f"{year:04d}-{month:02d}-{day:02d}"
                try:
                    real = EARLIEST <= date(year, month, day) <= LATEST
                except ValueError:
                    real = False
                assert (rx.fullmatch(written) is not None) == real, written


def test_week_pattern_is_the_iso_calendar() -> None:
    rx = re.compile(week_pattern())
    for year in range(EARLIEST.year - 3, LATEST.year + 4):
        for week in range(0, 56):
            written = f"{year:04d}-W{week:02d}"
            assert (rx.fullmatch(written) is not None) == (parse_week(written) is not None)


def test_the_fast_check_and_the_messages(tmp_path: Path, run_cli: RunCli) -> None:
    """planforge's own words, not the schema's pattern, for each of these."""
    assert not is_valid({"week": "2025-W53", "health": "green", "summary": "x"}, "update")
    cases = {
        "date-2026-02-30": "start: '2026-02-30' is not a real date written as YYYY-MM-DD",
        "date-2200-01-01": "outside the years planforge handles (1970–2199)",
        "week-2026-W54": "week: 2026-W54 is not a real ISO week (weeks run from W01 to W52, "
                         "or W53 in long years)",
        "timezone-Europe/Berln": "timezone: unknown time zone 'Europe/Berln'; did you mean "
                                 "'Europe/Berlin'?",
        "timezone-localtime": "timezone: unknown time zone 'localtime'",
        "meeting-timezone": "unknown time zone 'Europe/Berln'; did you mean 'Europe/Berlin'?",
    }
    for name, message in cases.items():
        case = next(c for c in EDITOR_CASES if c["name"] == name)
        root = tmp_path / name.replace("/", "-")
        make_case(root, case)
        result = run_cli("validate", "--as-of", AS_OF, cwd=root)
        assert result.exit_code == 1
        assert message in result.output, result.output
        assert "^(" not in result.output and result.output.count("error:") == 1, result.output


def test_the_same_findings_before_and_after_the_fast_check_is_compiled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A process checks its first documents with jsonschema alone and compiles the fast check
    only later: either way a document gets the same findings."""
    from collections import Counter

    from planforge import schema

    monkeypatch.setattr(schema, "_checked", Counter())
    monkeypatch.setattr(schema, "_FAST", {})  # as in a new process with an empty cache
    docs = []
    for written in ("week: 2026-W47\nhealth: green\nsummary: Fine.\n",
                    "week: 2026-W47\nhealth: purple\nsummary: [1]\n", "week: 1\n"):
        doc, problems = load_text(written, "updates/2026-W47.yaml")
        assert doc is not None and not problems
        docs.append(doc)
    before = [schema.check_document(doc, "update") for doc in docs]
    assert before[0] == [] and before[1] and before[2]
    schema._checked["update"] = schema.COMPILE_AFTER
    calls: list[object] = []
    fast = schema._passes
    monkeypatch.setattr(schema, "_passes",
                        lambda check, data: calls.append(data) or fast(check, data))
    assert [schema.check_document(doc, "update") for doc in docs] == before
    assert calls == [doc.data for doc in docs]  # the fast check answered first
