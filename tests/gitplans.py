"""Test helpers: small synthetic plans, and throwaway git repositories with real commits."""

from __future__ import annotations

import copy
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

#: A fixed moment for commits, so that runs are repeatable (the hashes included).
EPOCH = "2020-06-01T12:00:00+00:00"


def plan(**overrides: Any) -> dict[str, Any]:
    """A small valid project.yaml as data: two phases, three milestones, two goals, two risks.

    Every date lies in 2020, so that no ``done`` date is ever in the future of the machine that
    runs the tests."""
    data: dict[str, Any] = {
        "name": "Demo rollout",
        "customer": "Demo GmbH",
        "status": "active",
        "start": "2020-01-06",
        "end": "2020-12-18",
        "people": {
            "pm": {"name": "Pat Manager", "role": "Project manager", "team": "delivery"},
            "ae": {"name": "Alex Seller", "role": "Account executive", "team": "sales"},
            "cx": {"name": "Chris Client", "role": "Key user", "team": "customer"},
        },
        "goals": [
            {"id": "g-quote", "title": "Faster quotes", "metric": "minutes per quote",
             "baseline": 45, "target": 30, "unit": "minutes", "due": "2020-12-31", "owner": "pm"},
            {"id": "g-share", "title": "Pipeline in the CRM", "metric": "share of deals",
             "baseline": 10, "target": 95, "unit": "%", "due": "2020-12-31", "owner": "ae"},
        ],
        "phases": [
            {"id": "p-build", "name": "Build", "start": "2020-01-06", "end": "2020-06-30",
             "milestones": [
                 {"id": "m-demo", "name": "Demo to the customer", "due": "2020-03-02",
                  "customer_facing": True, "owner": "pm"},
                 {"id": "m-internal", "name": "Internal test done", "due": "2020-04-01"},
             ]},
            {"id": "p-launch", "name": "Launch", "start": "2020-07-01", "end": "2020-12-18",
             "milestones": [
                 {"id": "m-golive", "name": "Go-live", "due": "2020-12-01",
                  "customer_facing": True},
             ]},
        ],
        "risks": [
            {"id": "r-data", "title": "Legacy data is poor", "category": "technical",
             "likelihood": 3, "impact": 4, "owner": "pm", "mitigation": "Clean it weekly",
             "customer_message": "We clean the data together every week."},
            {"id": "r-staff", "title": "Key developer leaves", "category": "personnel",
             "likelihood": 2, "impact": 3, "owner": "pm", "mitigation": "Pair programming"},
        ],
    }
    data.update(overrides)
    return data


def changed(data: dict[str, Any]) -> dict[str, Any]:
    """A deep copy to edit, so that the original stays as it was committed."""
    return copy.deepcopy(data)


def milestone(data: dict[str, Any], ident: str) -> dict[str, Any]:
    return next(m for p in data["phases"] for m in p.get("milestones", ()) if m["id"] == ident)


def item(data: dict[str, Any], key: str, ident: str) -> dict[str, Any]:
    return next(x for x in data[key] if x["id"] == ident)


def update(week: str, health: str = "green", summary: str = "On track.") -> dict[str, Any]:
    return {"week": week, "health": health, "summary": summary}


def dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def git_env(home: Path) -> dict[str, str]:
    """The environment of every git call in the tests: no system or user configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", HOME=str(home), GIT_AUTHOR_DATE=EPOCH,
               GIT_COMMITTER_DATE=EPOCH)
    return env


class Repo:
    """A throwaway git repository holding a planforge workspace, committed for real."""

    def __init__(self, path: Path, home: Path, workspace: str = "") -> None:
        self.path = path
        self.home = home
        self.ws = path / workspace if workspace else path
        self.ws.mkdir(parents=True, exist_ok=True)

    @classmethod
    def create(cls, path: Path, home: Path, workspace: str = "") -> Repo:
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path, home, workspace)
        repo.git("init", "-q", "-b", "main")
        (repo.ws / "planforge.yaml").write_text("timezone: Europe/Berlin\n", "utf-8")
        return repo

    def git(self, *args: str, when: str | None = None) -> str:
        env = git_env(self.home)
        if when is not None:
            env.update(GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
        done = subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=self.path, env=env, capture_output=True, text=True, check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
        return done.stdout.strip()

    def write(self, rel: str, text: str) -> Path:
        target = self.ws / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, "utf-8")
        return target

    def write_project(self, pid: str, data: dict[str, Any]) -> None:
        self.write(f"projects/{pid}/project.yaml", dump(data))

    def write_update(self, pid: str, data: dict[str, Any]) -> None:
        self.write(f"projects/{pid}/updates/{data['week']}.yaml", dump(data))

    def commit(self, message: str, when: str | None = None) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, when=when)
        return self.git("rev-parse", "HEAD")


def isolate_git(monkeypatch: Any, tmp_path: Path) -> Path:
    """Keep planforge's own git calls away from the machine's configuration; the home folder."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    for key in list(os.environ):
        if key.startswith("GIT_"):  # e.g. GIT_DIR when the tests run inside a git hook
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    return home


def git_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The git subcommands run from now on, in order."""
    calls: list[str] = []
    run = subprocess.run

    def spy(args: list[str], *rest: Any, **options: Any) -> Any:
        if args[0] == "git":
            calls.append(args[1])
        return run(args, *rest, **options)

    monkeypatch.setattr(subprocess, "run", spy)
    return calls
