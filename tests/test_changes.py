"""diff_projects and diff_plans: every kind of change, its values and its order (no git)."""

from __future__ import annotations

from datetime import date
from typing import Any

from planforge.changes import KINDS, Change, diff_plans, diff_projects
from planforge.model import Project, build_project

from .gitplans import changed, item, milestone, plan, update


def build(data: dict[str, Any], pid: str = "demo", updates: list[Any] | None = None) -> Project:
    return build_project(pid, data, updates)


def kinds(changes: list[Change]) -> list[tuple[str, str]]:
    return [(c.kind, c.subject_id) for c in changes]


def test_the_same_plan_has_no_changes() -> None:
    assert diff_projects(build(plan()), build(plan())) == []


def test_a_forecast_move_of_a_customer_facing_milestone() -> None:
    old = plan()
    new = changed(old)
    milestone(new, "m-demo").update(forecast="2020-03-16", reason="The customer moved the demo.")
    [c] = diff_projects(build(old), build(new))
    assert c == Change(
        "milestone-moved", "demo", "m-demo", "Demo to the customer", date(2020, 3, 2),
        date(2020, 3, 16), 14, True, "The customer moved the demo.",
    )


def test_customer_facing_moves_come_first_then_internal_then_the_rest() -> None:
    old = plan()
    new = changed(old)
    milestone(new, "m-internal")["forecast"] = "2020-03-20"  # earlier: -12 days
    milestone(new, "m-golive")["forecast"] = "2020-12-10"
    item(new, "risks", "r-staff")["likelihood"] = 4
    new["people"]["pm"]["role"] = "Delivery lead"
    new["phases"][1]["end"] = "2020-12-18"  # unchanged
    found = diff_projects(build(old), build(new))
    assert kinds(found) == [
        ("milestone-moved", "m-golive"),
        ("milestone-moved", "m-internal"),
        ("risk-rescored", "r-staff"),
        ("role-changed", "pm"),
    ]
    assert found[1].days == -12 and found[1].customer_facing is False


def test_a_rebaseline_is_its_own_kind_and_not_counted_as_a_move_too() -> None:
    old = plan()
    new = changed(old)
    milestone(new, "m-golive").update(due="2020-12-15", reason="Agreed with the customer.")
    [c] = diff_projects(build(old), build(new))
    assert (c.kind, c.old, c.new, c.days, c.customer_facing, c.note) == (
        "milestone-rebaselined", date(2020, 12, 1), date(2020, 12, 15), 14, True,
        "Agreed with the customer.",
    )


def test_a_rebaseline_does_not_take_the_reason_of_an_earlier_move() -> None:
    old = plan()
    milestone(old, "m-golive").update(forecast="2020-12-08", reason="SAP test system late.")
    new = changed(old)
    milestone(new, "m-golive")["due"] = "2020-12-08"
    [c] = diff_projects(build(old), build(new))
    assert (c.kind, c.note) == ("milestone-rebaselined", None)


def test_a_rebaseline_onto_the_forecast_moves_nothing_that_was_expected() -> None:
    old = plan()
    milestone(old, "m-golive")["forecast"] = "2020-12-15"
    new = changed(old)
    milestone(new, "m-golive").update(due="2020-12-15")
    del milestone(new, "m-golive")["forecast"]
    assert kinds(diff_projects(build(old), build(new))) == [
        ("milestone-rebaselined", "m-golive")
    ]


def test_a_rebaseline_with_a_new_forecast_reports_both() -> None:
    old = plan()
    milestone(old, "m-golive")["forecast"] = "2020-12-10"
    new = changed(old)
    milestone(new, "m-golive").update(due="2020-12-08", forecast="2020-12-14")
    found = diff_projects(build(old), build(new))
    assert [(c.kind, c.days) for c in found] == [
        ("milestone-moved", 4), ("milestone-rebaselined", 7)
    ]


def test_a_milestone_done_reports_lateness_against_the_baseline() -> None:
    old = plan()
    milestone(old, "m-demo")["forecast"] = "2020-03-09"
    new = changed(old)
    milestone(new, "m-demo")["done"] = "2020-03-05"
    [c] = diff_projects(build(old), build(new))
    assert (c.kind, c.old, c.new, c.days) == (
        "milestone-done", date(2020, 3, 2), date(2020, 3, 5), 3
    )


def test_goals_retargeted_field_by_field() -> None:
    old = plan()
    new = changed(old)
    item(new, "goals", "g-quote").update(target=25, due="2021-01-31")
    item(new, "goals", "g-share")["target"] = 97.5
    found = diff_projects(build(old), build(new))
    assert [(c.subject_id, c.old, c.new, c.days) for c in found] == [
        ("g-quote", "30 minutes", "25 minutes", None),
        ("g-quote", date(2020, 12, 31), date(2021, 1, 31), 31),
        ("g-share", "95%", "97.5%", None),
    ]
    assert {c.kind for c in found} == {"goal-retargeted"}


def test_risks_added_closed_rescored_and_removed() -> None:
    old = plan()
    new = changed(old)
    new["risks"] = [
        {"id": "r-new", "title": "Budget cut", "category": "financial", "likelihood": 2,
         "impact": 5, "owner": "ae", "mitigation": "Phase the licences"},
        {**item(old, "risks", "r-data"), "status": "mitigated", "impact": 2},
    ]
    found = diff_projects(build(old), build(new))
    assert [(c.kind, c.subject_id, c.old, c.new, c.customer_facing) for c in found] == [
        ("risk-added", "r-new", None, 10, False),
        ("risk-closed", "r-data", "open", "mitigated", True),
        ("risk-rescored", "r-data", 12, 6, True),
        ("risk-removed", "r-staff", 6, None, False),
    ]
    assert found[1].note == "We clean the data together every week."


def test_a_risk_that_occurred_is_not_closed() -> None:
    old = plan()
    new = changed(old)
    item(new, "risks", "r-staff")["status"] = "occurred"
    assert kinds(diff_projects(build(old), build(new))) == [("risk-occurred", "r-staff")]


def test_people_added_removed_and_roles() -> None:
    old = plan()
    new = changed(old)
    new["people"]["cx"]["role"] = "Sponsor"
    del new["people"]["ae"]
    new["people"]["ae2"] = {"name": "Sam Seller", "role": "Account executive", "team": "sales"}
    for goal in new["goals"]:
        goal["owner"] = "pm"
    found = diff_projects(build(old), build(new))
    assert [(c.kind, c.subject_id, c.subject, c.old, c.new, c.customer_facing) for c in found] == [
        ("person-added", "ae2", "Sam Seller", None, "Account executive", False),
        ("role-changed", "cx", "Chris Client", "Key user", "Sponsor", True),
        ("person-removed", "ae", "Alex Seller", "Account executive", None, False),
        # The goal the leaver owned was handed over: that is reported too.
        ("owner-changed", "g-share", "Pipeline in the CRM", "Alex Seller", "Pat Manager", False),
    ]


def test_phases_added_moved_and_removed() -> None:
    old = plan()
    new = changed(old)
    new["phases"][0]["end"] = "2020-07-14"
    new["phases"][1]["id"] = "p-golive"
    found = diff_projects(build(old), build(new))
    assert [(c.kind, c.subject_id, c.old, c.new, c.days) for c in found] == [
        ("phase-added", "p-golive", None, "2020-07-01 – 2020-12-18", None),
        ("phase-moved", "p-build", date(2020, 6, 30), date(2020, 7, 14), 14),
        ("phase-removed", "p-launch", "2020-07-01 – 2020-12-18", None, None),
    ]


def test_a_phase_whose_start_alone_moves() -> None:
    old = plan()
    new = changed(old)
    new["phases"][1]["start"] = "2020-07-06"
    [c] = diff_projects(build(old), build(new))
    assert (c.kind, c.old, c.new, c.days) == (
        "phase-moved", date(2020, 7, 1), date(2020, 7, 6), 5
    )


def test_updates_added_carry_health_and_summary() -> None:
    first = update("2020-W10")
    second = update("2020-W11", "amber", "The demo slipped.")
    found = diff_projects(build(plan(), updates=[first]), build(plan(), updates=[first, second]))
    assert [(c.kind, c.subject_id, c.new, c.note) for c in found] == [
        ("update-added", "2020-W11", "amber", "The demo slipped.")
    ]


def test_projects_added_and_removed() -> None:
    project = build(plan())
    assert kinds(diff_projects(None, project)) == [("project-added", "demo")]
    assert kinds(diff_projects(project, None)) == [("project-removed", "demo")]
    assert diff_projects(None, None) == []
    assert diff_projects(None, project)[0].new == "Demo GmbH"


def test_every_kind_has_a_place_in_the_order() -> None:
    assert len(KINDS) == 30 and "milestone-moved" in KINDS


def test_diff_plans_headline_and_project_order() -> None:
    old_a, old_b = plan(), plan(name="Beta")
    new_a, new_b = changed(old_a), changed(old_b)
    milestone(new_a, "m-demo")["forecast"] = "2020-03-09"
    milestone(new_a, "m-golive")["forecast"] = "2020-12-08"
    milestone(new_b, "m-golive")["due"] = "2020-12-04"
    item(new_b, "risks", "r-staff")["status"] = "closed"
    diff = diff_plans(
        {"beta": build(old_b, "beta"), "alpha": build(old_a, "alpha")},
        {"alpha": build(new_a, "alpha"), "beta": build(new_b, "beta"),
         "gamma": build(plan(name="Gamma"), "gamma")},
    )
    assert [p.project_id for p in diff.projects] == ["alpha", "beta", "gamma"]
    assert diff.headline == (
        "2 customer-facing dates move later, 1 re-baseline, 1 risk closed, 1 project added"
    )
    assert len(diff.changes) == 5


def test_diff_plans_reports_invalid_sides_with_their_error_counts() -> None:
    diff = diff_plans(
        {"demo": build(plan()), "bad": None},
        {"demo": None, "bad": None},
        errors_old={"bad": 1},
        errors_new={"demo": 2, "bad": 3},
    )
    assert [(p.project_id, p.errors_old, p.errors_new, p.changes) for p in diff.projects] == [
        ("bad", 1, 3, ()),
        ("demo", None, 2, ()),
    ]
    assert diff.headline == (
        "2 projects invalid after the change, 1 project invalid before the change"
    )


def test_diff_plans_pairs_a_renamed_folder_and_shows_its_changes() -> None:
    old = plan()
    new = changed(old)
    milestone(new, "m-demo")["forecast"] = "2020-03-04"
    diff = diff_plans({"demo": build(old, "demo")}, {"demo-crm": build(new, "demo-crm")})
    [p] = diff.projects
    assert (p.project_id, p.renamed_from) == ("demo-crm", "demo")
    assert kinds(list(p.changes)) == [
        ("milestone-moved", "m-demo"), ("project-removed", "demo"), ("project-added", "demo-crm")
    ]
    assert diff.headline == "1 customer-facing date moves later, 1 project renamed"


def test_no_changes_headline() -> None:
    assert diff_plans({}, {}).headline == "no change to dates, goals, risks, people or phases"


def test_project_status_dates_and_budget() -> None:
    old = plan(budget={"currency": "EUR", "planned": 180000})
    new = changed(old)
    new.update(status="done", start="2020-01-07", end="2021-01-15",
               budget={"currency": "EUR", "planned": 192000})
    found = diff_projects(build(old), build(new))
    assert [(c.kind, c.old, c.new, c.days, c.customer_facing, c.unit) for c in found] == [
        ("project-status", "active", "done", None, False, None),
        ("project-end-moved", date(2020, 12, 18), date(2021, 1, 15), 28, True, None),
        ("project-start-moved", date(2020, 1, 6), date(2020, 1, 7), 1, False, None),
        ("budget-changed", 180000, 192000, None, False, "EUR"),
    ]


def test_a_budget_added_and_a_currency_changed() -> None:
    old = plan()
    new = changed(old)
    new["budget"] = {"currency": "CNY", "planned": 1200000}
    [c] = diff_projects(build(old), build(new))
    assert (c.kind, c.old, c.new, c.unit) == ("budget-changed", None, 1200000, "CNY")
    newer = changed(new)
    newer["budget"] = {"currency": "EUR", "planned": 150000}
    [c] = diff_projects(build(new), build(newer))
    assert (c.old, c.new, c.unit) == ("1200000 CNY", "150000 EUR", None)
    assert diff_projects(build(new), build(changed(new))) == []


def test_milestones_goals_and_tasks_added_and_removed() -> None:
    old = plan()
    old["phases"][0]["tasks"] = [{"id": "t-old", "name": "Old task", "owner": "pm",
                                  "end": "2020-02-01"}]
    new = changed(old)
    new["phases"][0]["tasks"] = [{"id": "t-new", "name": "New task", "owner": "pm",
                                  "end": "2020-02-14"}]
    new["phases"][1]["milestones"].append(
        {"id": "m-training", "name": "Training", "due": "2020-11-20", "customer_facing": True})
    new["phases"][0]["milestones"] = [milestone(new, "m-demo")]  # m-internal removed
    new["goals"] = [item(new, "goals", "g-share"),
                    {"id": "g-nps", "title": "Happy users", "metric": "NPS", "target": 40,
                     "due": "2020-12-31", "owner": "pm"}]
    found = diff_projects(build(old), build(new))
    assert kinds(found) == [
        ("milestone-added", "m-training"),
        ("milestone-removed", "m-internal"),
        ("goal-added", "g-nps"),
        ("goal-removed", "g-quote"),
        ("task-added", "t-new"),
        ("task-removed", "t-old"),
    ]
    by = {c.subject_id: c for c in found}
    assert (by["m-training"].new, by["m-training"].customer_facing) == (date(2020, 11, 20), True)
    assert by["m-internal"].old == date(2020, 4, 1)
    assert (by["g-nps"].new, by["g-quote"].old) == ("40", "30 minutes")
    assert (by["t-new"].new, by["t-old"].old) == (date(2020, 2, 14), date(2020, 2, 1))


def test_owners_and_the_coordinator_reassigned() -> None:
    old = plan(communication={"coordinator": "pm"})
    new = changed(old)
    new["communication"]["coordinator"] = "ae"
    milestone(new, "m-demo")["owner"] = "ae"
    item(new, "risks", "r-data")["owner"] = "ae"
    item(new, "goals", "g-share")["owner"] = "pm"
    found = diff_projects(build(old), build(new))
    assert [(c.kind, c.subject_id, c.old, c.new, c.customer_facing) for c in found] == [
        ("coordinator-changed", "coordinator", "Pat Manager", "Alex Seller", False),
        ("owner-changed", "m-demo", "Pat Manager", "Alex Seller", True),
        ("owner-changed", "g-share", "Alex Seller", "Pat Manager", False),
        ("owner-changed", "r-data", "Pat Manager", "Alex Seller", False),
    ]


def test_a_headline_names_the_project_level_changes() -> None:
    old = plan(budget={"currency": "EUR", "planned": 180000})
    new = changed(old)
    new.update(status="done", end="2021-01-15", budget={"currency": "EUR", "planned": 192000})
    item(new, "risks", "r-staff")["status"] = "occurred"
    diff = diff_plans({"demo": build(old)}, {"demo": build(new)})
    assert diff.headline == ("1 project done, 1 project end moves later, 1 budget changed, "
                             "1 risk occurred")
