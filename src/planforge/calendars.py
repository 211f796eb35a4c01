"""iCalendar (RFC 5545) calendars of milestones and meetings. The only ``icalendar`` import.

Every entry has a UID made of the project, its kind and its id, so a moved milestone moves the
entry a subscriber already has instead of adding another. Its SEQUENCE is the number of commits
that added, changed or removed it (``baselines.entry_traces``), plus one while the working tree
changes it further: it only grows, and it is the same on every machine with the history, which
a record kept in the output folder is not (a CI job starts from a fresh checkout). Calendars
are published as a feed (METHOD:PUBLISH): a client that subscribes replaces its copy with each
fetch, so an entry left out disappears; a client that imported the file keeps what it had. So
a milestone or meeting removed from the plan stays in the calendar as STATUS:CANCELLED, with a
higher SEQUENCE, for ``KEEP_REMOVED_DAYS`` after the commit that removed it: an import then
crosses it out, and a subscription shows it as cancelled. A done milestone moves to the day it
was done, marked done. Milestones are all-day and TRANSPARENT (they do not make anyone busy).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur

from . import __version__
from .audience import address_key, person_name
from .baselines import EntryKey, EntryTrace, PlanHistory
from .facts import ProjectFacts, meeting_anchor, on_cadence
from .i18n import Translator
from .model import Meeting, Milestone, Project

__all__ = ["KEEP_REMOVED_DAYS", "CalendarInput", "calendar_uid", "person_calendar",
           "person_projects", "project_calendar"]

#: How long an entry removed from the plan stays in the calendar, cancelled.
KEEP_REMOVED_DAYS = 56
PRODID = f"-//planforge//planforge {__version__}//EN"

#: RRULE weekdays, in ISO order (Monday first), and the ordinals of "first monday" ….
_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class CalendarInput:
    """One project as a calendar needs it: the plan, its facts, and its history (None: none)."""

    facts: ProjectFacts
    history: PlanHistory | None

    @property
    def project(self) -> Project:
        return self.facts.project


def calendar_uid(project_id: str, kind: str, entry_id: str) -> str:
    """The UID of a milestone's or a meeting's entry: the same in every build and calendar."""
    return f"{project_id}/{kind}/{entry_id}@planforge"


def _sequence(trace: EntryTrace | None, now: Milestone | Meeting | None) -> int:
    """Committed revisions, and one more while the working tree differs from the last commit."""
    if trace is None:
        return 0
    changed = (now is None) != (trace.removed is not None) or (now is not None
                                                               and now != trace.last)
    return trace.revisions + (1 if changed else 0)


def _trace(source: CalendarInput, key: EntryKey) -> EntryTrace | None:
    return source.history.entries.get(key) if source.history is not None else None


def _stamp(as_of: date) -> str:
    # DTSTAMP must be a UTC time; the as-of day keeps a build's bytes the same when rerun.
    return f"{as_of:%Y%m%d}T000000Z"


# --- writing RFC 5545 ------------------------------------------------------------------------
# Events are written as content lines here rather than through icalendar's objects, which cost
# 3 ms a calendar: a third of a 1,000-project Markdown build went into a thousand project
# calendars and the sales people's calendars. icalendar still writes the VTIMEZONEs (once per
# zone, see _vtimezone_lines), and the tests read every calendar back with it.


@dataclass(frozen=True)
class _Entry:
    """One VEVENT as content lines, and the zone (with the year it starts in) it uses."""

    lines: tuple[str, ...]
    zone: tuple[str, int] | None = None


def _text(value: str) -> str:
    """A TEXT value escaped as RFC 5545 section 3.3.11 says."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """A content line folded at 75 octets (RFC 5545 section 3.1), never inside a character,
    and never right after a backslash: some clients misread an escape split over two lines."""
    data = line.encode()
    if len(data) < 75:
        return line
    # Each part holds at most 74 octets (a continuation line adds its leading space); cut at
    # the last character boundary, so a UTF-8 continuation byte (10xxxxxx) never starts one.
    parts: list[bytes] = []
    start = 0
    while len(data) - start >= 75:
        end = start + 74
        while data[end] & 0xC0 == 0x80:
            end -= 1
        if data[end - 1] == 0x5C:  # a backslash goes with what it escapes
            end -= 1
        parts.append(data[start:end])
        start = end
    parts.append(data[start:])
    return "\r\n ".join(part.decode() for part in parts)


def _local(moment: datetime) -> str:
    return f"{moment:%Y%m%dT%H%M%S}"


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y%m%dT%H%M%S}Z"


def _duration(length: timedelta) -> str:
    """An RFC 5545 DURATION such as PT1H30M."""
    days, seconds = length.days, length.seconds
    hours, minutes, rest = seconds // 3600, seconds % 3600 // 60, seconds % 60
    clock = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (rest, "S"))
                    if n)
    return f"P{f'{days}D' if days else ''}{f'T{clock}' if clock or not days else ''}"


def _milestone_event(source: CalendarInput, m: Milestone, t: Translator, as_of: date,
                     removed: date | None = None) -> _Entry:
    project = source.project
    done = m.done is not None and m.done <= as_of
    day = m.done if done and m.done is not None else m.expected
    title = ("calendar.milestone_removed" if removed else
             "calendar.milestone_done" if done else "calendar.milestone")
    lines = [t.label("calendar.customer", customer=project.customer),
             t.label("calendar.baseline", date=t.date(m.due))]
    if done and m.done is not None:
        lines.append(t.label("calendar.done", date=t.date(m.done),
                             days=t.days((m.done - m.due).days)))
    else:
        lines.append(t.label("calendar.forecast", date=t.date(m.expected)))
        lines.append(t.label("calendar.slip", days=t.days((m.expected - m.due).days)))
    if m.reason:
        lines.append(t.label("calendar.reason", reason=m.reason))
    if removed:
        lines.append(t.label("calendar.removed", date=t.date(removed)))
    sequence = _sequence(_trace(source, ("milestone", m.id)), None if removed else m)
    return _Entry((
        f"SUMMARY:{_text(t.label(title, project=project.name, milestone=m.name))}",
        f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
        f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
        f"DTSTAMP:{_stamp(as_of)}",
        f"UID:{_text(calendar_uid(project.id, 'milestone', m.id))}",
        f"SEQUENCE:{sequence}",
        f"CATEGORIES:{_text(project.name)}",
        f"DESCRIPTION:{_text(chr(10).join(lines))}",
        f"STATUS:{'CANCELLED' if removed else 'CONFIRMED'}",
        "TRANSP:TRANSPARENT",
    ))


def meeting_rule(meeting: Meeting, until: datetime | None = None) -> str:
    """The RRULE of a meeting's cadence, ending at ``until`` (skipped days are EXDATEs, not
    part of the rule). Its parts in the order RFC 5545's examples and clients write them."""
    cadence, day = meeting.cadence, meeting.day
    interval, bymonthday = 1, None
    if cadence == "daily":  # working days: the schema's "weekends skipped"
        freq, byday = "WEEKLY", ",".join(_BYDAY[:5])
    elif cadence in ("weekly", "biweekly"):
        freq, byday = "WEEKLY", _BYDAY[_WEEKDAYS.index(str(day).strip().lower())]
        interval = 2 if cadence == "biweekly" else 1
    elif cadence == "monthly" and (isinstance(day, int) or str(day).strip().isdigit()):
        freq, byday, bymonthday = "MONTHLY", None, int(str(day))
    elif cadence == "monthly":
        ordinal, name = str(day).strip().lower().split()
        freq, byday = "MONTHLY", f"{_ORDINAL[ordinal]}{_BYDAY[_WEEKDAYS.index(name)]}"
    else:
        raise ValueError(f"unknown meeting cadence {cadence!r}")
    parts = [f"FREQ={freq}"]
    if until is not None:
        parts.append(f"UNTIL={_utc(until)}")
    if interval != 1:
        parts.append(f"INTERVAL={interval}")
    if byday:
        parts.append(f"BYDAY={byday}")
    if bymonthday is not None:
        parts.append(f"BYMONTHDAY={bymonthday}")
    return ";".join(parts)


def _at(day: date, clock: str, zone: ZoneInfo) -> datetime:
    hour, minute = (int(x) for x in clock.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def _meeting_event(source: CalendarInput, m: Meeting, t: Translator, as_of: date,
                   default_tz: str, removed: date | None = None) -> _Entry:
    project = source.project
    zone = ZoneInfo(m.timezone or default_tz)
    start = _at(meeting_anchor(m, project.start), m.time, zone)
    until = None
    if project.status in ("done", "cancelled"):
        # A closed project holds no more meetings: the series ends with the project's end date.
        until = datetime.combine(project.end + timedelta(days=1), time(), zone)
    sequence = _sequence(_trace(source, ("meeting", m.id)), None if removed else m)
    out = [
        f"SUMMARY:{_text(t.label('calendar.meeting', project=project.name, meeting=m.name))}",
        f"DTSTART;TZID={zone.key}:{_local(start)}",
        # Elapsed time, as facts adds it: a meeting across a DST change lasts its minutes.
        f"DURATION:{_duration(timedelta(minutes=m.duration))}",
        f"DTSTAMP:{_stamp(as_of)}",
        f"UID:{_text(calendar_uid(project.id, 'meeting', m.id))}",
        f"SEQUENCE:{sequence}",
        f"RRULE:{meeting_rule(m, until)}",
    ]
    skipped = [_local(_at(d, m.time, zone)) for d in m.skip if on_cadence(m, d, project.start)]
    if skipped:
        out.append(f"EXDATE;TZID={zone.key}:{','.join(skipped)}")
    out.append(f"CATEGORIES:{_text(project.name)}")
    lines = [m.purpose] if m.purpose else []
    names = [project.people[p].name for p in m.attendees if p in project.people]
    if names:
        lines.append(t.label("calendar.attendees", names=", ".join(names)))
    if m.agenda:
        lines += [t.label("calendar.agenda"), *(f"- {item}" for item in m.agenda)]
    if removed:
        lines.append(t.label("calendar.removed", date=t.date(removed)))
    if lines:
        out.append(f"DESCRIPTION:{_text(chr(10).join(lines))}")
    if m.channel:
        out.append(f"LOCATION:{_text(m.channel)}")
    out.append(f"STATUS:{'CANCELLED' if removed else 'CONFIRMED'}")
    return _Entry(tuple(out), (zone.key, start.year))


def _removed(source: CalendarInput, kind: str, as_of: date) -> list[tuple[EntryTrace, date]]:
    """What history says was removed from the plan of that kind, recently enough to keep."""
    if source.history is None:
        return []
    present = ({m.id for m in source.project.milestones} if kind == "milestone"
               else {m.id for m in source.project.meetings})
    return [(trace, trace.removed) for (k, ident), trace in sorted(source.history.entries.items())
            if k == kind and ident not in present and trace.removed is not None
            and as_of - trace.removed <= timedelta(days=KEEP_REMOVED_DAYS)]


def _events(source: CalendarInput, t: Translator, as_of: date, default_tz: str,
            customer_only: bool, attendee: str | None) -> Iterable[_Entry]:
    project = source.project
    for m in project.milestones:
        if m.customer_facing or not customer_only:
            yield _milestone_event(source, m, t, as_of)
    for trace, day in _removed(source, "milestone", as_of):
        assert isinstance(trace.last, Milestone)
        if trace.last.customer_facing or not customer_only:
            yield _milestone_event(source, trace.last, t, as_of, removed=day)
    for meeting in project.meetings:
        if _attends(project, meeting, attendee):
            yield _meeting_event(source, meeting, t, as_of, default_tz)
    for trace, day in _removed(source, "meeting", as_of):
        assert isinstance(trace.last, Meeting)
        if _attends(project, trace.last, attendee):
            yield _meeting_event(source, trace.last, t, as_of, default_tz, removed=day)


def _attends(project: Project, meeting: Meeting, address: str | None) -> bool:
    if address is None:
        return True
    people = (project.people.get(p) for p in meeting.attendees)
    return any(p is not None and p.email and address_key(p.email) == address for p in people)


def _calendar(name: str, events: Iterable[_Entry]) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{_text(PRODID)}", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{_text(name)}"]
    zones: dict[str, int] = {}
    for event in events:
        lines += ("BEGIN:VEVENT", *event.lines, "END:VEVENT")
        if event.zone is not None:
            tzid, year = event.zone
            zones[tzid] = min(zones.get(tzid, year), year)
    text = "\r\n".join(map(_fold, lines))
    # A VTIMEZONE for every TZID used, from the zoneinfo database.
    zone_parts = "".join(_vtimezone_text(tzid, year) for tzid, year in sorted(zones.items()))
    return f"{text}\r\n{zone_parts}END:VCALENDAR\r\n".encode()


@cache
def _vtimezone_text(tzid: str, year: int) -> str:
    """A zone's VTIMEZONE as written in a calendar, made once per zone and year."""
    text: str = vtimezone(tzid, year).to_ical().decode()
    return text


#: How many years a time zone's yearly rule must hold to be written as a rule.
_RULE_YEARS = 12


@dataclass(frozen=True)
class _Change:
    """A change of a zone's UTC offset: the local wall time it happens at (before the change)
    and the offsets and name either side."""

    local: datetime
    offset_from: timedelta
    offset_to: timedelta
    name: str
    dst: bool

    def rule(self) -> tuple[int, str, time]:
        """The yearly rule this change follows: month, RRULE weekday ("-1SU", "2SU"), time."""
        day = self.local.date()
        last = (day + timedelta(days=7)).month != day.month
        nth = "-1" if last else str((day.day - 1) // 7 + 1)
        return day.month, nth + _BYDAY[day.weekday()], self.local.time()


@cache
def _changes(tzid: str, year: int) -> tuple[_Change, ...]:
    """The offset changes of a zone within one year. Day by day in UTC, and half hour by half
    hour within a day whose offset differs at its end (zones change on the hour or half hour,
    and every change so far has been at least an hour apart): a year of half hours for each of
    the dozen years a VTIMEZONE checks made every calendar cost half a second. Cached: a build
    writes hundreds of calendars in the same few zones."""
    zone = ZoneInfo(tzid)
    found: list[_Change] = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    while day.year == year:
        following = day + timedelta(days=1)
        if following.astimezone(zone).utcoffset() != day.astimezone(zone).utcoffset():
            found += _changes_within(zone, day, following)
        day = following
    return tuple(found)


def _changes_within(zone: ZoneInfo, start: datetime, end: datetime) -> list[_Change]:
    """The offset changes of a zone between two UTC instants, half hour by half hour."""
    found: list[_Change] = []
    instant = start
    before = instant.astimezone(zone)
    while instant < end:
        instant += timedelta(minutes=30)
        after = instant.astimezone(zone)
        if after.utcoffset() != before.utcoffset():
            offset_from, offset_to = before.utcoffset(), after.utcoffset()
            assert offset_from is not None and offset_to is not None
            local = (instant + offset_from).replace(tzinfo=None)
            found.append(_Change(local, offset_from, offset_to, after.tzname() or "",
                                 bool(after.dst())))
        before = after
    return found


def vtimezone(tzid: str, year: int) -> Timezone:
    """The VTIMEZONE of a zone from ``year`` on. Where the zone follows one yearly rule (as
    Europe/Berlin or America/New_York do), its observances are written as RRULEs, the form
    calendar clients write and read best: some read the transition lists (RDATE) that
    icalendar generates as a zone without summer time. Otherwise, icalendar's own."""
    zone = ZoneInfo(tzid)
    # The observances start the year before, so that an event early in ``year`` (before that
    # year's first change) still falls after an onset, as RFC 5545 requires.
    base = year - 1
    first = _changes(tzid, base)
    rules = [c.rule() for c in first]
    steady = all([c.rule() for c in _changes(tzid, y)] == rules
                 for y in range(base + 1, base + _RULE_YEARS))
    if not steady or len(first) not in (0, 2):
        return Timezone.from_tzid(tzid, first_date=date(base, 1, 1),
                                  last_date=date(base + 2 * _RULE_YEARS, 1, 1))
    tz = Timezone()
    tz.add("tzid", tzid)
    if not first:
        moment = datetime(base, 1, 1, tzinfo=zone)
        offset = moment.utcoffset()
        standard = TimezoneStandard()
        standard.add("dtstart", datetime(1970, 1, 1))
        standard.add("tzoffsetfrom", offset)
        standard.add("tzoffsetto", offset)
        standard.add("tzname", moment.tzname())
        tz.add_component(standard)
        return tz
    for change in first:
        month, byday, _ = change.rule()
        part = TimezoneDaylight() if change.dst else TimezoneStandard()
        part.add("dtstart", change.local)
        part.add("tzoffsetfrom", change.offset_from)
        part.add("tzoffsetto", change.offset_to)
        part.add("tzname", change.name)
        part.add("rrule", vRecur(freq="YEARLY", bymonth=month, byday=byday))
        tz.add_component(part)
    return tz


def project_calendar(source: CalendarInput, t: Translator, default_tz: str) -> bytes:
    """A project's calendar: every milestone and meeting."""
    as_of = source.facts.as_of
    return _calendar(t.label("calendar.name", project=source.project.name),
                     _events(source, t, as_of, default_tz, customer_only=False, attendee=None))


def person_projects(address: str, projects: Iterable[Project], on: date) -> list[Project]:
    """The projects in a sales person's calendar: those whose brief of ``on`` they receive (by
    id)."""
    from .audience import brief_recipients

    key = address_key(address)
    return sorted((p for p in projects if key in brief_recipients(p, on)), key=lambda p: p.id)


def person_calendar(address: str, sources: Sequence[CalendarInput], t: Translator,
                    default_tz: str) -> bytes:
    """A sales person's calendar: the customer-facing milestones of the projects whose brief
    they receive, and the meetings of those projects they attend."""
    key = address_key(address)
    name = person_name(key, [s.project for s in sources]) or key
    events = [e for s in sorted(sources, key=lambda s: s.project.id)
              for e in _events(s, t, s.facts.as_of, default_tz, customer_only=True,
                               attendee=key)]
    return _calendar(t.label("calendar.name_person", person=name), events)
