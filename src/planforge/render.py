"""The Jinja environment: template search path, locale-aware filters, Markdown escaping.

This is the only module that imports ``jinja2``. Templates are looked up in the workspace's
``templates/`` folder first and then among the built-ins; ``builtin:NAME`` always names the
built-in, so an override can extend it and change a single block. Text from YAML only ever
reaches templates as data in the context: nothing here compiles user text as a template.

A workspace's templates are untrusted (a workspace may come from a pull request): every
template runs in Jinja's immutable sandbox, which refuses attributes such as ``__globals__`` and
calls that change data, and workspace template files are read only as regular files inside the
templates folder, never through a symbolic link.
"""

from __future__ import annotations

import dataclasses
import os
import re
import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from .errors import Finding, TemplateError
from .files import FileRefused, read_file
from .i18n import LOCALES, Translator, builtin_templates, parse_catalog, translator
from .limits import TEMPLATE_SECONDS, TooLong, deadline
from .usercache import cache_dir, digest

BUILTIN_PREFIX = "builtin"

# Characters that GitHub/GitLab Markdown would read as markup inside text or a table cell.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
# Text that needs no escaping: no markup character, no line break or doubled space, and not
# starting with what Markdown reads as a heading, a list item or a number followed by '.'.
_MD_PLAIN = re.compile(r"(?![#+\-\d ])(?:[^\\`*_{}\[\]<>()#+!|&\s~-]| (?! ))*(?<! )")
# An '&' that starts an entity reference ("&amp;", "&#38;"): Markdown would show the character
# it names, so the '&' itself is written as "&amp;" (which every Markdown dialect reads).
_MD_ENTITY = re.compile(r"&(?=#?\w+;)")
# At the start of a paragraph or list item these would open a heading or a list.
_MD_LINE_START = re.compile(r"^(#{1,6}|[-+])(?=\s|$)")
_MD_ORDERED = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")
_WHITESPACE = re.compile(r"\s+")
# ':' separates a gantt task's data, '#' starts an entity and ';' ends a statement; '%%' starts a
# comment or a directive (Mermaid finds "%%{" anywhere in the text), so a '%' after a '%' goes.
_MERMAID_SPECIAL = re.compile(r"[#:;]|(?<=%)%")
#: What starts every gantt task line. Mermaid reads a line's first word as a keyword ("Click ",
#: "Title ", "Section ", "Excludes", "axisFormat", a date …) and '%' in its first two places as a
#: comment; no keyword starts with a symbol. A non-breaking space would not do: JavaScript's \s,
#: which the gantt lexer skips, includes it.
MERMAID_TASK_MARK = "\u2022 "
# CJK ideographs and punctuation (CJK symbols, fullwidth forms).
_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
_SPACE_BETWEEN_CJK = re.compile(f"(?<=[{_CJK}])[ \t\n]+(?=[{_CJK}])")


def _finalize(value: Any) -> Any:
    """Every value a template prints: drop the spaces YAML's folded scalars (``>-``) put between
    two Chinese characters where a line was broken; Chinese is written without them."""
    if isinstance(value, str) and not isinstance(value, Markup) and not value.isascii():
        return _SPACE_BETWEEN_CJK.sub("", value)
    return value


#: Text already escaped for Markdown, by its text: a build's documents escape the same names,
#: labels and dates hundreds of thousands of times (a twentieth of rendering a brief).
_ESCAPED: dict[str, str] = {}
_MAX_ESCAPED = 65536


def escape_markdown(text: object) -> str:
    """Text safe to put in Markdown prose or a table cell: markup characters backslashed, an
    entity's '&' written as "&amp;", newlines and runs of spaces folded to one space."""
    text = str(text)
    known = _ESCAPED.get(text)
    if known is not None:
        return known
    if _MD_PLAIN.fullmatch(text):  # most cells: words, numbers and single spaces
        escaped = text
    else:
        folded = _WHITESPACE.sub(" ", text).strip()
        escaped = _MD_SPECIAL.sub(r"\\\1", _MD_ENTITY.sub("&amp;", folded))
        escaped = _MD_LINE_START.sub(r"\\\1", escaped)
        escaped = _MD_ORDERED.sub(r"\1\\\2", escaped)
    if len(_ESCAPED) >= _MAX_ESCAPED:
        _ESCAPED.clear()
    _ESCAPED[text] = escaped
    return escaped


def escape_mermaid(text: object) -> str:
    """Text safe after a Mermaid gantt keyword (a section's name): ':' '#' ';' and the second
    '%' of '%%' become Mermaid entity codes, which the chart shows as the characters."""
    folded = _WHITESPACE.sub(" ", str(text)).strip()
    return _MERMAID_SPECIAL.sub(lambda m: f"#{ord(m[0])};", folded)


def escape_mermaid_task(text: object) -> str:
    """Text safe at the start of a Mermaid gantt line (a task's name): escaped, and marked with
    a bullet unless it already starts with a symbol and a space ("★ Launch")."""
    name = escape_mermaid(text)
    if name[1:2] == " " and not name[0].isascii() and unicodedata.category(name[0])[0] in "PS":
        return name
    return MERMAID_TASK_MARK + name


#: What can end a CSS string or the <style> element around it: the quote, the backslash, '<' and
#: '>' (no </style>), and control characters, among them CR, LF and FF, which end a string early
#: and would let the rest of a name become CSS rules.
_CSS_UNSAFE = re.compile(r'["\\<>\x00-\x1f\x7f-\x9f]')


def _css_escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    # CSS reads an escaped NUL as U+FFFD anyway; the space after a hex escape ends it, unprinted.
    return "\ufffd" if code == 0 else f"\\{code:x} "


def css_string(text: object) -> Markup:
    """Text as a quoted CSS string, for ``content:`` in a ``<style>`` block: every character
    that could end the string, the declaration or the ``<style>`` element is a CSS escape."""
    return Markup('"' + _CSS_UNSAFE.sub(_css_escape, str(text)) + '"')


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


class _WorkspaceLoader(jinja2.BaseLoader):
    """A workspace's own templates: regular files inside its templates folder, of bounded size,
    never read through a symbolic link (a link could print any file of the machine)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        pieces = split_template_path(template)
        if any(piece.startswith(".") for piece in pieces):
            raise TemplateError(f"{template}: planforge reads no hidden file or folder as a "
                                "template")
        path = self.folder.joinpath(*pieces)
        if not path.exists() and not path.is_symlink():
            raise jinja2.TemplateNotFound(template)
        try:
            raw = read_file(path, self.folder)
        except FileRefused as exc:
            raise TemplateError(f"{path}: {exc}") from None
        except OSError as exc:
            raise TemplateError(f"{path}: cannot read: {exc.strerror or exc}") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise TemplateError(f"{path}: not UTF-8 text: save the file as UTF-8") from None
        return text, str(path), lambda: True

    def list_templates(self) -> list[str]:
        return sorted(
            str(p.relative_to(self.folder)) for p in self.folder.rglob("*")
            if p.name.endswith((".j2", ".css")) and p.is_file() and not p.is_symlink()
        )


def _autoescape(name: str | None) -> bool:
    # HTML only: Markdown has its own escaping filter, and CSS must reach <style> untouched.
    return name is not None and name.endswith((".html.j2", ".html"))


def _label_filter(tr: Translator) -> Callable[..., str]:
    def label(value: object, prefix: str | None = None, /, **args: Any) -> str:
        key = f"{prefix}.{value}" if prefix else str(value)
        return tr.label(key, **args)

    return label


def _label_global(tr: Translator) -> Callable[..., str]:
    def label(key: str, /, **args: Any) -> str:
        if not any(isinstance(value, Markup) for value in args.values()):
            return tr.label(key, **args)
        # A value that is HTML already (a macro's output) goes into the label as it is; the
        # label's own text and every other value are escaped.
        return Markup(tr.fill(key, args, escape))

    return label


#: What a template may build: enough for any document, far too little to fill memory.
MAX_SEQUENCE = 100_000  # characters of a repeated string, items of a repeated list or a range
MAX_EXPONENT = 64
#: Methods that pad or format to a width given by the template: one call could ask for
#: gigabytes. Templates format through planforge's filters instead.
_WIDENING = frozenset({"format", "format_map", "strftime", "ljust", "rjust", "center", "zfill",
                       "expandtabs"})
#: Jinja's own filters that do the same, or make text at length; unused by planforge's templates.
_UNBOUNDED_FILTERS = ("center", "indent", "wordwrap", "format", "filesizeformat")


_DATA_FIELDS: dict[type, frozenset[str]] = {}


def _data_fields(kind: type) -> frozenset[str]:
    """The fields of a dataclass of planforge's own that a template may read freely: those the
    sandbox would allow anyway, as none starts with an underscore (no dunder, nothing private)."""
    known = _DATA_FIELDS.get(kind)
    if known is None:
        ours = dataclasses.is_dataclass(kind) and kind.__module__.startswith("planforge.")
        known = frozenset(f.name for f in dataclasses.fields(kind)
                          if not f.name.startswith("_")) if ours else frozenset()
        _DATA_FIELDS[kind] = known
    return known


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, also bounded in what a template can build: a workspace's
    templates come from pull requests, and a template of one line could otherwise allocate
    gigabytes or compute for hours."""

    intercepted_binops = frozenset({"*", "**"})
    #: planforge's own functions given to templates as globals (set by make_environment).
    own_calls: tuple[Callable[..., Any], ...] = ()

    def call(self, context: jinja2.runtime.Context, obj: Any, /, *args: Any,
             **kwargs: Any) -> Any:
        # A template's macros and planforge's own label functions are plain calls that the
        # sandbox's checks always allow: called directly, as Context.call would call them (the
        # checks were a tenth of rendering a brief, 300,000 calls in a 1,000-project build).
        # Everything else goes through the sandbox.
        if type(obj) is jinja2.runtime.Macro or any(obj is own for own in self.own_calls):
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
            try:
                return obj(*args, **kwargs)
            except StopIteration:  # as Context.call: a generator's end is no template error
                return self.undefined("value was undefined because a callable raised a "
                                      "StopIteration exception")
        return super().call(context, obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        # A field of one of planforge's own dataclasses (the views templates read) is data: read
        # without the sandbox's checks, which were half of rendering the dashboard. Anything
        # callable, and everything else, goes through them.
        if attribute in _data_fields(type(obj)):
            value = getattr(obj, attribute)
            if not callable(value):
                return value
        return super().getattr(obj, attribute)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return attr not in _WIDENING and super().is_safe_attribute(obj, attr, value)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        # Jinja hands str.format a sandboxed formatter before asking is_safe_attribute; its
        # widths are unbounded all the same.
        if getattr(value, "__name__", None) in _WIDENING and isinstance(
                getattr(value, "__self__", None), str):
            raise jinja2.exceptions.SecurityError(
                f"str.{value.__name__} is not allowed in a template")
        return super().wrap_str_format(value)

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any,
                   right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise jinja2.exceptions.SecurityError(
                f"an exponent above {MAX_EXPONENT} is not allowed in a template")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int) and \
                        len(seq) * times > MAX_SEQUENCE:
                    raise jinja2.exceptions.SecurityError(
                        f"a template may not build more than {MAX_SEQUENCE:,} items at once")
        return super().call_binop(context, operator, left, right)


def _range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_SEQUENCE:
        raise jinja2.exceptions.SecurityError(
            f"a range of more than {MAX_SEQUENCE:,} numbers is not allowed in a template")
    return numbers


def make_environment(templates_dir: Path | None, tr: Translator) -> jinja2.Environment:
    """A Jinja environment for one locale: workspace templates over the built-ins, strict about
    undefined names, with the locale's formatting filters."""
    builtin = _BuiltinLoader()
    loaders: list[jinja2.BaseLoader] = [
        jinja2.PrefixLoader({BUILTIN_PREFIX: builtin}, delimiter=":")
    ]
    if templates_dir is not None and templates_dir.is_dir():
        loaders.append(_WorkspaceLoader(templates_dir))
    loaders.append(builtin)
    env = _Sandbox(
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
            "mermaid_task": escape_mermaid_task,
            "css_string": css_string,
            "css_counters": css_counters,
        }
    )
    label, has_label = _label_global(tr), tr.has
    env.globals.update({"label": label, "has_label": has_label, "locale": tr.locale,
                        "range": _range})
    env.own_calls = (label, has_label)
    del env.globals["lipsum"]  # a generator of any amount of text; no document needs it
    for name in _UNBOUNDED_FILTERS:
        del env.filters[name]
    env.bytecode_cache = _bytecode_cache()
    return env


@lru_cache(maxsize=1)
def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept in the user's cache: compiling a document's templates took
    longer than rendering them, in every process that renders one document. Jinja reuses an
    entry only for the same template file with the same source; the folder is named by Jinja's
    version and this module's source, which holds every option that changes the compiled code
    (the sandbox's intercepted operators among them)."""
    shared = cache_dir("templates")
    if shared is None:
        return None
    folder = shared / digest(jinja2.__version__, Path(__file__).read_bytes())[:16]
    try:
        folder.mkdir(exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


@lru_cache(maxsize=16)
def _cached_environment(templates_dir: str | None, locale: str) -> jinja2.Environment:
    folder = Path(templates_dir) if templates_dir is not None else None
    return make_environment(folder, translator(locale, folder))


def is_builtin(env: jinja2.Environment, name: str) -> bool:
    """Whether the template ``name`` is planforge's own in this environment, not a workspace's
    override of it."""
    return env.get_template(name).filename == env.get_template(
        f"{BUILTIN_PREFIX}:{name}").filename


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
        with deadline(TEMPLATE_SECONDS, f"rendering {name}"):
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
    except TooLong as exc:
        raise TemplateError(str(exc)) from None
    except RecursionError:
        raise TemplateError(f"{name}: templates call themselves without end (a macro or an "
                            "include of itself?)") from None
    except jinja2.exceptions.SecurityError as exc:
        filename, line = _template_line(exc.__traceback__)
        where = f"{_shorten(filename)}:{line}" if filename else name
        raise TemplateError(f"{where}: not allowed in a template: {exc}") from exc


def _refused_names(tree: jinja2.nodes.Template) -> list[tuple[int, str]]:
    """What the sandbox refuses when the template runs, found in its text so that ``validate``
    reports it before any document is built: attributes and keys starting with '_', methods
    that pad to a width, and Jinja's globals and filters that planforge removed."""
    found = []
    for attr in tree.find_all(jinja2.nodes.Getattr):
        if attr.attr.startswith("_"):
            found.append((attr.lineno, f"'{attr.attr}': names starting with '_' are not "
                                       "allowed in a template"))
        elif attr.attr in _WIDENING:
            found.append((attr.lineno, f"'{attr.attr}' is not allowed in a template: format "
                                       "with planforge's filters"))
    for item in tree.find_all(jinja2.nodes.Getitem):
        key = item.arg.value if isinstance(item.arg, jinja2.nodes.Const) else None
        if isinstance(key, str) and key.startswith("_"):
            found.append((item.lineno, f"'{key}': names starting with '_' are not allowed in "
                                       "a template"))
    for node in tree.find_all(jinja2.nodes.Filter):
        if node.name in _UNBOUNDED_FILTERS:
            found.append((node.lineno, f"the filter '{node.name}' is not available in "
                                       "planforge's templates"))
    for name in tree.find_all(jinja2.nodes.Name):
        if name.name == "lipsum" and name.ctx == "load":
            found.append((name.lineno, "'lipsum' is not available in planforge's templates"))
    for power in tree.find_all(jinja2.nodes.Pow):
        exponent = power.right.value if isinstance(power.right, jinja2.nodes.Const) else None
        if isinstance(exponent, int | float) and abs(exponent) > MAX_EXPONENT:
            found.append((power.lineno, f"an exponent above {MAX_EXPONENT} is not allowed in a "
                                        "template"))
    for call in tree.find_all(jinja2.nodes.Call):
        if isinstance(call.node, jinja2.nodes.Name) and call.node.name == "range":
            bounds = [a.value for a in call.args if isinstance(a, jinja2.nodes.Const)]
            if len(bounds) == len(call.args) and all(isinstance(b, int) for b in bounds) \
                    and len(range(*bounds)) > MAX_SEQUENCE:
                found.append((call.lineno, f"a range of more than {MAX_SEQUENCE:,} numbers is "
                                           "not allowed in a template"))
    return sorted(found)


def _check_template(env: jinja2.Environment, path: Path, shown: str) -> list[Finding]:
    def error(line: int | None, message: str) -> Finding:
        return Finding(shown, line, None, "", "error", message)

    try:
        text = read_file(path, path.parent).decode("utf-8")
    except FileRefused as exc:
        return [error(None, str(exc))]
    except UnicodeDecodeError:
        return [error(None, "not UTF-8 text: save the file as UTF-8")]
    try:
        tree = env.parse(text, path.name, str(path))
    except jinja2.TemplateSyntaxError as exc:
        return [error(exc.lineno, f"template syntax error: {exc.message}")]
    return [error(line, message) for line, message in _refused_names(tree)]


def check_templates(folder: Path, shown: str) -> tuple[list[Finding], int]:
    """Findings for a workspace's templates folder, shown as ``shown``, and how many files were
    read: links, files too large, template syntax, names the sandbox refuses, label catalogs."""
    env = make_environment(None, translator("en"))
    findings: list[Finding] = []
    read = 0
    for here, dirs, names in sorted(os.walk(folder)):  # os.walk follows no link to a folder
        base = Path(here)
        for name in sorted(dirs + names):
            path = base / name
            rel = f"{shown}/{path.relative_to(folder).as_posix()}"
            if path.is_symlink():
                findings.append(Finding(rel, None, None, "", "error",
                                        "a symbolic link: planforge reads no file through a link"))
            elif name.endswith((".j2", ".css")):
                read += 1
                findings += _check_template(env, path, rel)
            elif base.name == "labels" and base.parent == folder and name.endswith(".yaml"):
                read += 1
                if path.stem not in LOCALES:
                    findings.append(Finding(rel, None, None, "", "warning",
                                            f"no locale '{path.stem}': this file is never read "
                                            f"(planforge speaks {', '.join(LOCALES)})"))
                    continue
                try:
                    findings += parse_catalog(read_file(path, folder), rel)[1]
                except FileRefused as exc:
                    findings.append(Finding(rel, None, None, "", "error", str(exc)))
    return findings, read


def safe(text: str) -> Markup:
    """Mark text produced by planforge itself (an SVG chart, the stylesheet) as safe HTML."""
    return Markup(text)
