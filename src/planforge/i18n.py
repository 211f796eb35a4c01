"""Labels and formats per locale: the label catalogs and Babel for dates, numbers and money.

The catalogs live with the templates (``templates/labels/<locale>.yaml``) so that a workspace can
override a label as it overrides a template: a workspace catalog only needs the keys it changes.
"""

from __future__ import annotations

import datetime as dt
import os
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.numbers import format_currency, format_decimal, format_percent

from .dates import WEEKDAYS
from .errors import Finding, RenderError, TemplateError
from .files import FileRefused, read_file
from .yamlio import Document, load_bytes

#: The document locales planforge speaks, and the Babel locale behind each. British English
#: gives "20 Nov 2026", which readers on both sides of the Atlantic parse without doubt.
LOCALES: dict[str, str] = {"en": "en_GB", "zh-CN": "zh_Hans_CN"}
MINUS = "\u2212"  # a real minus sign: a hyphen reads as a dash in "-3 days"


def builtin_templates() -> Traversable:
    """The built-in templates folder (shipped as the package ``planforge.templates``)."""
    return files("planforge.templates")


def _flatten(data: Mapping[str, Any], prefix: str, out: dict[str, str], doc: Document,
             findings: list[Finding]) -> None:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten(value, f"{name}.", out, doc, findings)
        elif isinstance(value, str):
            out[name] = value
        else:
            findings.append(doc.finding(name.split("."),
                                        f"a label must be text, not {type(value).__name__}"))


def parse_catalog(raw: bytes, file: str) -> tuple[dict[str, str], list[Finding]]:
    """A label catalog as flat dotted keys (``health.green``) → text, and its problems."""
    doc, findings = load_bytes(raw, file)
    if findings or doc is None:
        return {}, findings
    if doc.data is None:
        return {}, []
    if not isinstance(doc.data, Mapping):
        return {}, [doc.finding([], "a label catalog is a mapping of keys to text")]
    out: dict[str, str] = {}
    _flatten(doc.data, "", out, doc, findings)
    return out, findings


def read_catalog(raw: bytes, file: str) -> dict[str, str]:
    """A label catalog as flat dotted keys; its problems raise a TemplateError."""
    labels, findings = parse_catalog(raw, file)
    if findings:
        raise TemplateError("\n".join(f.format() for f in findings))
    return labels


@cache
def builtin_catalog(locale: str) -> Mapping[str, str]:
    """The catalog shipped with planforge for a locale."""
    entry = builtin_templates() / "labels" / f"{locale}.yaml"
    return read_catalog(entry.read_bytes(), f"labels/{locale}.yaml")


def load_catalog(locale: str, templates_dir: Path | None = None) -> dict[str, str]:
    """The built-in catalog with the workspace's overrides (``<templates>/labels/<locale>.yaml``)
    laid over it."""
    if locale not in LOCALES:
        known = ", ".join(LOCALES)
        raise RenderError(f"unsupported locale '{locale}' (planforge speaks {known})")
    labels = dict(builtin_catalog(locale))
    if templates_dir is not None:
        override = templates_dir / "labels" / f"{locale}.yaml"
        if override.exists() or override.is_symlink():
            try:
                raw = read_file(override, templates_dir)
            except (FileRefused, OSError) as exc:
                raise TemplateError(f"{override}: {exc}") from None
            labels.update(read_catalog(raw, str(override)))
    return labels


def _decimals(digits: int) -> int:
    # Templates choose the decimals, and a workspace's templates are untrusted.
    if not 0 <= digits <= 6:
        raise TemplateError(f"{digits} decimals: a number takes 0 to 6")
    return digits


class _Args(dict[str, Any]):
    """Format arguments where a missing one shows as ``{name}`` instead of raising, so a
    workspace label with a typo in a placeholder still renders."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


_FORMATTER = string.Formatter()


@cache
def _babel_locale(name: str) -> Locale:
    return Locale.parse(name)


#: Dates and numbers already formatted, by kind, locale, style or pattern and the value's repr
#: (which tells 1 from 1.0 and Decimal("1.0") from Decimal("1"), unlike equality). Babel
#: builds each one from its pattern anew, and the documents of a build show the same few
#: dates and counts many times: formatting was a fifth of rendering a Markdown build.
_FORMATTED: dict[tuple[str, str, str | None, str], str] = {}
_MAX_FORMATTED = 16384


def _formatted(kind: str, locale: str, style: str | None, value: Any) -> str:
    key = (kind, locale, style, repr(value))
    text = _FORMATTED.get(key)
    if text is None:
        loc = _babel_locale(LOCALES[locale])
        if kind == "number":
            text = format_decimal(value, style, locale=loc)
        elif kind == "percent":
            text = format_percent(value, style, locale=loc)
        elif style in _SKELETONS:
            text = format_skeleton(_SKELETONS[style], value, locale=loc)
        else:
            text = format_date(value, style or "medium", locale=loc)
        if len(_FORMATTED) >= _MAX_FORMATTED:
            _FORMATTED.clear()
        _FORMATTED[key] = text
    return text


_SKELETONS = {"short": "MMMd", "weekday": "MMMEd"}


@dataclass(frozen=True)
class Translator:
    """Everything locale-dependent a template needs: labels and formats."""

    locale: str  # "en" | "zh-CN"
    labels: Mapping[str, str]

    @property
    def babel(self) -> Locale:
        """The Babel locale behind this document locale (parsed once: Babel would parse the
        name again for every date and number, a tenth of a Markdown build)."""
        return _babel_locale(LOCALES[self.locale])

    def has(self, key: str) -> bool:
        """Whether the catalog has this label."""
        return key in self.labels

    def label(self, key: str, /, **args: Any) -> str:
        """The label of a key, with ``{placeholders}`` filled from ``args``."""
        return self.fill(key, args)

    def fill(self, key: str, args: Mapping[str, Any],
             escape: Callable[[Any], str] | None = None) -> str:
        """The label of a key with its placeholders filled; ``escape`` (for HTML) is applied to
        the label's own text and to each value, and decides which values are already safe."""
        try:
            text = self.labels[key]
        except KeyError:
            raise TemplateError(f"no label '{key}' in the {self.locale} catalog") from None
        if not args and escape is None:
            return text
        # format_map on a str subclass would interpret "{0.__class__}"-style fields; only plain
        # names are looked up, anything else stays as written.
        esc = escape or str
        out = []
        for literal, field, _spec, _conv in _FORMATTER.parse(text):
            out.append(esc(literal))
            if field is None:
                continue
            if field.isidentifier():
                out.append(esc(_Args(args)[field]))
            else:
                out.append(esc("{" + field + "}"))
        return "".join(out)

    def date(self, value: dt.date | None, style: str = "medium") -> str:
        """A date: ``medium`` 20 Nov 2026 / 2026年11月20日; ``short`` 20 Nov / 11月20日;
        ``weekday`` Fri 20 Nov / 11月20日周五."""
        if value is None:
            return self.label("common.none")
        return _formatted("date", self.locale, style, value)

    def month(self, value: dt.date, skeleton: str = "yMMM") -> str:
        """A month for chart axes: ``yMMM`` Nov 2026 / 2026年11月, ``MMM`` Nov / 11月."""
        return format_skeleton(skeleton, value, locale=self.babel)

    def time(self, value: dt.datetime) -> str:
        """A clock time, 24-hour: 14:00."""
        return format_time(value, "HH:mm", locale=self.babel)

    def number(self, value: float | int | None, digits: int | None = None) -> str:
        """A number with the locale's separators; ``digits`` fixes the decimals."""
        if value is None:
            return self.label("common.none")
        if digits is not None:
            pattern = "#,##0" + ("." + "0" * _decimals(digits) if digits else "")
            return _formatted("number", self.locale, pattern, value)
        return _formatted("number", self.locale, None, value)

    def percent(self, fraction: float | None, digits: int = 0) -> str:
        """A share 0..1 as a percentage: 0.47 → 47%."""
        if fraction is None:
            return self.label("common.none")
        pattern = "#,##0" + ("." + "0" * _decimals(digits) if digits else "") + "%"
        return _formatted("percent", self.locale, pattern, fraction)

    def points(self, value: float) -> str:
        """Percentage points, signed: +18 pts / +18 个百分点."""
        sign = "+" if value > 0 else MINUS if value < 0 else ""
        return self.label("common.points", n=sign + self.number(abs(value), 0))

    def money(self, amount: float | None, currency: str) -> str:
        """Money with its currency; whole amounts without cents (€420,000), as a CFO reads."""
        if amount is None:
            return self.label("common.none")
        loc = self.babel
        if Decimal(str(amount)) == int(amount):
            pattern = self.babel.currency_formats["standard"].pattern.split(";")[0]
            whole = pattern.replace(".00", "")
            return format_currency(amount, currency, whole, locale=loc, currency_digits=False)
        return format_currency(amount, currency, locale=loc)

    def days(self, n: int | None, signed: bool = True) -> str:
        """A day count: +9 days / +9 天; ``signed`` puts + or − before it."""
        if n is None:
            return self.label("common.none")
        key = "common.day" if abs(n) == 1 else "common.days"
        sign = ("+" if n > 0 else MINUS if n < 0 else "") if signed else ""
        return self.label(key, n=sign + self.number(abs(n)))

    def measure(self, value: float | None, unit: str | None) -> str:
        """A goal value with its unit: 89% / 22 minutes."""
        if value is None:
            return self.label("common.none")
        text = self.number(value)
        if not unit:
            return text
        if unit == "%":
            return text + "%"
        return f"{text} {unit}"

    def weekday(self, day: dt.date) -> str:
        """The weekday's name from the catalog."""
        return self.label(f"weekday.{WEEKDAYS[day.weekday()]}")


def translator(locale: str, templates_dir: Path | None = None) -> Translator:
    """The translator of a locale, with the workspace's label overrides: made once per process
    while the overrides file stays the same file, unchanged (each document, calendar and
    email asks for one, and reading the catalog again took eight file checks each time)."""
    return _translator(locale, templates_dir, _overrides_state(locale, templates_dir))


def _overrides_state(locale: str, templates_dir: Path | None) -> tuple[int, ...] | None:
    if templates_dir is None:
        return None
    try:
        info = os.lstat(templates_dir / "labels" / f"{locale}.yaml")
    except OSError:
        return None
    return info.st_dev, info.st_ino, info.st_mode, info.st_size, info.st_mtime_ns


@lru_cache(maxsize=32)
def _translator(locale: str, templates_dir: Path | None,
                _state: tuple[int, ...] | None) -> Translator:
    return Translator(locale, load_catalog(locale, templates_dir))
