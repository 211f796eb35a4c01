"""planforge doctor, the workspace half: planforge.yaml, git history deep enough for "since last
week", the SMTP server answering EHLO (nothing sent), schemas/ as this planforge ships them."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import pytest
import trustme

from planforge.doctor import check_workspace
from planforge.schema import SCHEMA_NAMES

from .conftest import AS_OF, RunCli
from .gitplans import Repo, isolate_git
from .mail_server import Handler, smtp_server


def _workspace_lines(output: str) -> list[str]:
    return output.split("\nWorkspace:\n", 1)[1].splitlines()


def _by_name(root: Path) -> dict[str, tuple[bool, str, str | None]]:
    return {c.name: (c.ok, c.detail, c.fix) for c in check_workspace(root)}


@pytest.fixture
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("planforge.workspace.Workspace.today", lambda self: AS_OF)


def test_an_invalid_planforge_yaml_fails_with_its_line(tmp_path: Path, run_cli: RunCli) -> None:
    (tmp_path / "planforge.yaml").write_text("locale: en\ntimezone: Europe/Berln\n", "utf-8")
    result = run_cli("doctor", "--workspace", str(tmp_path))
    assert result.exit_code == 1
    lines = _workspace_lines(result.output)
    assert lines[0].startswith("FAIL  planforge.yaml")
    assert "planforge.yaml:2: unknown time zone 'Europe/Berln'" in lines[0]
    assert "fix: planforge validate" in lines[1]
    # The other checks still ran, with the defaults.
    assert any(line.startswith("warn  schemas/") for line in lines)


def test_schemas_missing_stale_and_refreshed(tmp_path: Path, run_cli: RunCli) -> None:
    assert _by_name(tmp_path)["schemas/"] == (
        False, "no schemas/ folder: editors cannot check the files as you type",
        "planforge schema --write")
    written = run_cli("schema", "--write", cwd=tmp_path)
    assert written.exit_code == 0
    assert written.stdout.splitlines() == [f"wrote schemas/{n}.schema.json" for n in SCHEMA_NAMES]
    assert _by_name(tmp_path)["schemas/"][0]
    old = tmp_path / "schemas" / "update.schema.json"
    old.write_text(old.read_text("utf-8").replace("W53", "W5[0-9]"), "utf-8")
    assert _by_name(tmp_path)["schemas/"][:2] == (
        False, "out of date with this planforge: update.schema.json")
    again = run_cli("schema", "--write", cwd=tmp_path)
    assert again.stdout == "wrote schemas/update.schema.json\n"
    assert _by_name(tmp_path)["schemas/"][0]
    assert "is up to date" in run_cli("schema", "--write", cwd=tmp_path).stderr


def _smtp_config(root: Path, port: int, security: str) -> None:
    (root / "planforge.yaml").write_text(
        f"email:\n  smtp: {{host: 127.0.0.1, port: {port}, security: {security}, timeout: 5}}\n",
        "utf-8")


@pytest.mark.slow
def test_smtp_answers_ehlo_and_nothing_is_sent(tmp_path: Path, run_cli: RunCli) -> None:
    handler = Handler()
    with smtp_server(handler) as server:
        _smtp_config(tmp_path, server.port, "none")
        result = run_cli("doctor", cwd=tmp_path)
    assert f"ok    SMTP            127.0.0.1:{server.port} answers EHLO (nothing was sent)" \
        in result.output
    assert handler.received == [] and handler.attempts == []


@pytest.mark.slow
def test_smtp_without_the_starttls_it_is_configured_for_warns(tmp_path: Path) -> None:
    with smtp_server() as server:
        _smtp_config(tmp_path, server.port, "starttls")
        ok, detail, fix = _by_name(tmp_path)["SMTP"]
    assert not ok and detail.endswith("answers but offers no STARTTLS")
    assert fix is not None and "security" in fix


@pytest.mark.slow
def test_smtp_offering_starttls_passes(tmp_path: Path) -> None:
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(context)
    with smtp_server(tls_context=context) as server:
        _smtp_config(tmp_path, server.port, "starttls")
        assert _by_name(tmp_path)["SMTP"][0]


def test_smtp_unreachable_warns_and_doctor_still_exits_0(tmp_path: Path, run_cli: RunCli,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nobody listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _smtp_config(tmp_path, port, "none")
    monkeypatch.setattr("planforge.doctor.check_machine", lambda: [])
    result = run_cli("doctor", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert f"warn  SMTP            127.0.0.1:{port} cannot be reached" in result.output
    assert "fix: check email.smtp in planforge.yaml" in result.output


def test_no_smtp_settings_is_fine(tmp_path: Path) -> None:
    assert _by_name(tmp_path)["SMTP"] == (True, "not configured (needed by send only)", None)


@pytest.mark.slow
@pytest.mark.usefixtures("pinned_today")
def test_history_before_this_week(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = isolate_git(monkeypatch, tmp_path)
    assert _by_name(tmp_path)["git history"][:2] == (
        False, "not a git repository: 'since last week' and diff have no history to read")
    repo = Repo.create(tmp_path / "repo", home)
    repo.commit("this week", when="2026-11-17T10:00:00+01:00")
    ok, detail, _ = _by_name(repo.ws)["git history"]
    assert ok and detail.startswith("starts this week")
    repo.commit("an older one", when="2026-11-10T10:00:00+01:00")
    repo.commit("this week again", when="2026-11-18T10:00:00+01:00")
    assert _by_name(repo.ws)["git history"] == (
        True, "reaches back before this week ('since last week')", None)


@pytest.mark.slow
@pytest.mark.usefixtures("pinned_today")
def test_a_shallow_clone_warns_with_the_fetch_depth_fix(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    home = isolate_git(monkeypatch, tmp_path)
    repo = Repo.create(tmp_path / "origin", home)
    repo.commit("last week", when="2026-11-10T10:00:00+01:00")
    repo.commit("this week", when="2026-11-18T10:00:00+01:00")
    clone = Repo(tmp_path / "clone", home)
    clone.git("clone", "-q", "--depth", "1", (tmp_path / "origin").as_uri(), str(clone.path))
    ok, detail, fix = _by_name(clone.path)["git history"]
    assert not ok and detail == "a shallow clone without last week's commit"
    assert fix is not None and "fetch-depth: 0" in fix and "git fetch --unshallow" in fix
