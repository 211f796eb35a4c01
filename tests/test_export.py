"""planforge export: the tables, their documentation, the three PMO questions answered in SQL
on a repository whose history gives known answers, and --history read in one git pass."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from planforge.export import TABLES, columns_markdown, sqlite_schema

from .conftest import REPO, WEEK, RunCli
from .gitplans import Repo, changed, git_calls, isolate_git, item, milestone, plan, update

# --- the definition and its documentation -------------------------------------------------------


def test_the_readme_lists_every_table_and_column_as_the_code_defines_them() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    found = re.search(r"<!-- export-columns:[^\n]*-->\n(.*?)<!-- /export-columns -->", readme,
                      re.S)
    assert found is not None, "the README's export column reference is missing"
    assert found[1] == columns_markdown()


def test_every_key_and_reference_names_columns_that_exist() -> None:
    tables = {t.name: t for t in TABLES}
    for t in TABLES:
        assert len(set(t.names)) == len(t.names), t.name
        assert set(t.key) <= set(t.names), t.name
        for ref in t.references:
            assert set(ref.columns) <= set(t.names), t.name
            assert tables[ref.table].key == ref.to, (t.name, ref.table)
    db = sqlite3.connect(":memory:")
    db.executescript(sqlite_schema())  # the schema is valid SQL


# --- the example workspace, without history ---------------------------------------------------


def _export(run_cli: RunCli, ws: Path, *args: str) -> Any:
    result = run_cli("export", *args, cwd=ws)
    assert result.exit_code == 0, result.output
    return result


def test_csv_has_a_byte_order_mark_and_keeps_chinese_text(examples: Path,
                                                          run_cli: RunCli) -> None:
    out = examples / "csv"
    result = _export(run_cli, examples, "--format", "csv", "-o", str(out), "--week", WEEK)
    assert "1 week as of 2026-11-20" in result.stderr
    for t in TABLES:
        data = (out / f"{t.name}.csv").read_bytes()
        assert data.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        assert rows[0] == list(t.names)
    projects = list(csv.DictReader(io.StringIO(
        (out / "projects.csv").read_bytes().decode("utf-8-sig"))))
    xinghe = next(p for p in projects if p["project_id"] == "xinghe-market-push")
    assert re.search("[\u4e00-\u9fff]", xinghe["name"])  # written in Chinese, read back whole
    assert {p["week"] for p in projects} == {WEEK}


def test_json_and_sqlite_hold_the_same_rows(examples: Path, run_cli: RunCli) -> None:
    result = _export(run_cli, examples, "--format", "json", "-o", "-", "--week", WEEK)
    doc = json.loads(result.stdout)
    assert doc["week"] == WEEK and doc["weeks"] == [WEEK]
    _export(run_cli, examples, "--format", "sqlite", "-o", str(examples / "x.sqlite"),
            "--week", WEEK)
    db = sqlite3.connect(examples / "x.sqlite")
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    for t in TABLES:
        count = db.execute(f"SELECT COUNT(*) FROM {t.name}").fetchone()[0]
        assert count == len(doc["tables"][t.name]), t.name
    assert len(doc["tables"]["milestones"]) > 0 and len(doc["tables"]["people"]) > 0
    milestone_row = doc["tables"]["milestones"][0]
    assert isinstance(milestone_row["customer_facing"], bool)


@pytest.mark.parametrize(("args", "message"), [
    (("--format", "csv", "-o", "-"), "only json goes to standard output"),
    (("--format", "sqlite", "-o", "projects"), "is a folder"),
    (("--format", "csv", "-o", "planforge.yaml"), "is a file"),
    (("--format", "json", "-o", "-", "--week", "2026-W60"), "not an ISO week"),
    (("--format", "json", "-o", "-", "--week", WEEK, "--as-of", "2026-11-20"),
     "not both"),
])
def test_bad_input_is_a_message_not_a_traceback(examples: Path, run_cli: RunCli,
                                                args: tuple[str, ...], message: str) -> None:
    result = run_cli("export", *args, cwd=examples)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_project_with_errors_is_left_out_with_a_note(examples: Path, run_cli: RunCli) -> None:
    (examples / "projects" / "acme-crm" / "project.yaml").write_text("name: [broken\n", "utf-8")
    result = _export(run_cli, examples, "--format", "json", "-o", "-", "--week", WEEK)
    assert "note: skipped acme-crm" in result.stderr
    ids = {p["project_id"] for p in json.loads(result.stdout)["tables"]["projects"]}
    assert "acme-crm" not in ids and ids


# --- a repository with known answers ----------------------------------------------------------

# Europe/Berlin, summer time: UTC+2.
KICKOFF = "2020-03-02T10:00:00+01:00"
AS_OF = "2020-06-19"  # Friday of 2020-W25
AS_OF_WEEK = "2020-W25"
SALES = {"alex": {"name": "Alex Seller", "role": "Account executive", "team": "sales",
                  "email": "alex@example.com"},
         "sam": {"name": "Sam Seller", "role": "Account executive", "team": "sales",
                 "email": "sam@example.com"}}


def _project(name: str, seller: str) -> dict[str, Any]:
    data = plan(name=name, customer=f"{name} GmbH")
    data["people"]["ae"] = SALES[seller]
    milestone(data, "m-demo")["done"] = "2020-03-02"
    milestone(data, "m-internal")["done"] = "2020-04-01"
    return data


def _training(data: dict[str, Any]) -> None:
    data["phases"][1]["milestones"].append(
        {"id": "m-training", "name": "Training", "due": "2020-09-01", "customer_facing": True})


def _risk(data: dict[str, Any], ident: str, likelihood: int, impact: int) -> None:
    item(data, "risks", ident).update(likelihood=likelihood, impact=impact)


@pytest.fixture
def pmo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """Four projects from 2 March 2020, then risks re-scored, slips and updates in May and June,
    and one more change after the as-of date that the export must not show.

    alpha (Alex): two customer milestones slip 19 and 30 days; reported green, computed red;
    r-data rises 12 → 20 in June; r-staff rises and falls back within June.
    beta (Sam): go-live slips 9 days; reported green, computed amber; r-staff rose in May.
    gamma (Alex): on track, green; r-data falls in June.
    delta (Sam): go-live slips 16 days; reported red; a new risk in June.
    """
    home = isolate_git(monkeypatch, tmp_path)
    repo = Repo.create(tmp_path / "repo", home)
    alpha, beta = _project("Alpha", "alex"), _project("Beta", "sam")
    gamma, delta = _project("Gamma", "alex"), _project("Delta", "sam")
    _training(alpha)
    for pid, data in (("alpha", alpha), ("beta", beta), ("gamma", gamma), ("delta", delta)):
        repo.write_project(pid, data)
    repo.commit("Kickoff", when=KICKOFF)

    def step(pid: str, data: dict[str, Any], when: str) -> None:
        repo.write_project(pid, data)
        repo.commit(f"{pid} changes", when=when)

    beta = changed(beta)
    _risk(beta, "r-staff", 3, 3)
    step("beta", beta, "2020-05-20T10:00:00+02:00")
    alpha = changed(alpha)
    _risk(alpha, "r-staff", 3, 3)
    step("alpha", alpha, "2020-06-03T10:00:00+02:00")
    gamma = changed(gamma)
    _risk(gamma, "r-data", 2, 4)
    step("gamma", gamma, "2020-06-05T10:00:00+02:00")
    for data, ident, forecast in ((alpha, "m-golive", "2020-12-20"),
                                  (alpha, "m-training", "2020-10-01"),
                                  (beta, "m-golive", "2020-12-10"),
                                  (delta, "m-golive", "2020-12-17")):
        milestone(data, ident).update(forecast=forecast, reason="Migration rerun.")
    for pid, data in (("alpha", alpha), ("beta", beta), ("delta", delta)):
        repo.write_project(pid, data)
    repo.commit("Slips", when="2020-06-08T10:00:00+02:00")
    alpha = changed(alpha)
    _risk(alpha, "r-data", 4, 5)
    step("alpha", alpha, "2020-06-10T10:00:00+02:00")
    delta = changed(delta)
    delta["risks"].append({"id": "r-new", "title": "Vendor insolvent", "category": "financial",
                           "likelihood": 5, "impact": 5, "owner": "pm",
                           "mitigation": "Second source"})
    step("delta", delta, "2020-06-12T10:00:00+02:00")
    alpha = changed(alpha)
    _risk(alpha, "r-staff", 2, 3)
    step("alpha", alpha, "2020-06-15T10:00:00+02:00")
    for pid, health in (("alpha", "green"), ("beta", "green"), ("gamma", "green"),
                        ("delta", "red")):
        repo.write_update(pid, update("2020-W24", "green", "Last week."))
        repo.write_update(pid, update(AS_OF_WEEK, health, "This week."))
    repo.commit("Updates", when="2020-06-19T16:00:00+02:00")
    after = changed(alpha)
    _risk(after, "r-data", 1, 1)
    step("alpha", after, "2020-06-25T10:00:00+02:00")
    return repo


def _database(run_cli: RunCli, repo: Repo, *args: str) -> sqlite3.Connection:
    path = repo.path / "out" / "plans.sqlite"
    result = _export(run_cli, repo.ws, "--format", "sqlite", "-o", str(path), "--as-of", AS_OF,
                     *args)
    assert "skipped" not in result.stderr
    return sqlite3.connect(path)


QUESTIONS = {
    "slipping by sales person": """
        SELECT p.name, COUNT(*) FROM milestones m
        JOIN people p ON p.week = m.week AND p.project_id = m.project_id AND p.team = 'sales'
        WHERE m.week = :week AND m.customer_facing AND m.state IN ('slipping', 'overdue')
          AND m.variance_days > 14
        GROUP BY p.name ORDER BY p.name""",
    "risks rose this month": """
        SELECT r.project_id, r.risk_id, b.score, r.score FROM risks r
        JOIN risk_scores b ON b.project_id = r.project_id AND b.risk_id = r.risk_id
         AND b.seq = (SELECT MAX(seq) FROM risk_scores s WHERE s.project_id = r.project_id
                      AND s.risk_id = r.risk_id AND s.changed_on < :month_start)
        WHERE r.week = :week AND r.score > b.score ORDER BY 1, 2""",
    "green but not": """
        SELECT project_id, health_computed FROM projects
        WHERE week = :week AND health_reported = 'green'
          AND health_computed IN ('amber', 'red') ORDER BY 1""",
}


def _ask(db: sqlite3.Connection, question: str) -> list[tuple[Any, ...]]:
    return db.execute(QUESTIONS[question],
                      {"week": AS_OF_WEEK, "month_start": "2020-06-01"}).fetchall()


@pytest.mark.slow
def test_three_pmo_questions_have_their_known_answers(pmo: Repo, run_cli: RunCli) -> None:
    db = _database(run_cli, pmo)
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert _ask(db, "slipping by sales person") == [("Alex Seller", 2), ("Sam Seller", 1)]
    assert _ask(db, "risks rose this month") == [("alpha", "r-data", 12, 20)]
    assert _ask(db, "green but not") == [("alpha", "red"), ("beta", "amber")]
    # The commit after the as-of date is not part of it.
    assert db.execute("SELECT MAX(changed_on) FROM risk_scores").fetchone() == ("2020-06-15",)
    assert db.execute("SELECT value FROM export WHERE name = 'weeks'").fetchone() == (
        AS_OF_WEEK,)


@pytest.mark.slow
def test_history_holds_every_week_read_in_one_git_pass(pmo: Repo, run_cli: RunCli,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    single = _database(run_cli, pmo)
    calls = git_calls(monkeypatch)
    db = _database(run_cli, pmo, "--history")
    assert calls.count("log") == 1 and calls.count("cat-file") <= 2, calls
    weeks = [w for (w,) in db.execute("SELECT DISTINCT week FROM projects ORDER BY week")]
    assert weeks[0] == "2020-W10" and weeks[-1] == AS_OF_WEEK and len(weeks) == 16
    golive = dict(db.execute("SELECT week, state FROM milestones WHERE project_id = 'alpha' "
                             "AND milestone_id = 'm-golive'").fetchall())
    assert golive["2020-W23"] == "on-track" and golive["2020-W24"] == "slipping"
    scores = dict(db.execute("SELECT week, score FROM risks WHERE project_id = 'alpha' "
                             "AND risk_id = 'r-data'").fetchall())
    assert scores["2020-W23"] == 12 and scores["2020-W24"] == 20
    reported = dict(db.execute("SELECT week, health_reported FROM projects "
                               "WHERE project_id = 'delta'").fetchall())
    assert reported["2020-W23"] is None and reported[AS_OF_WEEK] == "red"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    # The as-of week holds exactly what an export of that week alone holds.
    for t in TABLES:
        where = f"WHERE week = '{AS_OF_WEEK}'" if "week" in t.names else ""
        query = f"SELECT * FROM {t.name} {where} ORDER BY {', '.join(t.key)}"
        assert db.execute(query).fetchall() == single.execute(query).fetchall(), t.name


@pytest.mark.slow
def test_history_without_git_exports_the_as_of_week_with_a_note(examples: Path,
                                                                run_cli: RunCli,
                                                                tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    isolate_git(monkeypatch, tmp_path)
    result = _export(run_cli, examples, "--format", "json", "-o", "-", "--week", WEEK,
                     "--history")
    assert "no usable git history" in result.stderr
    assert json.loads(result.stdout)["weeks"] == [WEEK]
