"""Label catalogs and locale formats: both languages complete, formats as a reader expects."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from planforge.errors import RenderError, TemplateError
from planforge.i18n import builtin_catalog, load_catalog, translator

LOCALES = ("en", "zh-CN")

# Every code the facts and changes can produce must have a label in every catalog.
CODES = {
    "health": ["green", "amber", "red"],
    "reason": [
        "customer-milestone-overdue", "customer-milestone-slipping", "critical-risk-occurred",
        "milestone-overdue", "milestone-slipping", "goal-behind", "critical-risk-open",
        "budget-ahead",
    ],
    "milestone_state": ["done-on-time", "done-late", "on-track", "slipping", "overdue", "stale"],
    "phase_state": ["done", "active", "not-started"],
    "goal_state": ["achieved", "on-track", "behind", "missed", "not-measured"],
    "risk_level": ["low", "medium", "high", "critical"],
    "risk_status": ["open", "mitigated", "occurred", "closed"],
    "category": ["technical", "schedule", "scope", "financial", "market", "personnel",
                 "customer", "legal"],
    "cadence": ["daily", "weekly", "biweekly", "monthly"],
    "weekday": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
    "status": ["planned", "active", "on-hold", "done", "cancelled"],
    "change": [
        "milestone-moved", "milestone-rebaselined", "milestone-done", "goal-retargeted",
        "risk-added", "risk-removed", "risk-closed", "risk-rescored", "person-added",
        "person-removed", "role-changed", "phase-added", "phase-removed", "phase-moved",
        "update-added",
    ],
}


def test_catalogs_have_the_same_keys() -> None:
    en, zh = builtin_catalog("en"), builtin_catalog("zh-CN")
    assert sorted(set(en) - set(zh)) == []
    assert sorted(set(zh) - set(en)) == []


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("group", sorted(CODES))
def test_every_code_has_a_label(locale: str, group: str) -> None:
    labels = builtin_catalog(locale)
    missing = [code for code in CODES[group] if f"{group}.{code}" not in labels]
    assert missing == []


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_match_between_catalogs(locale: str) -> None:
    import string

    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    en, other = builtin_catalog("en"), builtin_catalog(locale)
    assert {k: fields(v) for k, v in other.items()} == {k: fields(v) for k, v in en.items()}


def test_chinese_catalog_is_chinese() -> None:
    zh = builtin_catalog("zh-CN")
    for key in ("doc.brief", "health.amber", "brief.tell_customer", "charter.signoff"):
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh[key]), key


def test_dates_numbers_money_days() -> None:
    en, zh = translator("en"), translator("zh-CN")
    day = date(2026, 11, 20)
    assert en.date(day) == "20 Nov 2026"
    assert zh.date(day) == "2026年11月20日"
    assert en.date(day, "short") == "20 Nov"
    assert zh.date(day, "short") == "11月20日"
    assert en.time(datetime(2026, 11, 26, 14, 0)) == "14:00"
    assert en.money(420000, "EUR") == "€420,000"
    assert en.money(1234.5, "EUR") == "€1,234.50"
    assert zh.money(1800000, "CNY") == "¥1,800,000"
    assert en.percent(0.473) == "47%"
    assert en.number(6.5) == "6.5"
    assert en.days(9) == "+9 days"
    assert en.days(1) == "+1 day"
    assert en.days(-3) == "−3 days"
    assert zh.days(9) == "+9 天"
    assert en.points(18.4) == "+18 pts"
    assert en.measure(89, "%") == "89%"
    assert en.measure(22, "minutes") == "22 minutes"
    assert en.measure(None, "%") == "–"


def test_label_placeholders_are_only_plain_names() -> None:
    en = translator("en")
    # A placeholder that is not a plain name is left as written, never evaluated.
    text = en.label("reason.goal-behind", subject="{0.__class__}", points="x")
    assert "{0.__class__}" in text
    assert en.label("common.days", n="3") == "3 days"


def test_unknown_label_and_locale() -> None:
    with pytest.raises(TemplateError, match=r"no label 'nope\.nope'"):
        translator("en").label("nope.nope")
    with pytest.raises(RenderError, match="unsupported locale 'fr'"):
        load_catalog("fr")


def test_workspace_catalog_overrides_single_labels(tmp_path: Path) -> None:
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "en.yaml").write_text("brief:\n  summary: In short\n", "utf-8")
    labels = load_catalog("en", tmp_path)
    assert labels["brief.summary"] == "In short"
    assert labels["brief.asks"] == builtin_catalog("en")["brief.asks"]


def test_broken_workspace_catalog_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "en.yaml").write_text("brief:\n  summary: [a\n", "utf-8")
    with pytest.raises(TemplateError, match=r"en\.yaml"):
        load_catalog("en", tmp_path)
    (tmp_path / "labels" / "en.yaml").write_text("brief:\n  summary: 3\n", "utf-8")
    with pytest.raises(TemplateError, match=r"brief\.summary"):
        load_catalog("en", tmp_path)


def test_formats_kept_per_process_tell_equal_values_apart() -> None:
    from decimal import Decimal

    from babel.numbers import format_decimal

    en, zh = translator("en"), translator("zh-CN")
    # Equal as numbers, written differently: each keeps its own text.
    for value in (Decimal("1.50"), Decimal("1.5"), 1, 1.0, 2.0, -0.0, 0):
        assert en.number(value) == format_decimal(value, locale="en_GB"), value
    assert en.number(1234.5, 0) == "1,234" and en.number(1234.5, 2) == "1,234.50"
    day = date(2026, 11, 20)
    assert en.date(datetime(2026, 11, 20, 23, 0)) == en.date(day) == "20 Nov 2026"
    assert (zh.date(day, "weekday"), en.date(day, "weekday")) == ("11月20日周五", "Fri 20 Nov")


def test_a_changed_catalog_is_read_again_by_the_same_process(tmp_path: Path) -> None:
    (tmp_path / "labels").mkdir()
    catalog = tmp_path / "labels" / "en.yaml"
    catalog.write_text("brief:\n  summary: In short\n", "utf-8")
    assert translator("en", tmp_path).label("brief.summary") == "In short"
    catalog.write_text("brief:\n  summary: Briefly, this week\n", "utf-8")
    assert translator("en", tmp_path).label("brief.summary") == "Briefly, this week"
    catalog.unlink()
    assert translator("en", tmp_path).label("brief.summary") == \
        builtin_catalog("en")["brief.summary"]
