"""The send policy end to end: `planforge send` in a real git repository with dated commits,
against a real SMTP server on loopback. A brief waits for its week's update, the closing week
sends the closing brief, and a brief edited after it was sent goes again once as "Updated"."""

from __future__ import annotations

from pathlib import Path

import pytest

from planforge import mail

from .conftest import RunCli
from .gitplans import Repo, isolate_git, milestone, plan, update
from .mail_server import Server, smtp_server
from .test_mail import bodies, fake_render

pytestmark = pytest.mark.slow  # real git repositories and commits

WEEK = "2020-W10"  # Monday 2 March to Sunday 8 March 2020
NEXT = "2020-W11"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.setattr(mail, "_default_render", lambda *args: fake_render)
    return Repo.create(tmp_path / "plans", isolate_git(monkeypatch, tmp_path))


def configure(repo: Repo, server: Server, resend: str | None = None) -> None:
    policy = f"  resend: {resend}\n" if resend else ""
    repo.write("planforge.yaml", f"""\
timezone: Europe/Berlin
email:
  smtp: {{host: 127.0.0.1, port: {server.port}, security: none, timeout: 5}}
  from: "Plans <plans@example.com>"
{policy}""")


def project() -> dict[str, object]:
    data = plan()
    data["people"]["ae"]["email"] = "alex@example.com"
    data["people"]["pm"]["email"] = "pat@example.com"
    data["communication"] = {"coordinator": "pm"}
    return data


def kickoff(repo: Repo, server: Server, resend: str | None = None) -> dict[str, object]:
    configure(repo, server, resend)
    data = project()
    repo.write_project("demo", data)
    repo.commit("Kickoff", "2020-02-24T09:00:00+01:00")
    return data


def send(run_cli: RunCli, repo: Repo, week: str = WEEK, *extra: str) -> str:
    result = run_cli("send", "--week", week, *extra, cwd=repo.ws)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_brief_waits_for_its_update_then_goes_once(repo: Repo, run_cli: RunCli) -> None:
    with smtp_server() as server:
        kickoff(repo, server)
        repo.commit("Monday merge: no update yet", "2020-03-02T10:00:00+01:00")
        out = send(run_cli, repo)
        assert server.handler.received == []
        assert f"held demo: no update for {WEEK} yet" in out
        assert "held 1" in out
        dry = send(run_cli, repo, WEEK, "--dry-run", "--outbox", str(repo.path / "box"))
        assert f"held demo: no update for {WEEK} yet" in dry

        repo.write_update("demo", update(WEEK, "amber", "A critical risk; an ask of sales."))
        repo.commit("The week's update", "2020-03-06T11:00:00+01:00")
        out = send(run_cli, repo)
        assert "sent alex@example.com (demo)" in out and "held" not in out
        again = send(run_cli, repo)
        assert "skipped alex@example.com (demo): already sent" in again
    (received,) = server.handler.received
    msg = received.message
    # Replies reach the project's coordinator.
    assert msg["Reply-To"].addresses[0].addr_spec == "pat@example.com"
    assert not msg["Subject"].startswith("Updated")
    assert "A critical risk; an ask of sales." in bodies(msg)[0]


def test_the_closing_week_sends_the_closing_brief(repo: Repo, run_cli: RunCli) -> None:
    with smtp_server() as server:
        data = kickoff(repo, server)
        repo.write_update("demo", update(WEEK))
        repo.commit("Update", "2020-03-06T11:00:00+01:00")
        send(run_cli, repo)
        data["status"] = "done"
        repo.write_project("demo", data)
        repo.write_update("demo", update(NEXT, summary="Closed: handed over to support."))
        repo.commit("Closed with the final update", "2020-03-13T16:00:00+01:00")
        out = send(run_cli, repo, NEXT)
        assert "sent alex@example.com (demo)" in out
        # The week after, a closed project sends nothing.
        assert "sent 0" in send(run_cli, repo, "2020-W12")
    _, closing = server.handler.received
    assert "Closed: handed over to support." in bodies(closing.message)[0]


@pytest.mark.parametrize("resend", ["changed", "never"])
def test_an_edited_brief_goes_again_once_as_updated(repo: Repo, run_cli: RunCli,
                                                    resend: str) -> None:
    with smtp_server() as server:
        data = kickoff(repo, server, resend)
        repo.write_update("demo", update(WEEK))
        repo.commit("Update", "2020-03-05T11:00:00+01:00")
        send(run_cli, repo)
        milestone(data, "m-golive").update(forecast="2020-12-08", reason="Data rerun.")
        repo.write_project("demo", data)
        repo.commit("Go-live a week later", "2020-03-06T10:00:00+01:00")
        first_edit = send(run_cli, repo)
        milestone(data, "m-golive").update(forecast="2020-12-15", reason="Another rerun.")
        repo.write_project("demo", data)
        repo.commit("Go-live two weeks later", "2020-03-06T12:00:00+01:00")
        second_edit = send(run_cli, repo)
    subjects = [r.message["Subject"] for r in server.handler.received]
    if resend == "never":
        assert len(subjects) == 1
        assert "email.resend is never" in first_edit
        return
    # Two edits on one day: one update; the second waits for the next day.
    assert len(subjects) == 2
    assert subjects[1] == f"Updated (dates): Demo rollout — weekly brief {WEEK}"
    text = bodies(server.handler.received[1].message)[0]
    assert text.startswith("Updated since the last email: dates.\r\n")
    assert "sent alex@example.com (demo)" in first_edit
    assert "held alex@example.com (demo): changed since it was sent" in second_edit
