"""Calendar arithmetic, in one place: ISO weeks, weekdays, "Friday of week", as-of rules.

Every command that takes ``--week`` or ``--as-of`` and every computation that names a week goes
through this module, so that a week means the same thing to validate, the documents, build,
send and history.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "last": -1}
FRIDAY = 4

#: The dates planforge handles. A plan is about the present; a typo such as 1001-01-01 would
#: otherwise validate and then make every document walk a thousand years of weeks.
EARLIEST = date(1970, 1, 1)
LATEST = date(2199, 12, 31)

WEEK = re.compile(r"(\d{4})-W(\d{2})")
WEEK_FILE = re.compile(r"(\d{4})-W(\d{2})\.yaml")

# The rules below are written as regular expressions so that the JSON Schemas can carry them and
# an editor refuses what planforge refuses (tests/test_schema_agreement.py keeps them in step).
_YEAR = r"(?:19[7-9][0-9]|2[01][0-9]{2})"  # EARLIEST.year … LATEST.year
# Years divisible by 4 within those, but 2100.
_LEAP_YEAR = (
    r"(?:19(?:7[26]|8[048]|9[26])|20(?:[02468][048]|[13579][26])"
    r"|21(?:0[48]|[2468][048]|[13579][26]))"
)
_MONTH_DAY = (
    r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    r"|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
#: A real calendar date YYYY-MM-DD within the years planforge handles, leap years included.
DATE_PATTERN = rf"^(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)$"


def iso_week(day: date) -> str:
    """The ISO week of a date, written ``YYYY-Www``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def weeks_in_year(year: int) -> int:
    """52 or 53: the ISO week of 28 December is always the year's last."""
    return date(year, 12, 28).isocalendar().week


@cache
def week_pattern() -> str:
    """An ISO week that exists within the years planforge handles: W53 only in the long years."""
    long_years = "|".join(
        str(y) for y in range(EARLIEST.year, LATEST.year + 1) if weeks_in_year(y) == 53
    )
    return rf"^(?:{_YEAR}-W(?:0[1-9]|[1-4][0-9]|5[0-2])|(?:{long_years})-W53)$"


def is_date_text(text: str) -> bool:
    """Whether ``text`` is a real date written YYYY-MM-DD within the years planforge handles."""
    return re.fullmatch(DATE_PATTERN, text) is not None


def week_problem(week: str) -> str | None:
    """Why ``week`` is not an ISO week planforge handles, or None."""
    if parse_week(week) is not None:
        return None
    return f"{week} is not a real ISO week (weeks run from W01 to W52, or W53 in long years)"


#: Zone names that mean a different place on each machine (localtime), or no place at all.
_NOT_PLACES = frozenset({"localtime", "posixrules", "Factory"})


@cache
def timezone_names() -> tuple[str, ...]:
    """The IANA time zones this machine knows, sorted: the names planforge accepts."""
    return tuple(sorted(available_timezones() - _NOT_PLACES))


def timezone_problem(name: str) -> str | None:
    """Why ``name`` is not a time zone planforge can use, or None."""
    if name in timezone_names():
        try:
            ZoneInfo(name)
            return None
        except (ZoneInfoNotFoundError, ValueError):
            pass
    import difflib

    close = difflib.get_close_matches(name, timezone_names(), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else " (an IANA name such as Europe/Berlin)"
    return f"unknown time zone '{name}'{hint}"


def in_range(day: date) -> bool:
    """Whether a date lies within the years planforge handles."""
    return EARLIEST <= day <= LATEST


def range_text() -> str:
    """The years planforge handles, for messages."""
    return f"{EARLIEST.year}–{LATEST.year}"


def parse_week(week: str) -> tuple[int, int] | None:
    """``"2026-W47"`` → ``(2026, 47)``; None unless that ISO week exists within the years
    planforge handles."""
    match = WEEK.fullmatch(week)
    if not match:
        return None
    year, number = int(match[1]), int(match[2])
    if not EARLIEST.year <= year <= LATEST.year or not 1 <= number <= weeks_in_year(year):
        return None
    return year, number


def monday_of(day: date) -> date:
    """The Monday of the ISO week holding ``day``."""
    return day - timedelta(days=day.weekday())


def friday_of(week: str) -> date:
    """The Friday of an ISO week written ``YYYY-Www`` (which must exist): a week's documents are
    as of its Friday, the day its update is due."""
    parsed = parse_week(week)
    if parsed is None:
        raise ValueError(f"not an ISO week: {week!r}")
    return date.fromisocalendar(parsed[0], parsed[1], FRIDAY + 1)


def week_start(day: date, zone: tzinfo) -> datetime:
    """Monday 00:00 of the ISO week holding ``day``, in the given time zone."""
    return datetime.combine(monday_of(day), time(), zone)


def weekday_index(name: str | int | None) -> int:
    """``"Friday"`` → 4; raises ValueError for anything that is not a weekday name."""
    return WEEKDAYS.index(str(name).strip().lower())


def nth_weekday(year: int, month: int, spec: str) -> date:
    """The day of a month that ``"first monday"`` … ``"last friday"`` names."""
    ordinal, name = spec.strip().lower().split()
    weekday = WEEKDAYS.index(name)
    if ordinal == "last":
        last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * ORDINALS[ordinal])


def years_after(day: date, years: int) -> date:
    """The same day ``years`` later (29 February becomes 28 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def today_in(zone: tzinfo) -> date:
    """Today in a time zone: the default as-of date of every document."""
    return datetime.now(zone).date()


def as_of_for(week: str | None, as_of: date | None, today: date) -> tuple[str, date]:
    """The one as-of rule of every command: ``--week W`` means as of the Friday of W, ``--as-of
    D`` means D in its week, neither means today. The caller has checked that W exists."""
    if week:
        return week, friday_of(week)
    day = as_of or today
    return iso_week(day), day
