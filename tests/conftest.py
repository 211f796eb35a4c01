"""Shared fixtures: the pinned date, the example workspace, and the CLI runner."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from planforge.cli import Context, cli

REPO = Path(__file__).resolve().parents[1]
#: Every test that depends on "today" pins it here: the Friday of ISO week 2026-W47.
AS_OF = date(2026, 11, 20)
WEEK = "2026-W47"


#: Set by git for hooks and ``rebase --exec``: left in place, the throwaway repositories the tests
#: make would be this checkout itself.
_GIT_LOCATIONS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR",
                  "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES")


def pytest_configure(config: pytest.Config) -> None:
    for name in _GIT_LOCATIONS:
        os.environ.pop(name, None)


@pytest.fixture(autouse=True)
def _own_load_cache(monkeypatch: pytest.MonkeyPatch,
                    tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test starts with an empty cache of loaded projects (``loadcache``) of its own, never
    the user's: what one test loaded must not answer for another that patched planforge."""
    monkeypatch.setenv("PLANFORGE_CACHE", str(tmp_path_factory.mktemp("load-cache")))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="Rewrite golden files from current output."
    )


CheckGolden = Callable[[Path, str], None]


@pytest.fixture
def check_golden(request: pytest.FixtureRequest) -> CheckGolden:
    """Compare text with a golden file; ``pytest --update-golden`` rewrites the file instead."""
    update = bool(request.config.getoption("--update-golden"))

    def check(path: Path, actual: str) -> None:
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, "utf-8")
        assert path.is_file(), f"no golden file {path}: run pytest --update-golden and review it"
        assert actual == path.read_text("utf-8")

    return check


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """PDF and property-based tests are slow by nature: ``pytest -m "not slow"`` is the fast
    inner loop, and the markers need not be repeated on each of them."""
    for item in items:
        func = getattr(item, "obj", None)
        if item.get_closest_marker("pdf") or getattr(func, "is_hypothesis_test", False):
            item.add_marker(pytest.mark.slow)


def copy_examples(root: Path) -> Path:
    """Copy the bundled example workspace (planforge.yaml and projects/) into ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "planforge.yaml", root / "planforge.yaml")
    shutil.copytree(REPO / "projects", root / "projects")
    return root


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A private copy of the bundled example workspace."""
    return copy_examples(tmp_path / "ws")


RunCli = Callable[..., Result]


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch) -> RunCli:
    """Run ``planforge ARGS`` in-process from ``cwd`` (default: the current directory)."""

    def run(*args: str, cwd: Path | None = None, input: str | None = None) -> Result:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        return CliRunner().invoke(cli, list(args), obj=Context(), input=input,
                                  catch_exceptions=False)

    return run
