"""The lock files install.sh installs from: every dependency of pyproject.toml pinned exactly,
within its range, so that a dependency added without refreshing the locks fails here."""

from __future__ import annotations

import re
import tomllib

import pytest

from .conftest import REPO

requirements = pytest.importorskip("packaging.requirements")
utils = pytest.importorskip("packaging.utils")


def _pins(name: str) -> dict[str, str]:
    text = (REPO / "requirements" / f"{name}.lock").read_text("utf-8")
    pins = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;]+)", line)
        assert match, f"{name}.lock: not an exact pin: {line}"
        pins[utils.canonicalize_name(match[1])] = match[2]
    return pins


def _declared() -> tuple[list[str], list[str]]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    return project["dependencies"], project["optional-dependencies"]["test"]


@pytest.mark.parametrize("lock", ["runtime", "test"])
def test_every_dependency_is_pinned_within_its_range(lock: str) -> None:
    runtime, test = _declared()
    pins = _pins(lock)
    for spec in runtime + (test if lock == "test" else []):
        requirement = requirements.Requirement(spec)
        name = utils.canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in {lock}.lock: run requirements/update"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{lock}.lock pins {requirement.name}=={pins[name]}, outside {requirement.specifier}")


def test_the_two_locks_agree() -> None:
    runtime, test = _pins("runtime"), _pins("test")
    assert {name: test.get(name) for name in runtime} == runtime
