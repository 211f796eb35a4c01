"""Calendar arithmetic: ISO weeks at year ends, the Friday of a week, the as-of rule."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from planforge.dates import (
    as_of_for,
    friday_of,
    nth_weekday,
    parse_week,
    week_start,
    weekday_index,
    weeks_in_year,
    years_after,
)


def test_weeks_in_year_knows_53_week_years() -> None:
    assert weeks_in_year(2026) == 53
    assert weeks_in_year(2027) == 52


@pytest.mark.parametrize(("text", "parsed"), [
    ("2026-W47", (2026, 47)),
    ("2026-W53", (2026, 53)),
    ("2027-W53", None),     # 2027 has 52 weeks
    ("2026-W00", None),
    ("2026-W5", None),
    ("26-W05", None),
    ("2026-W05 ", None),
])
def test_parse_week(text: str, parsed: tuple[int, int] | None) -> None:
    assert parse_week(text) == parsed


def test_friday_of_week_crosses_the_year() -> None:
    assert friday_of("2026-W47") == date(2026, 11, 20)
    assert friday_of("2026-W53") == date(2027, 1, 1)
    assert friday_of("2027-W01") == date(2027, 1, 8)
    with pytest.raises(ValueError, match="2027-W53"):
        friday_of("2027-W53")


def test_as_of_rule() -> None:
    today = date(2026, 11, 18)
    assert as_of_for("2026-W45", None, today) == ("2026-W45", date(2026, 11, 6))
    assert as_of_for(None, date(2027, 1, 2), today) == ("2026-W53", date(2027, 1, 2))
    assert as_of_for(None, None, today) == ("2026-W47", today)


def test_week_start_is_monday_midnight_in_the_zone() -> None:
    berlin = week_start(date(2026, 10, 29), ZoneInfo("Europe/Berlin"))
    assert berlin == datetime(2026, 10, 26, tzinfo=ZoneInfo("Europe/Berlin"))
    # Midnight in Berlin after the DST change is 23:00 UTC the day before.
    assert berlin.astimezone(UTC) == datetime(2026, 10, 25, 23, tzinfo=UTC)


def test_weekdays() -> None:
    assert weekday_index(" Friday ") == 4
    with pytest.raises(ValueError):
        weekday_index("fri")
    assert nth_weekday(2026, 10, "last thursday") == date(2026, 10, 29)
    assert nth_weekday(2026, 12, "last thursday") == date(2026, 12, 31)
    assert nth_weekday(2026, 11, "first monday") == date(2026, 11, 2)
    assert nth_weekday(2026, 11, "fourth friday") == date(2026, 11, 27)


def test_years_after_keeps_the_day_or_falls_back_to_28_february() -> None:
    assert years_after(date(2026, 8, 3), 10) == date(2036, 8, 3)
    assert years_after(date(2028, 2, 29), 10) == date(2038, 2, 28)
