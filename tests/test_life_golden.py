"""A project's whole life in dated commits, rendered at chosen dates and compared with golden
files: what each document said at the time, including what git alone remembers (the kickoff
baseline, every re-baseline, a risk that occurred and was closed again)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import CheckGolden, RunCli
from .gitplans import Repo
from .test_baselines import lived  # noqa: F401 - the fixture: a project's life in commits

pytestmark = pytest.mark.slow  # a real git repository with dated commits

GOLDEN = Path(__file__).parent / "golden" / "life"

#: (document, extra arguments, golden file): the brief of the week the risk occurred, the week
#: after, the charter at kickoff and at the end, and the retrospective once the project closed.
#: The project manager left before the end: the briefs of then and the charter agreed at kickoff
#: still name them.
MOMENTS = [
    ("brief", ("--week", "2020-W11"), "brief-2020-W11.md"),
    ("brief", ("--week", "2020-W12"), "brief-2020-W12.md"),
    ("charter", ("--as-of", "2020-03-02"), "charter-at-kickoff.md"),
    ("charter", ("--as-of", "2021-01-08"), "charter-at-close.md"),
    ("retro", ("--as-of", "2021-01-08"), "retro.md"),
]


@pytest.mark.parametrize(("document", "args", "golden"), MOMENTS,
                         ids=[m[2] for m in MOMENTS])
def test_documents_at_chosen_moments(lived: Repo, run_cli: RunCli,  # noqa: F811
                                     check_golden: CheckGolden, document: str,
                                     args: tuple[str, ...], golden: str) -> None:
    result = run_cli("render", document, "demo", *args, "--format", "md", cwd=lived.ws)
    assert result.exit_code == 0, result.output
    check_golden(GOLDEN / golden, result.stdout)
