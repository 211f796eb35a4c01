"""A meeting whose local time does not exist (the hour skipped when clocks go forward) or
happens twice (the hour repeated when they go back): planforge's next meetings and the
calendar read it as RFC 5545 says, checked with dateutil's own time zone rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from dateutil import tz
from dateutil.rrule import rruleset, rrulestr
from icalendar import Calendar

from planforge.calendars import CalendarInput, calendar_uid, project_calendar
from planforge.facts import compute_facts, next_meetings
from planforge.i18n import translator
from planforge.model import Settings, build_project

from .gitplans import plan

BERLIN = "Europe/Berlin"
AS_OF = date(2026, 3, 20)
SPRING = date(2026, 3, 29)  # last Sunday of March: 02:00 CET becomes 03:00 CEST
AUTUMN = date(2026, 10, 25)  # last Sunday of October: 03:00 CEST becomes 02:00 CET


def _project() -> Any:
    data = plan(start="2026-01-05", end="2026-12-18")
    for phase in data["phases"]:
        phase["start"], phase["end"] = "2026-01-05", "2026-12-18"
        for m in phase["milestones"]:
            m["due"] = "2026-06-01"
    data["meetings"] = [
        {"id": "night", "name": "Night deploy check", "cadence": "weekly", "day": "sunday",
         "time": "02:30", "duration": 60, "attendees": ["pm"]},
        {"id": "skip", "name": "Skipped in the gap", "cadence": "weekly", "day": "sunday",
         "time": "02:30", "duration": 30, "attendees": ["pm"], "skip": ["2026-03-29"]},
    ]
    return build_project("dst", data)


def _event(ics: bytes, meeting: str) -> Any:
    for event in Calendar.from_ical(ics).walk("VEVENT"):
        if str(event["UID"]) == calendar_uid("dst", "meeting", meeting):
            return event
    raise AssertionError(meeting)


def _dateutil_occurrences(event: Any, until: datetime) -> list[datetime]:
    """The event's occurrences by dateutil, in dateutil's Europe/Berlin: the wall-clock times
    the rule yields, each resolved as RFC 5545 reads a local time."""
    start = event.decoded("DTSTART").replace(tzinfo=tz.gettz(BERLIN))
    rules = rruleset()
    rules.rrule(rrulestr(event["RRULE"].to_ical().decode(), dtstart=start))  # type: ignore[arg-type]
    for ex in event.get("EXDATE", []) if isinstance(event.get("EXDATE"), list) else (
            [event["EXDATE"]] if "EXDATE" in event else []):
        for d in ex.dts:
            rules.exdate(d.dt.replace(tzinfo=tz.gettz(BERLIN)))
    # RFC 5545 3.3.5: a nonexistent local time takes the UTC offset before the gap, so it
    # lands as far after the gap as it was into it (02:30 → 03:30); an ambiguous one is the
    # first of the two. dateutil's resolve_imaginary does the former, fold=0 the latter.
    return [tz.resolve_imaginary(d) for d in rules.between(start - timedelta(seconds=1), until)]


def test_a_meeting_in_the_skipped_hour_takes_place_an_hour_later() -> None:
    project = _project()
    berlin = tz.gettz(BERLIN)
    gap = datetime(2026, 3, 29, 2, 30, tzinfo=berlin)
    assert not tz.datetime_exists(gap)  # the case itself: 02:30 does not exist that day

    ours = next_meetings(project, AS_OF, BERLIN, count=40)
    night = [o for o in ours if o.meeting.id == "night"]
    (spring,) = [o for o in night if o.start.date() == SPRING]
    # planforge: 03:30 CEST (01:30 UTC), ending an hour later at 04:30.
    assert spring.start.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert (spring.start.hour, spring.start.minute) == (3, 30)
    assert spring.start.utcoffset() == timedelta(hours=2)
    assert spring.end.astimezone(UTC) == datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
    # dateutil, independently: the same instant.
    assert tz.resolve_imaginary(gap).astimezone(UTC) == spring.start.astimezone(UTC)
    # The week after the change, and the ambiguous 02:30 in October (first: still CEST).
    (after,) = [o for o in night if o.start.date() == date(2026, 4, 5)]
    assert after.start.astimezone(UTC) == datetime(2026, 4, 5, 0, 30, tzinfo=UTC)
    (autumn,) = [o for o in night if o.start.date() == AUTUMN]
    assert tz.datetime_ambiguous(datetime(2026, 10, 25, 2, 30, tzinfo=berlin))
    assert autumn.start.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)

    # The calendar says the same: every occurrence over the year, expanded by dateutil.
    settings = Settings(timezone=BERLIN)
    source = CalendarInput(compute_facts(project, AS_OF, settings), None)
    ics = project_calendar(source, translator("en"), BERLIN)
    until = datetime(2026, 12, 18, tzinfo=UTC)
    for meeting in ("night", "skip"):
        event = _event(ics, meeting)
        theirs = [d.astimezone(UTC) for d in _dateutil_occurrences(event, until)
                  if d.date() > AS_OF]
        expected = [o.start.astimezone(UTC) for o in ours
                    if o.meeting.id == meeting and o.start < until]
        assert theirs == expected, meeting
        # Ends: DTSTART plus the elapsed DURATION, as planforge adds it.
        assert event.decoded("DURATION") == timedelta(minutes=30 if meeting == "skip" else 60)
    # The skipped gap day is an exception, and no occurrence.
    assert SPRING not in {o.start.date() for o in ours if o.meeting.id == "skip"}
    # The series is written in local time with its zone, not converted to UTC: a client
    # applies the rule to the wall clock, which is what keeps 02:30 an hour later in spring.
    start = _event(ics, "night").decoded("DTSTART")
    assert str(start.tzinfo) == BERLIN and (start.hour, start.minute) == (2, 30)
