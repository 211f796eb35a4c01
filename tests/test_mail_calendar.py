"""The recipient's calendar attached to the weekly email (``email.attach_calendar``), against a
real SMTP server on loopback in a real git repository, and ``planforge calendar`` writing the
bytes ``build`` writes."""

from __future__ import annotations

from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from planforge import feeds, mail
from planforge.calendars import calendar_uid
from planforge.workspace import find_workspace

from .conftest import RunCli
from .gitplans import Repo, isolate_git, plan, update
from .mail_server import Server, smtp_server
from .test_mail import fake_render

pytestmark = pytest.mark.slow  # real git repositories and commits

WEEK = "2020-W10"
FRIDAY = date(2020, 3, 6)
ALEX = "alex@example.com"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.setattr(mail, "_default_render", lambda *args: fake_render)
    return Repo.create(tmp_path / "plans", isolate_git(monkeypatch, tmp_path))


def _project(name: str) -> dict[str, Any]:
    data = plan(name=name)
    data["people"]["ae"]["email"] = ALEX
    data["people"]["pm"]["email"] = "pat@example.com"
    data["meetings"] = [
        {"id": "sync", "name": "PM–sales sync", "cadence": "weekly", "day": "thursday",
         "time": "16:00", "attendees": ["pm", "ae"]},
        {"id": "team", "name": "Delivery team", "cadence": "daily", "time": "09:00",
         "attendees": ["pm"]},
    ]
    return data


def _workspace(repo: Repo, server: Server | None, attach: bool | None) -> None:
    """Two projects whose brief Alex receives (a portfolio email), their updates of WEEK."""
    smtp = (f"  smtp: {{host: 127.0.0.1, port: {server.port}, security: none, timeout: 5}}\n"
            if server is not None else "")
    setting = "" if attach is None else f"  attach_calendar: {str(attach).lower()}\n"
    repo.write("planforge.yaml", "timezone: Europe/Berlin\nemail:\n"
               f"{smtp}  from: \"Plans <plans@example.com>\"\n{setting}")
    for pid in ("demo", "other"):
        repo.write_project(pid, _project(f"{pid.title()} rollout"))
    repo.commit("Kickoff", "2020-02-24T09:00:00+01:00")
    for pid in ("demo", "other"):
        repo.write_update(pid, update(WEEK))
    repo.commit("The week's updates", "2020-03-05T11:00:00+01:00")


def _send(run_cli: RunCli, repo: Repo, server: Server) -> EmailMessage:
    result = run_cli("send", "--week", WEEK, cwd=repo.ws)
    assert result.exit_code == 0, result.output
    assert f"sent {ALEX} (demo, other)" in result.output
    (received,) = [r for r in server.handler.received if r.rcpt_tos == [ALEX]]
    return received.message


def _calendar_part(msg: EmailMessage) -> EmailMessage | None:
    parts = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(parts) <= 1
    return parts[0] if parts else None  # type: ignore[return-value]


def test_the_email_carries_the_persons_calendar_as_a_file_to_import(
        repo: Repo, run_cli: RunCli) -> None:
    with smtp_server() as server:
        _workspace(repo, server, attach=True)
        msg = _send(run_cli, repo, server)
    part = _calendar_part(msg)
    assert part is not None
    # A file to import, not an invitation: attached after the PDF, method PUBLISH in both the
    # MIME type (RFC 6047 wants them equal) and the object, and nobody to answer.
    assert [p.get_content_type() for p in msg.iter_attachments()] == ["application/pdf",
                                                                      "text/calendar"]
    assert part.get_content_disposition() == "attachment"
    assert part.get_filename() == "customer-dates-and-meetings.ics"
    assert part.get_param("method") == "PUBLISH" and part.get_param("charset") == "utf-8"
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    cal = Calendar.from_ical(data)
    assert str(cal["METHOD"]) == "PUBLISH"
    events = cal.walk("VEVENT")
    assert not [e for e in events if "ORGANIZER" in e or "ATTENDEE" in e]
    # The portfolio email: one calendar over both projects, the customer-facing milestones and
    # the meetings Alex attends, not the internal milestone nor the delivery team's meeting.
    assert {str(e["UID"]) for e in events} == {
        calendar_uid(pid, kind, ident) for pid in ("demo", "other")
        for kind, ident in (("milestone", "m-demo"), ("milestone", "m-golive"),
                            ("meeting", "sync"))}
    demo = next(e for e in events if str(e["UID"]) == calendar_uid("demo", "milestone", "m-demo"))
    assert demo.decoded("DTSTART") == date(2020, 3, 2)
    # The same bytes as the calendar build writes for that address.
    assert data == feeds.sales_calendar(find_workspace(repo.ws), ALEX, FRIDAY)


@pytest.mark.parametrize("attach", [None, False])
def test_no_calendar_unless_the_workspace_asks(repo: Repo, run_cli: RunCli,
                                               attach: bool | None) -> None:
    with smtp_server() as server:
        _workspace(repo, server, attach=attach)
        msg = _send(run_cli, repo, server)
    assert _calendar_part(msg) is None
    assert [p.get_content_type() for p in msg.iter_attachments()] == ["application/pdf"]


def test_send_attaches_the_calendar_build_wrote(repo: Repo, run_cli: RunCli,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_server() as server:
        _workspace(repo, server, attach=True)
        built = run_cli("build", "--week", WEEK, "--formats", "md", cwd=repo.ws)
        assert built.exit_code == 0, built.output

        def unused(*args: object) -> bytes:
            raise AssertionError("made the calendar again instead of attaching build's")

        monkeypatch.setattr(feeds, "sales_calendar", unused)
        msg = _send(run_cli, repo, server)
    part = _calendar_part(msg)
    assert part is not None
    built_file = repo.ws / "output" / "calendars" / f"{ALEX}.ics"
    assert part.get_payload(decode=True) == built_file.read_bytes()


def test_the_calendar_command_writes_what_build_writes(repo: Repo, run_cli: RunCli,
                                                       tmp_path: Path) -> None:
    _workspace(repo, None, attach=None)
    result = run_cli("build", "--week", WEEK, "--formats", "md", cwd=repo.ws)
    assert result.exit_code == 0, result.output
    output = repo.ws / "output"
    for target, built in ((ALEX, output / "calendars" / f"{ALEX}.ics"),
                          ("demo", output / "demo" / "calendar.ics")):
        written = tmp_path / f"{target}.ics"
        result = run_cli("calendar", target, "--week", WEEK, "-o", str(written), cwd=repo.ws)
        assert result.exit_code == 0, result.output
        assert written.read_bytes() == built.read_bytes(), target
        piped = run_cli("calendar", target, "--week", WEEK, cwd=repo.ws)
        assert piped.stdout_bytes == built.read_bytes(), target
    # Someone who receives no brief has no calendar, and is told so.
    result = run_cli("calendar", "pat@example.com", "--week", WEEK, cwd=repo.ws)
    assert result.exit_code == 2
    assert "receives the brief of no active project" in result.output


def test_a_chinese_calendar_name_falls_back_to_calendar_ics_for_old_clients() -> None:
    import email
    import email.policy

    from planforge.mail import _attachment_headers

    content_type, disposition = _attachment_headers(
        "客户日期与会议.ics", "text/calendar", ['charset="utf-8"', "method=PUBLISH"],
        default="calendar")
    folded = (content_type.fold(policy=email.policy.SMTP)
              + disposition.fold(policy=email.policy.SMTP) + "\r\n")
    part = email.message_from_string(folded, policy=email.policy.default)
    assert part.get_param("name") == "calendar.ics"
    assert part.get_filename() == "客户日期与会议.ics"  # RFC 2231, for every current client
    assert 'filename="calendar.ics"' in folded
