"""planforge doctor: one line per check, the fix beside what is missing, exit 1 only when
something essential is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from planforge import doctor
from planforge.doctor import Check, check_machine

from .conftest import RunCli


@pytest.fixture(autouse=True)
def _empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workspace checks look at the current folder: an empty one, with no SMTP to reach."""
    monkeypatch.chdir(tmp_path)


@pytest.mark.pdf  # loads the PDF stack to report on it
def test_checks_cover_the_stack() -> None:
    names = [c.name for c in check_machine()]
    assert names == ["Python", "planforge", "WeasyPrint", "Pango", "HarfBuzz subsetting",
                     "PDF fonts", "git"]


@pytest.mark.pdf
def test_this_machine_passes(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("doctor", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    machine = result.output.split("\n\n")[0].splitlines()
    assert len(machine) == 7
    assert all(line.startswith("ok") for line in machine)


def test_missing_optional_pieces_warn_with_the_install_command(
        run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    from planforge import fonts

    monkeypatch.setattr("planforge.fonts.missing_fonts", lambda: [fonts.REQUIRED[-1]])
    monkeypatch.setattr("shutil.which", lambda name: None)
    result = run_cli("doctor")
    assert result.exit_code == 0, result.output
    assert "warn  PDF fonts" in result.output
    assert "missing Noto Sans CJK SC Bold" in result.output
    assert "fix: apt-get install fonts-noto-cjk" in result.output
    assert "fix: apt-get install git" in result.output


def test_missing_essential_piece_fails(run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pango() -> Check:
        return Check("Pango", False, "cannot load", "apt-get install libpango-1.0-0")

    def broken() -> Check:
        raise RuntimeError("boom")

    monkeypatch.setattr(doctor, "CHECKS", (("Python", doctor._python), ("Pango", no_pango),
                                           ("git", broken)))
    result = run_cli("doctor")
    assert result.exit_code == 1
    assert "FAIL  Pango" in result.output
    assert "fix: apt-get install libpango-1.0-0" in result.output
    assert "warn  git     check failed: RuntimeError: boom" in result.output


def test_a_crashing_essential_check_fails(run_cli: RunCli,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> Check:
        raise OSError("libpango is damaged")

    monkeypatch.setattr(doctor, "CHECKS", (("Python", doctor._python), ("Pango", broken)))
    result = run_cli("doctor")
    assert result.exit_code == 1
    assert "FAIL  Pango   check failed: OSError: libpango is damaged" in result.output


@pytest.mark.pdf
def test_harfbuzz_subset_missing_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    import weasyprint.text.ffi as ffi

    monkeypatch.setattr(ffi, "harfbuzz_subset", None)
    check = doctor._harfbuzz_subset()
    assert not check.ok
    assert check.fix == "apt-get install libharfbuzz-subset0"
    assert "20 s" in check.detail
