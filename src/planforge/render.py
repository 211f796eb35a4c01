"""The Jinja environment: template search path, locale-aware filters, Markdown escaping.

This is the only module that imports ``jinja2``. Templates are looked up in the workspace's
``templates/`` folder first and then among the built-ins; ``builtin:NAME`` always names the
built-in, so an override can extend it and change a single block. Text from YAML only ever
reaches templates as data in the context: nothing here compiles user text as a template.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from jinja2.loaders import split_template_path
from markupsafe import Markup

from .errors import TemplateError
from .i18n import Translator, builtin_templates, translator

BUILTIN_PREFIX = "builtin"

# Characters that GitHub/GitLab Markdown would read as markup inside text or a table cell.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
# Text that needs no escaping: no markup character, no line break or doubled space, and not
# starting with what Markdown reads as a heading, a list item or a number followed by '.'.
_MD_PLAIN = re.compile(r"(?![#+\-\d ])(?:[^\\`*_{}\[\]<>()#+!|\s~-]| (?! ))*(?<! )")
# At the start of a paragraph or list item these would open a heading or a list.
_MD_LINE_START = re.compile(r"^(#{1,6}|[-+])(?=\s|$)")
_MD_ORDERED = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")
_WHITESPACE = re.compile(r"\s+")
_MERMAID_SPECIAL = re.compile(r"[#:;]")
# CJK ideographs and punctuation (CJK symbols, fullwidth forms).
_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
_SPACE_BETWEEN_CJK = re.compile(f"(?<=[{_CJK}])[ \t\n]+(?=[{_CJK}])")


def _finalize(value: Any) -> Any:
    """Every value a template prints: drop the spaces YAML's folded scalars (``>-``) put between
    two Chinese characters where a line was broken; Chinese is written without them."""
    if isinstance(value, str) and not isinstance(value, Markup) and not value.isascii():
        return _SPACE_BETWEEN_CJK.sub("", value)
    return value


def escape_markdown(text: object) -> str:
    """Text safe to put in Markdown prose or a table cell: markup characters backslashed,
    newlines and runs of spaces folded to one space."""
    text = str(text)
    if _MD_PLAIN.fullmatch(text):  # most cells: words, numbers and single spaces
        return text
    folded = _WHITESPACE.sub(" ", text).strip()
    escaped = _MD_SPECIAL.sub(r"\\\1", folded)
    escaped = _MD_LINE_START.sub(r"\\\1", escaped)
    return _MD_ORDERED.sub(r"\1\\\2", escaped)


def escape_mermaid(text: object) -> str:
    """Text safe as a Mermaid gantt task or section name: ':' separates the task's data, '#'
    starts an entity and ';' ends a statement, so all three become Mermaid entity codes."""
    folded = _WHITESPACE.sub(" ", str(text)).strip()
    return _MERMAID_SPECIAL.sub(lambda m: f"#{ord(m[0])};", folded)


def css_string(text: object) -> Markup:
    """Text as a quoted CSS string, for ``content:`` in a ``<style>`` block: quotes and
    backslashes escaped, and '<' written as a CSS escape so that no ``</style>`` can appear."""
    body = (
        str(text)
        .replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\A ")
        .replace("<", "\\3c ")
    )
    return Markup(f'"{body}"')


def css_counters(text: str) -> Markup:
    """A label such as "Page {page} of {pages}" as CSS ``content``, the placeholders becoming
    the page counters."""
    parts = []
    for piece in re.split(r"(\{pages?\})", text):
        if piece == "{page}":
            parts.append("counter(page)")
        elif piece == "{pages}":
            parts.append("counter(pages)")
        elif piece:
            parts.append(str(css_string(piece)))
    return Markup(" ".join(parts) or '""')


class _BuiltinLoader(jinja2.BaseLoader):
    """Templates shipped inside the package, read through ``importlib.resources`` so that they
    are found whether planforge runs from a checkout, a wheel or a zip."""

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        entry = builtin_templates()
        for piece in split_template_path(template):
            entry = entry / piece
        if not entry.is_file():
            raise jinja2.TemplateNotFound(template)
        # The package does not change while planforge runs: never stale.
        return entry.read_text("utf-8"), str(entry), lambda: True

    def list_templates(self) -> list[str]:
        found: list[str] = []

        def walk(folder: Any, prefix: str) -> None:
            for entry in folder.iterdir():
                if entry.is_dir():
                    walk(entry, f"{prefix}{entry.name}/")
                elif entry.name.endswith((".j2", ".css")):
                    found.append(prefix + entry.name)

        walk(builtin_templates(), "")
        return sorted(found)


def _autoescape(name: str | None) -> bool:
    # HTML only: Markdown has its own escaping filter, and CSS must reach <style> untouched.
    return name is not None and name.endswith((".html.j2", ".html"))


def _label_filter(tr: Translator) -> Callable[..., str]:
    def label(value: object, prefix: str | None = None, /, **args: Any) -> str:
        key = f"{prefix}.{value}" if prefix else str(value)
        return tr.label(key, **args)

    return label


def make_environment(templates_dir: Path | None, tr: Translator) -> jinja2.Environment:
    """A Jinja environment for one locale: workspace templates over the built-ins, strict about
    undefined names, with the locale's formatting filters."""
    builtin = _BuiltinLoader()
    loaders: list[jinja2.BaseLoader] = [
        jinja2.PrefixLoader({BUILTIN_PREFIX: builtin}, delimiter=":")
    ]
    if templates_dir is not None and templates_dir.is_dir():
        loaders.append(jinja2.FileSystemLoader(str(templates_dir)))
    loaders.append(builtin)
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=_autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        finalize=_finalize,
    )
    env.filters.update(
        {
            "date": tr.date,
            "time": tr.time,
            "number": tr.number,
            "percent": tr.percent,
            "points": tr.points,
            "money": tr.money,
            "days": tr.days,
            "measure": tr.measure,
            "weekday": tr.weekday,
            "label": _label_filter(tr),
            "md": escape_markdown,
            "mermaid": escape_mermaid,
            "css_string": css_string,
            "css_counters": css_counters,
        }
    )
    env.globals.update({"label": tr.label, "has_label": tr.has, "locale": tr.locale})
    return env


@lru_cache(maxsize=16)
def _cached_environment(templates_dir: str | None, locale: str) -> jinja2.Environment:
    folder = Path(templates_dir) if templates_dir is not None else None
    return make_environment(folder, translator(locale, folder))


def environment(templates_dir: Path | None, locale: str) -> jinja2.Environment:
    """The environment of a templates folder and locale, built once per process: compiling the
    templates costs more than rendering them, and a build renders hundreds of documents."""
    return _cached_environment(str(templates_dir) if templates_dir is not None else None, locale)


def _template_line(tb: TracebackType | None) -> tuple[str | None, int | None]:
    """The innermost template frame of a traceback: Jinja rewrites tracebacks so that template
    frames carry the template's file name and line."""
    where: tuple[str | None, int | None] = (None, None)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".j2", ".css")):
            where = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return where


def _shorten(filename: str | None) -> str | None:
    if filename is None:
        return None
    builtin = str(builtin_templates())
    if filename.startswith(builtin):
        return "builtin:" + filename[len(builtin) :].lstrip("/\\")
    return filename


def render_template(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> str:
    """Render one template; Jinja's errors become a TemplateError naming the template and line."""
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        where = _shorten(exc.filename) or exc.name or name
        raise TemplateError(f"{where}:{exc.lineno}: template syntax error: {exc.message}") from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template not found: {exc.name} (needed by {name})") from exc
    except jinja2.UndefinedError as exc:
        filename, line = _template_line(exc.__traceback__)
        where = f"{_shorten(filename)}:{line}" if filename else name
        raise TemplateError(f"{where}: undefined in template: {exc.message}") from exc


def safe(text: str) -> Markup:
    """Mark text produced by planforge itself (an SVG chart, the stylesheet) as safe HTML."""
    return Markup(text)
