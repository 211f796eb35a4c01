"""Who receives what: build, render portfolio and send follow one rule (``audience``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from planforge import mail
from planforge.model import Project

from .conftest import WEEK, RunCli
from .test_mail import parsed, tiny_pdf, write_project

LEE = {"name": "Lee Wong", "role": "AE", "team": "sales", "email": "Lee.Wong@Example.com"}
KIM = {"name": "Kim Park", "role": "AE", "team": "sales", "email": "kim.park@example.com"}
SAM = {"name": "Sam Ito", "role": "Presales", "team": "sales", "email": "sam.ito@example.com",
       "brief": False}


def _workspace(root: Path) -> Path:
    """Where the three commands disagreed before they shared one rule: Sam is on two projects
    without `brief: true`; Kim receives the brief of one active and one finished project; Lee
    is on two projects in two languages, written with different case and under two spellings
    of his name, in projects whose names sort the other way round from their ids."""
    root.mkdir()
    (root / "planforge.yaml").write_text('email:\n  from: "PMO <pmo@example.com>"\n', "utf-8")
    write_project(root, "alpha", name="Zeta rollout", customer="Zeta", locale="en",
                  people={"lee": LEE, "kim": KIM, "sam": SAM})
    write_project(root, "beta", name="Apex portal", customer="Apex", locale="zh-CN",
                  people={"lee": {**LEE, "name": "L. Wong", "email": "lee.wong@example.com"},
                          "sam": SAM})
    write_project(root, "gamma", name="Old pilot", customer="Zeta", status="done",
                  people={"kim": KIM})
    return root


def test_build_render_and_send_agree_on_who_gets_a_portfolio(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _workspace(tmp_path / "ws")
    built = run_cli("build", "--formats", "md", "--week", WEEK, "--jobs", "1", cwd=root)
    assert built.exit_code == 0, built.output
    folders = sorted(p.name for p in (root / "output" / "portfolio").iterdir())
    assert folders == ["lee.wong@example.com"]
    portfolio = (root / "output" / "portfolio" / folders[0] / f"{WEEK}.md").read_text("utf-8")
    assert portfolio.startswith("# Portfolio brief — Lee Wong\n")  # the name of alpha, by id

    rendered = run_cli("render", "portfolio", "Lee.Wong@Example.com", "--week", WEEK, cwd=root)
    assert rendered.exit_code == 0, rendered.output
    assert rendered.stdout == portfolio
    for address, message in (
        ("sam.ito@example.com", "sam.ito@example.com receives no brief"),
        ("pat.lee@example.com", "pat.lee@example.com receives no brief"),
        ("kim.park@example.com", "receives the brief of one active project, alpha, and no "
                                 "portfolio brief: planforge render brief alpha"),
        ("nobody@example.com", "no active project names nobody@example.com"),
    ):
        refused = run_cli("render", "portfolio", address, "--week", WEEK, cwd=root)
        assert refused.exit_code == 2 and message in refused.output, refused.output

    sent: list[tuple[str, tuple[str, ...]]] = []

    def render(address: str, projects: Sequence[Project]) -> bytes:
        sent.append((address, tuple(p.id for p in projects)))
        return tiny_pdf()

    monkeypatch.setattr(mail, "_default_render", lambda *args: render)
    outbox = tmp_path / "outbox"
    result = run_cli("send", "--week", WEEK, "--dry-run", "--outbox", str(outbox), cwd=root)
    assert result.exit_code == 0, result.output
    assert sorted(sent) == [("Lee.Wong@Example.com", ("alpha", "beta")),
                            ("kim.park@example.com", ("alpha",))]
    lee = parsed((outbox / WEEK / "Lee.Wong@Example.com.eml").read_bytes())
    # The email and the portfolio it carries: the same name, and one language (the projects
    # have two, so the workspace's).
    assert lee["To"] == "Lee Wong <Lee.Wong@Example.com>"
    assert lee["Subject"] == f"Your projects — weekly brief {WEEK}"
