"""Calendars: read back with icalendar's parser, meetings expanded by dateutil's RRULE against
planforge's own next meetings, and a milestone moved between two builds in a real repository."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rruleset, rrulestr
from icalendar import Calendar

from planforge.build import BuildOptions, build_workspace
from planforge.calendars import (
    CalendarInput,
    calendar_uid,
    person_calendar,
    project_calendar,
    vtimezone,
)
from planforge.dates import iso_week
from planforge.facts import compute_facts, next_meetings
from planforge.i18n import translator
from planforge.model import Settings, build_project
from planforge.workspace import find_workspace

from .gitplans import Repo, changed, isolate_git, milestone, plan

AS_OF = date(2020, 2, 28)  # a year from here crosses both DST changes of 2020 and of 2021

MEETINGS: list[dict[str, Any]] = [
    {"id": "standup", "name": "Stand-up", "cadence": "daily", "time": "09:15",
     "duration": 15, "attendees": ["pm"], "skip": ["2020-12-24", "2020-12-25"]},
    {"id": "sync", "name": "PM–sales sync", "cadence": "weekly", "day": "thursday",
     "time": "16:00", "timezone": "Europe/Paris", "attendees": ["pm", "ae"],
     "skip": ["2020-05-21", "2020-12-24"]},
    {"id": "steer", "name": "Steering", "cadence": "biweekly", "day": "tuesday",
     "time": "08:30", "duration": 60, "timezone": "America/New_York", "attendees": ["pm"]},
    {"id": "review", "name": "Monthly review", "cadence": "monthly", "day": "last thursday",
     "time": "10:00", "timezone": "Asia/Shanghai", "attendees": ["ae"],
     "skip": ["2020-11-26"]},
    {"id": "kick", "name": "Account call", "cadence": "monthly", "day": "first monday",
     "time": "11:00", "timezone": "Europe/London", "attendees": ["ae"]},
    {"id": "billing", "name": "Billing", "cadence": "monthly", "day": 15, "time": "14:00",
     "attendees": ["pm"]},
]


def _plan() -> dict[str, Any]:
    data = plan(meetings=MEETINGS)
    data["people"]["ae"]["email"] = "alex@example.com"
    data["end"] = "2021-12-17"
    return data


def _input(data: dict[str, Any], as_of: date = AS_OF) -> CalendarInput:
    settings = Settings(timezone="Europe/Berlin")
    return CalendarInput(compute_facts(build_project("demo", data), as_of, settings), None)


def _events(ics: bytes) -> dict[str, Any]:
    cal = Calendar.from_ical(ics)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def _expand(event: Any, until: datetime) -> list[datetime]:
    """The event's occurrences by dateutil's RRULE, independent of planforge."""
    start = event.decoded("DTSTART")
    rules = rruleset()
    rules.rrule(rrulestr(event["RRULE"].to_ical().decode(), dtstart=start))  # type: ignore[arg-type]
    for exdate in (event.get("EXDATE") and [event["EXDATE"]]) or []:
        for ex in (exdate if isinstance(exdate, list) else [exdate]):
            for d in ex.dts:
                rules.exdate(d.dt)
    return [d for d in rules.between(start - timedelta(seconds=1), until)]


def test_every_meeting_recurs_as_planforge_computes_its_next_meetings() -> None:
    source = _input(_plan())
    ics = project_calendar(source, translator("en"), "Europe/Berlin")
    cal = Calendar.from_ical(ics)
    zones = {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")}
    assert zones == {"Europe/Berlin", "Europe/Paris", "America/New_York", "Asia/Shanghai",
                     "Europe/London"}
    events = _events(ics)
    start = datetime.combine(AS_OF + timedelta(days=1), datetime.min.time(), UTC)
    until = start + timedelta(days=365)
    expected = next_meetings(source.project, AS_OF, "Europe/Berlin", count=300)
    for meeting in source.project.meetings:
        event = events[calendar_uid("demo", "meeting", meeting.id)]
        ours = [o.start for o in expected if o.meeting.id == meeting.id and o.start < until]
        theirs = [d for d in _expand(event, until) if d >= start - timedelta(hours=14)
                  and d.date() > AS_OF]
        assert [d.astimezone(UTC) for d in theirs] == [d.astimezone(UTC) for d in ours], \
            meeting.id
        assert event.decoded("DURATION") == timedelta(minutes=meeting.duration)
    # The weekly sync stays at 16:00 in Paris across the DST change, so moves in UTC.
    sync = [o.start for o in expected if o.meeting.id == "sync"]
    assert {d.hour for d in sync} == {16}
    assert {d.astimezone(UTC).hour for d in sync if d < until} == {14, 15}
    # Skipped days are neither next meetings nor occurrences.
    assert date(2020, 5, 21) not in {d.date() for d in sync}
    assert date(2020, 11, 26) not in {o.start.date() for o in expected if o.meeting.id == "review"}
    review = [o.start.date() for o in expected if o.meeting.id == "review"][:3]
    assert review == [date(2020, 3, 26), date(2020, 4, 30), date(2020, 5, 28)]
    assert "BYDAY=-1TH" in events[calendar_uid("demo", "meeting", "review")]["RRULE"
                                                                             ].to_ical().decode()


def test_milestones_are_all_day_with_baseline_and_slip() -> None:
    data = _plan()
    milestone(data, "m-golive")["forecast"] = "2020-12-15"
    milestone(data, "m-demo")["done"] = "2020-02-20"
    events = _events(project_calendar(_input(data), translator("en"), "Europe/Berlin"))
    golive = events[calendar_uid("demo", "milestone", "m-golive")]
    assert golive.decoded("DTSTART") == date(2020, 12, 15)
    assert golive.decoded("DTEND") == date(2020, 12, 16)
    assert "Baseline: 1 Dec 2020" in str(golive["DESCRIPTION"])
    assert "Slip: +14 days" in str(golive["DESCRIPTION"])
    assert str(golive["TRANSP"]) == "TRANSPARENT"
    demo = events[calendar_uid("demo", "milestone", "m-demo")]
    assert demo.decoded("DTSTART") == date(2020, 2, 20)
    assert "(done)" in str(demo["SUMMARY"])


def test_a_sales_person_sees_customer_dates_and_their_meetings() -> None:
    source = _input(_plan())
    events = _events(person_calendar("Alex@Example.com", [source], translator("zh-CN"),
                                     "Europe/Berlin"))
    assert set(events) == {calendar_uid("demo", "milestone", "m-demo"),
                           calendar_uid("demo", "milestone", "m-golive"),
                           calendar_uid("demo", "meeting", "sync"),
                           calendar_uid("demo", "meeting", "review"),
                           calendar_uid("demo", "meeting", "kick")}
    assert "基线" in str(events[calendar_uid("demo", "milestone", "m-golive")]["DESCRIPTION"])


def _sequences(out: Path) -> dict[str, tuple[int, str, date]]:
    found = {}
    for name in ("demo/calendar.ics", "calendars/alex@example.com.ics"):
        for uid, e in _events((out / name).read_bytes()).items():
            found[f"{name} {uid}"] = (int(e["SEQUENCE"]), str(e["STATUS"]),
                                      e.decoded("DTSTART"))
    return found


@pytest.mark.slow
def test_a_moved_milestone_keeps_its_uid_and_a_higher_sequence(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = isolate_git(monkeypatch, tmp_path)
    repo = Repo.create(tmp_path / "repo", home)
    data = _plan()
    repo.write_project("demo", data)
    repo.commit("Kickoff", when="2020-01-06T10:00:00+01:00")
    ws = find_workspace(repo.ws)

    def build(day: date) -> dict[str, tuple[int, str, date]]:
        build_workspace(ws, BuildOptions(as_of=day, week=iso_week(day), formats=("md",)))
        return _sequences(ws.output_dir)

    before = build(date(2020, 3, 6))
    moved = changed(data)
    milestone(moved, "m-golive")["forecast"] = "2020-12-11"
    moved["phases"][0]["milestones"] = [m for m in moved["phases"][0]["milestones"]
                                        if m["id"] != "m-demo"]
    repo.write_project("demo", moved)
    repo.commit("Go-live slips; the demo is dropped", when="2020-03-10T10:00:00+01:00")
    after = build(date(2020, 3, 13))

    for name in ("demo/calendar.ics", "calendars/alex@example.com.ics"):
        golive = f"{name} {calendar_uid('demo', 'milestone', 'm-golive')}"
        assert before[golive][2] == date(2020, 12, 1) and after[golive][2] == date(2020, 12, 11)
        assert after[golive][0] > before[golive][0]
        demo = f"{name} {calendar_uid('demo', 'milestone', 'm-demo')}"
        assert before[demo][1] == "CONFIRMED"
        assert after[demo][1] == "CANCELLED" and after[demo][0] > before[demo][0]
        sync = f"{name} {calendar_uid('demo', 'meeting', 'sync')}"
        assert after[sync][0] == before[sync][0]  # unchanged: the same SEQUENCE
    # Eight weeks on, the cancelled entry is gone.
    assert f"demo/calendar.ics {calendar_uid('demo', 'milestone', 'm-demo')}" not in build(
        date(2020, 5, 15))


@pytest.mark.slow
def test_the_calendar_for_the_email_is_the_one_build_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from planforge.feeds import sales_calendar

    home = isolate_git(monkeypatch, tmp_path)
    repo = Repo.create(tmp_path / "repo", home)
    repo.write_project("demo", _plan())
    repo.commit("Kickoff", when="2020-01-06T10:00:00+01:00")
    ws = find_workspace(repo.ws)
    day = date(2020, 3, 6)
    build_workspace(ws, BuildOptions(as_of=day, week=iso_week(day), formats=("md",)))
    built = (ws.output_dir / "calendars" / "alex@example.com.ics").read_bytes()
    assert sales_calendar(ws, "alex@example.com", day) == built


@pytest.mark.parametrize("tzid", ["Europe/Berlin", "America/New_York", "Australia/Sydney",
                                  "Europe/London", "Asia/Shanghai", "America/Sao_Paulo"])
def test_each_vtimezone_gives_the_offsets_of_the_zoneinfo_database(tzid: str) -> None:
    # Read by dateutil's own VTIMEZONE parser, as another calendar client would: the TZID alone
    # is not enough, since clients that do not know a zone by name use what the file says.
    from io import StringIO

    from dateutil.tz import tzical

    text = vtimezone(tzid, 2026).to_ical().decode()
    theirs = tzical(StringIO(f"BEGIN:VCALENDAR\r\n{text}END:VCALENDAR\r\n")).get(tzid)
    zone = ZoneInfo(tzid)
    day = date(2026, 1, 1)
    while day < date(2036, 1, 1):
        noon = datetime(day.year, day.month, day.day, 12)
        assert noon.replace(tzinfo=theirs).utcoffset() == noon.replace(tzinfo=zone).utcoffset(), \
            day
        day += timedelta(days=1)


def test_a_zone_with_summer_time_is_written_as_yearly_rules() -> None:
    text = vtimezone("Europe/Berlin", 2026).to_ical().decode()
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in text
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10" in text
    assert "RDATE" not in text
    # The observances begin the year before, so January of the first year is covered too.
    assert "DTSTART:20251026T030000" in text
    # Morocco's summer time follows Ramadan, no yearly rule: the dated transitions, then.
    assert "RDATE" in vtimezone("Africa/Casablanca", 2026).to_ical().decode()


def test_text_comes_back_whole_from_folded_escaped_lines() -> None:
    """Commas, semicolons, backslashes and line breaks in names and agendas, Chinese text and
    lines far over 75 octets: each line of the file is at most 75 octets, no character is cut,
    and icalendar reads back every text as written."""
    data = _plan()
    data["name"] = "Rollout; phase 2, \\ north"
    sync = next(m for m in data["meetings"] if m["id"] == "sync")
    sync["purpose"] = "对齐项目进展、客户反馈与下周的沟通要点，" * 6
    sync["agenda"] = ["Health, dates; asks \\ risks", "a\\" * 40]
    sync["channel"] = "Teams, room 4; floor 2"
    ics = project_calendar(_input(data), translator("en"), "Europe/Berlin")
    for line in ics.split(b"\r\n"):
        assert len(line) <= 75
        line.decode()  # a character cut between two lines would not decode
    event = _events(ics)[calendar_uid("demo", "meeting", "sync")]
    assert str(event["SUMMARY"]) == "Rollout; phase 2, \\ north: PM–sales sync"
    assert str(event["LOCATION"]) == "Teams, room 4; floor 2"
    description = str(event["DESCRIPTION"]).split("\n")
    assert description[0] == sync["purpose"]
    assert description[-2:] == ["- Health, dates; asks \\ risks", "- " + "a\\" * 40]
    assert [str(c) for c in event["CATEGORIES"].cats] == ["Rollout; phase 2, \\ north"]
    assert str(event["DURATION"].to_ical().decode()) == "PT30M"
