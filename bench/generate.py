"""Synthetic workspaces for the benchmark: N valid projects of realistic size, deterministic.

    python bench/generate.py OUT_DIR --projects 1000

Each project has 6 phases, 24 tasks, 8 milestones (3 customer-facing, one slipping), 8 risks,
3 meetings, 4 goals and 6 weekly updates, like the bundled acme-crm example. Sales people are
shared between projects so that portfolio briefs exist.
"""

from __future__ import annotations

import argparse
import random
from datetime import date, timedelta
from pathlib import Path

import yaml

AS_OF = date(2026, 11, 20)  # the benchmark's pinned date (Friday of 2026-W47)
CATEGORIES = ["technical", "schedule", "scope", "financial", "market", "personnel", "customer",
              "legal"]


def _week(day: date) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def project_data(index: int, rng: random.Random) -> tuple[dict, list[dict]]:
    """One project.yaml and its updates, as plain data with ISO date strings."""
    start = date(2026, 6, 1) + timedelta(weeks=rng.randrange(0, 16))
    end = start + timedelta(weeks=36)
    people = {
        "pm": {"name": f"PM {index}", "role": "Project manager", "team": "delivery",
               "email": f"pm{index}@example.com"},
        "ae": {"name": f"Seller {index % 40}", "role": "Account executive", "team": "sales",
               "email": f"seller{index % 40}@example.com"},
        "arch": {"name": f"Architect {index}", "role": "Solution architect", "team": "delivery"},
        "dev": {"name": f"Developer {index}", "role": "Developer", "team": "delivery"},
        "sponsor": {"name": f"Sponsor {index}", "role": "Executive sponsor", "team": "customer"},
    }
    phases = []
    phase_len = (end - start).days // 6
    previous_ms: str | None = None
    for p in range(6):
        p_start = start + timedelta(days=p * phase_len)
        p_end = end if p == 5 else p_start + timedelta(days=phase_len - 1)
        tasks = []
        for t in range(4):
            t_start = p_start + timedelta(days=t * phase_len // 4)
            t_end = min(p_end, t_start + timedelta(days=phase_len // 4 + 3))
            task = {"id": f"t{p}{t}", "name": f"Task {p}.{t} of the delivery", "owner":
                    rng.choice(["pm", "arch", "dev"]), "start": t_start.isoformat(),
                    "end": t_end.isoformat()}
            if t_end <= AS_OF:
                task["done"] = t_end.isoformat()
            elif t_start <= AS_OF:
                task["progress"] = rng.randrange(10, 90, 10)
            tasks.append(task)
        milestones = []
        count = 2 if p in (1, 3) else 1
        for m in range(count):
            due = p_end - timedelta(days=(count - 1 - m) * 7)
            ms = {"id": f"m{p}{m}", "name": f"Milestone {p}.{m}", "due": due.isoformat(),
                  "customer_facing": m == 0 and p % 2 == 1, "owner": "pm"}
            if previous_ms:
                ms["depends_on"] = [previous_ms]
            if due <= AS_OF:
                ms["done"] = due.isoformat()
            elif p == 4:
                ms["forecast"] = (due + timedelta(days=9)).isoformat()
                ms["reason"] = "The customer asked to move the training week."
            milestones.append(ms)
            previous_ms = ms["id"]
        phases.append({"id": f"p{p}", "name": f"Phase {p + 1}", "start": p_start.isoformat(),
                       "end": p_end.isoformat(), "owner": "pm", "milestones": milestones,
                       "tasks": tasks})
    risks = []
    for r in range(8):
        likelihood, impact = rng.randint(1, 4), rng.randint(1, 4)
        risks.append({"id": f"r{r}", "title": f"Risk {r} of project {index}",
                      "category": CATEGORIES[r], "likelihood": likelihood, "impact": impact,
                      "owner": "pm", "mitigation": "Weekly review with the customer.",
                      "contingency": "Escalate to the steering committee.",
                      "status": "open" if r % 3 else "mitigated"})
    goals = [{"id": f"g{g}", "title": f"Goal {g}", "metric": "Measured value", "baseline": 10,
              "target": 20 + g, "unit": "%", "due": (end + timedelta(weeks=8)).isoformat(),
              "owner": "pm"} for g in range(4)]
    project = {
        "name": f"Synthetic project {index}",
        "customer": f"Customer {index} AG",
        "summary": "A generated project of realistic size for the benchmark.",
        "status": "active",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "budget": {"currency": "EUR", "planned": 250000, "spent": 100000},
        "people": people,
        "responsibilities": [{"area": "Delivery", "responsible": "pm", "accountable": "pm",
                              "consulted": ["arch"], "informed": ["ae", "sponsor"]}],
        "communication": {"coordinator": "pm", "channels": ["Weekly sync"]},
        "goals": goals,
        "phases": phases,
        "risks": risks,
        "meetings": [
            {"id": "standup", "name": "Daily stand-up", "cadence": "daily", "time": "09:15",
             "attendees": ["pm", "arch", "dev"]},
            {"id": "sync", "name": "PM–sales sync", "cadence": "weekly", "day": "thursday",
             "time": "14:00", "attendees": ["pm", "ae"]},
            {"id": "review", "name": "Monthly review", "cadence": "monthly",
             "day": "first tuesday", "time": "10:00", "attendees": ["pm", "sponsor"]},
        ],
    }
    updates = []
    for back in range(6):
        day = AS_OF - timedelta(weeks=back)
        if day < start:
            break
        updates.append({"week": _week(day), "health": "amber", "summary":
                        "Delivery continues; one milestone moved at the customer's request.",
                        "done": ["Finished the planned tasks"], "next": ["Continue the build"],
                        "actuals": {"g0": 12 + back}, "talking_points": ["On track overall."],
                        "sales_asks": [{"ask": "Confirm the training week", "owner": "ae"}]})
    return project, updates


def generate_workspace(root: Path, projects: int, seed: int = 0) -> Path:
    """Write ``planforge.yaml`` and ``projects/`` for ``projects`` synthetic projects."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "planforge.yaml").write_text(
        "organization: Benchmark Org\ntimezone: Europe/Berlin\n", "utf-8")
    for index in range(projects):
        project, updates = project_data(index, rng)
        folder = root / "projects" / f"project-{index:04d}"
        (folder / "updates").mkdir(parents=True, exist_ok=True)
        (folder / "project.yaml").write_text(
            yaml.safe_dump(project, sort_keys=False, allow_unicode=True), "utf-8")
        for update in updates:
            (folder / "updates" / f"{update['week']}.yaml").write_text(
                yaml.safe_dump(update, sort_keys=False, allow_unicode=True), "utf-8")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    generate_workspace(args.out, args.projects, args.seed)


if __name__ == "__main__":
    main()
