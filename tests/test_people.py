"""People over time: joining and leaving, work handed over, and who each document names."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from planforge.audience import brief_recipients, recipients, without_address
from planforge.members import former, on_project, owner_on
from planforge.model import Handover, build_project

from .conftest import RunCli
from .gitplans import dump, item, milestone, plan, update

AS_OF = "2020-10-02"  # a Friday, week 2020-W40


def handed_over(data: dict[str, Any]) -> dict[str, Any]:
    """Pat leaves at the end of August; Robin joins and takes over the demo, done before."""
    data["people"]["pm"]["left"] = "2020-08-31"
    data["people"]["robin"] = {"name": "Robin Lead", "role": "Project manager",
                               "team": "delivery", "joined": "2020-09-01"}
    demo = milestone(data, "m-demo")
    milestone(data, "m-internal")["done"] = "2020-04-01"
    demo.update(done="2020-03-02", owner="robin",
                handed_over=[{"from": "pm", "on": "2020-09-01"}])
    for risk in data["risks"]:
        risk.update(owner="robin", handed_over=[{"from": "pm", "on": "2020-09-01"}])
    item(data, "goals", "g-quote").update(owner="robin",
                                          handed_over=[{"from": "pm", "on": "2020-09-01"}])
    return data


def workspace(root: Path, data: dict[str, Any], *updates: dict[str, Any]) -> Path:
    root.mkdir()
    (root / "planforge.yaml").write_text("timezone: Europe/Berlin\n", "utf-8")
    folder = root / "projects" / "demo"
    (folder / "updates").mkdir(parents=True)
    (folder / "project.yaml").write_text(dump(data), "utf-8")
    for u in (update("2020-W39"), update("2020-W40"), *updates):
        (folder / "updates" / f"{u['week']}.yaml").write_text(dump(u), "utf-8")
    return root


def validate(run_cli: RunCli, root: Path) -> list[str]:
    result = run_cli("validate", "--as-of", AS_OF, cwd=root)
    return [line for line in result.output.splitlines() if ": " in line]


def test_who_is_on_the_project_and_who_owned_what() -> None:
    project = build_project("demo", handed_over(plan()))
    assert [p.id for p in on_project(project, date(2020, 8, 31))] == ["pm", "ae", "cx"]
    assert [p.id for p in on_project(project, date(2020, 9, 1))] == ["ae", "cx", "robin"]
    assert [p.id for p in former(project, date(2020, 9, 1))] == ["pm"]
    assert former(project, date(2020, 8, 31)) == []
    demo = next(m for m in project.milestones if m.id == "m-demo")
    assert demo.handed_over == (Handover("pm", date(2020, 9, 1)),)
    assert owner_on(demo.owner, demo.handed_over, date(2020, 3, 2)) == "pm"
    assert owner_on(demo.owner, demo.handed_over, date(2020, 9, 1)) == "robin"
    twice = (Handover("ae", date(2020, 5, 1)), Handover("pm", date(2020, 2, 1)))
    assert owner_on("robin", twice, date(2020, 1, 31)) == "pm"
    assert owner_on("robin", twice, date(2020, 4, 30)) == "ae"
    assert owner_on(None, (), date(2020, 4, 30)) is None


def test_a_clean_handover_validates(tmp_path: Path, run_cli: RunCli) -> None:
    root = workspace(tmp_path / "ws", handed_over(plan()))
    result = run_cli("validate", "--as-of", AS_OF, "--strict", cwd=root)
    assert result.exit_code == 0, result.output


def test_who_left_but_still_owns_open_work_is_named(tmp_path: Path, run_cli: RunCli) -> None:
    data = handed_over(plan())
    item(data, "risks", "r-staff").update(owner="pm", raised="2020-09-10")
    del item(data, "risks", "r-staff")["handed_over"]
    milestone(data, "m-golive")["owner"] = "pm"
    data["responsibilities"] = [{"area": "Delivery", "responsible": "robin",
                                 "accountable": "pm"}]
    ask = update("2020-W38")
    ask["sales_asks"] = [{"ask": "Call the CFO", "owner": "pm"}]
    late = update("2020-W36")
    late["sales_asks"] = [{"ask": "Call the CFO", "owner": "pm"}]
    lines = validate(run_cli, workspace(tmp_path / "ws", data, ask, late))
    plan_file = "projects/demo/project.yaml"
    assert lines == [
        f"{plan_file}:73:12: warning: phases[1].milestones[0].owner: Pat Manager (pm) left on "
        "2020-08-31 but still owns this open milestone 'm-golive': hand it over (owner: the new "
        "owner, handed_over: [{from: pm, on: <day>}])",
        f"{plan_file}:91:10: warning: risks[1].owner: Pat Manager (pm) left on 2020-08-31 but "
        "still owns this open risk 'r-staff': hand it over (owner: the new owner, handed_over: "
        "[{from: pm, on: <day>}])",
        f"{plan_file}:91:10: warning: risks[1].owner: raised 2020-09-10, after Pat Manager (pm) "
        "left (2020-08-31): name who watches it now",
        f"{plan_file}:97:16: warning: responsibilities[0].accountable: Pat Manager (pm) left on "
        "2020-08-31: name who is accountable now",
        "projects/demo/updates/2020-W38.yaml:6:10: warning: sales_asks[0].owner: Pat Manager (pm) "
        "left on 2020-08-31, before week 2020-W38: name who owns the ask now",
    ]


def test_dates_of_people_and_handovers_in_order(tmp_path: Path, run_cli: RunCli) -> None:
    data = handed_over(plan())
    data["people"]["ae"].update(joined="2020-05-01", left="2020-04-30")
    data["people"]["cx"]["left"] = "2019-12-31"
    data["people"]["robin"]["joined"] = "2021-01-01"
    milestone(data, "m-demo")["handed_over"] = [{"from": "pm", "on": "2020-09-01"},
                                                {"from": "anna", "on": "2020-08-01"},
                                                {"from": "ae", "on": "2019-01-01"}]
    lines = validate(run_cli, workspace(tmp_path / "ws", data))
    errors = [line.split(": ", 2)[1:] for line in lines if ": error: " in line]
    assert errors == [
        ["error", "people.ae.left: left 2020-04-30, before they joined (2020-05-01)"],
        ["error", "people.cx.left: left 2019-12-31, before the project starts (2020-01-06): "
                  "remove them, or correct the date"],
        ["error", "people.robin.joined: joined 2021-01-01, after the project ends (2020-12-18)"],
        ["error", "phases[0].milestones[0].handed_over[1].from: 'anna' is not in people; add "
                  "them to people or fix the key"],
        ["error", "phases[0].milestones[0].handed_over[1].on: handed over 2020-08-01, before the "
                  "handover above it (2020-09-01): list the owners oldest first"],
        ["error", "phases[0].milestones[0].handed_over[2].on: handed over 2019-01-01, before the "
                  "project starts (2020-01-06)"],
    ]


def test_work_done_after_its_owner_left_needs_a_handover(tmp_path: Path,
                                                         run_cli: RunCli) -> None:
    data = handed_over(plan())
    demo = milestone(data, "m-demo")
    demo.update(done="2020-09-15", owner="pm")
    del demo["handed_over"]
    lines = validate(run_cli, workspace(tmp_path / "ws", data))
    assert [line.split(": ", 2)[2] for line in lines] == [
        "phases[0].milestones[0].done: done 2020-09-15, after its owner then, Pat Manager (pm), "
        "left (2020-08-31): add handed_over to say who took it over and when"]


def test_nobody_who_has_left_is_addressed() -> None:
    data = handed_over(plan())
    data["people"]["ae"].update(email="alex@demo.test", left="2020-09-30")
    data["people"]["robin"].update(email="robin@demo.test", team="sales")
    project = build_project("demo", data)
    assert brief_recipients(project, date(2020, 8, 31)) == ("alex@demo.test",)
    assert brief_recipients(project, date(2020, 9, 30)) == ("alex@demo.test", "robin@demo.test")
    assert brief_recipients(project, date(2020, 10, 2)) == ("robin@demo.test",)
    assert [r.key for r in recipients([project], date(2020, 10, 2))] == ["robin@demo.test"]
    data["people"]["ae"]["email"] = None
    del data["people"]["ae"]["email"]
    gone = build_project("demo", data)
    assert [pid for pid, _ in without_address(gone, date(2020, 9, 1))] == ["ae"]
    assert without_address(gone, date(2020, 10, 2)) == []
