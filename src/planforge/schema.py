"""The JSON Schemas shipped with planforge, and schema errors turned into sentences."""

from __future__ import annotations

import copy
import difflib
import functools
import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .dates import (
    DATE_PATTERN,
    is_date_text,
    range_text,
    timezone_problem,
    week_pattern,
    week_problem,
)
from .errors import Finding
from .usercache import cached_code, compiled_code, digest
from .yamlio import Document, PathPart

if TYPE_CHECKING:  # pragma: no cover
    # jsonschema is imported where it is used: only a file that fails the fast compiled check
    # needs its messages, and importing it took longer than checking a project (about 70 ms).
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.exceptions import ValidationError

SCHEMA_NAMES = ("project", "update", "retrospective", "workspace")
#: The workspace folder that holds a copy of the schemas, for editors.
SCHEMAS_DIR = "schemas"

_TYPE_WORDS = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping of keys to values",
    "null": "nothing",
}

_PATTERN_HINTS = {
    r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,30}|(rgb|rgba|hsl|hsla)\([0-9.,% /a-z]{1,60}\))$": (
        "expected a CSS colour such as #1f4e79, rgb(0, 112, 60) or teal"
    ),
    r"^(?![/\\])(?![A-Za-z]:)(?!(.*[/\\])?\.\.([/\\]|$))[^\x00-\x1f]+$": (
        "expected a path inside the workspace, relative to it (no leading / and no ..)"
    ),
    "^[A-Za-z0-9][A-Za-z0-9_.-]*$": (
        "ids start with a letter or digit, then letters, digits, '_', '.' or '-'"
    ),
    "^[A-Z_][A-Z0-9_]*$": (
        "expected the name of an environment variable, such as PLANFORGE_SLACK_SALES, that "
        "holds the webhook URL; the URL is a secret and is never written in planforge.yaml"
    ),
    r"^https?://[^\s]+$": "expected an address starting with https://",
    "^([01][0-9]|2[0-3]):[0-5][0-9]$": 'expected a time "HH:MM" such as "09:30", in quotes',
}


def schema_text(name: str) -> str:
    """The schema as shipped, for ``planforge schema`` and for editors."""
    return (resources.files("planforge.schemas") / f"{name}.schema.json").read_text("utf-8")


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    """Replace local ``#/$defs/x`` references by their content (the schemas are not recursive):
    resolving a reference on every value is a third of the cost of validating a workspace."""
    if isinstance(node, list):
        return [_inline_refs(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _inline_refs(v, defs) for k, v in node.items() if k != "$defs"}
    ref = out.pop("$ref", None)
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = _inline_refs(defs[ref.removeprefix("#/$defs/")], defs)
        return {**target, **out}  # the referring side's own keywords (description) win
    if ref is not None:
        out["$ref"] = ref
    return out


def write_schemas(folder: Path) -> list[Path]:
    """Make ``folder`` hold the schemas of this planforge; return the files changed."""
    folder.mkdir(exist_ok=True)
    changed = []
    for name in SCHEMA_NAMES:
        target = folder / f"{name}.schema.json"
        text = schema_text(name)
        if not target.is_file() or target.read_text("utf-8") != text:
            target.write_text(text, "utf-8")
            changed.append(target)
    return changed


def stale_schemas(folder: Path) -> list[str] | None:
    """The schema files in ``folder`` that differ from this planforge's (missing ones
    included); None when there is no such folder."""
    if not folder.is_dir():
        return None
    return [f"{name}.schema.json" for name in SCHEMA_NAMES
            if not (folder / f"{name}.schema.json").is_file()
            or (folder / f"{name}.schema.json").read_text("utf-8") != schema_text(name)]


@cache
def _schema(name: str) -> dict[str, Any]:
    schema = json.loads(schema_text(name))
    inlined: dict[str, Any] = _inline_refs(schema, schema.get("$defs", {}))
    return inlined


@cache
def validator(name: str) -> Draft202012Validator:
    """Compiled once per process: compiling costs more than checking a file."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_schema(name), format_checker=_format_checker())


# local@domain, the local part a dot-atom (no leading, trailing or doubled dot), the domain
# dotted labels: never a '/', '\\' or leading '.', so an address can safely name a folder.
_ATEXT = r"[A-Za-z0-9!#\x24%&'*+=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
#: The schemas carry it as the pattern of every email field, so an editor refuses it as well.
ADDRESS_PATTERN = rf"^{_ATEXT}(?:\.{_ATEXT})*@{_LABEL}(?:\.{_LABEL})+$"
_ADDRESS = re.compile(ADDRESS_PATTERN.strip("^$"))


def is_address(text: object) -> bool:
    """Whether ``text`` is a plain email address (``local@domain``): the rule of the schemas'
    ``email`` format and of what planforge sends to, so validate refuses what send would."""
    return isinstance(text, str) and _ADDRESS.fullmatch(text) is not None


@cache
def _format_checker() -> FormatChecker:
    from jsonschema import Draft202012Validator

    checker: FormatChecker = copy.deepcopy(Draft202012Validator.FORMAT_CHECKER)
    checker.checks("email")(is_address)
    checker.checks("date")(_is_date)
    return checker


def _parse_date(text: str) -> date | None:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if len(text) == 10 else None  # fromisoformat also takes 20261120


def _is_date(text: object) -> bool:
    """A real date written YYYY-MM-DD within the years planforge handles: the schemas' date
    pattern, so that the format and the pattern never disagree."""
    if not isinstance(text, str):
        return True  # the type is another keyword's business, as with jsonschema's formats
    return is_date_text(text)


#: The fast checks this process has, by schema name.
_FAST: dict[str, Callable[[Any], Any]] = {}


def _fast_check(name: str, *, compile_now: bool = True) -> Callable[[Any], Any] | None:
    """The schema compiled to Python code: several times faster than jsonschema, which is only
    asked (for its precise errors) when this finds something wrong. Its formats are given the
    same rules as jsonschema's checker, so that it never accepts what jsonschema refuses.
    Without ``compile_now``, None unless this process or the user's cache has it already."""
    if name in _FAST:
        return _FAST[name]
    import fastjsonschema

    formats: dict[str, Callable[[Any], bool]] = {"date": _is_date, "email": is_address}

    def source() -> str:
        schema = {k: v for k, v in _schema(name).items() if k not in ("$schema", "$id")}
        return fastjsonschema.compile_to_code(schema, formats=formats)

    # The generated module is large (every time zone spelt out), and compiling it took longer
    # than a whole document's other checks: its bytecode is kept in the user's cache, named by
    # the schema's text, this module (which prepares the schema: _inline_refs) and the
    # generator's version, so a hit needs neither the parsed schema nor the generator. The
    # formats are passed in at call time.
    key = digest(schema_text(name), Path(__file__).read_bytes(), fastjsonschema.VERSION,
                 *sorted(formats))
    code = (compiled_code("schemas", key, source, f"<{name} schema check>") if compile_now
            else cached_code("schemas", key))
    if code is None:
        return None
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # the code fastjsonschema generated from our own schema
    check: Callable[[Any], Any] = functools.partial(namespace["validate"],
                                                    custom_formats=formats)
    _FAST[name] = check
    return check


def is_valid(data: Any, name: str) -> bool:
    """Whether ``data`` passes the schema, by the fast compiled check."""
    check = _fast_check(name)
    assert check is not None  # compiled when missing
    return _passes(check, data)


def _passes(check: Callable[[Any], Any], data: Any) -> bool:
    import fastjsonschema

    try:
        check(data)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37] + "...")
    if isinstance(value, int | float):
        return str(value)
    kind = "array" if isinstance(value, list) else "object" if isinstance(value, dict) else ""
    return _TYPE_WORDS.get(kind, type(value).__name__)


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _parts(error: ValidationError) -> tuple[str, Any, Any, dict[str, Any]]:
    """The keyword, its value, the instance and the sub-schema, untyped as jsonschema has them."""
    schema: Any = error.schema
    return str(error.validator), error.validator_value, error.instance, (
        schema if isinstance(schema, dict) else {}
    )


def _findings(doc: Document, error: ValidationError) -> list[Finding]:
    path: list[PathPart] = list(error.absolute_path)
    kind, value, instance, schema = _parts(error)
    if kind == "additionalProperties" and isinstance(instance, dict):
        allowed = sorted(schema.get("properties", {}))
        out = []
        for key in instance:
            if key in allowed:
                continue
            hint = _suggest(str(key), allowed) or (
                f"; expected one of: {', '.join(allowed)}" if allowed else ""
            )
            out.append(doc.finding([*path, key], f"unknown key{hint}", at_key=True))
        return out
    if kind == "required" and isinstance(instance, dict):
        # A misspelt key is reported once, as unknown with its suggestion, not again as missing.
        unknown = [str(k) for k in instance if k not in schema.get("properties", {})]
        return [
            doc.finding(path, f"missing required key '{key}'")
            for key in value
            if key not in instance and not difflib.get_close_matches(key, unknown, n=1, cutoff=0.6)
        ]
    if kind == "anyOf" and path and path[-1] == "day":
        message = (
            f"{_describe(instance)} is not a meeting day: use a weekday (monday … sunday), a day "
            'of the month 1–28, or a form such as "first monday" or "last friday"'
        )
        return [doc.finding(path, message)]
    if kind in ("anyOf", "oneOf") and error.context:
        # The branch the value has the type of says what is wrong with it ({milstone: m3} is
        # a misspelt key, not "expected text"); a value of no branch's type keeps the type error.
        fitting = [e for e in error.context if e.validator != "type" or e.path]
        if fitting:
            return [f for e in fitting for f in _findings(doc, e)]
        from jsonschema.exceptions import best_match

        return _findings(doc, best_match(error.context))
    if kind == "pattern" and value in (DATE_PATTERN, ADDRESS_PATTERN):
        return []  # the date or email format says the same in words (see _is_date, is_address)
    return [doc.finding(path, _sentence(error))]


def _path_end(error: ValidationError) -> object:
    """The last key or index of the value an error is about, or None at the top."""
    return error.absolute_path[-1] if error.absolute_path else None


def _sentence(error: ValidationError) -> str:
    kind, value, instance, _ = _parts(error)
    got = _describe(instance)
    if kind == "type":
        wanted = value if isinstance(value, list) else [value]
        words = " or ".join(_TYPE_WORDS.get(str(w), str(w)) for w in wanted)
        hint = ""
        if "boolean" in wanted and isinstance(instance, str):
            hint = " (write true or false: yes, no, on and off are text)"
        if "string" in wanted and isinstance(instance, int | float) and not isinstance(
            instance, bool
        ):
            hint = " (put it in quotes)"
        if "string" in wanted and isinstance(instance, dict) and len(instance) == 1:
            # "- Risk: the vendor is late" and "[Note: this]" are YAML for a key and a value.
            key, val = next(iter(instance.items()))
            hint = (f" (the ': ' made it a key and a value: quote this value, e.g. "
                    f"\"{key}: {val}\")")
        return f"expected {words}, got {got}{hint}"
    if kind == "enum" and _path_end(error) == "timezone" and isinstance(instance, str):
        return timezone_problem(instance) or f"{got}: not a time zone this schema lists"
    if kind == "enum":
        choices = [str(c) for c in value]
        return f"{got} is not one of: {', '.join(choices)}{_suggest(str(instance), choices)}"
    if kind == "const":
        return f"expected {_describe(value)}, got {got}"
    if kind == "format":
        if value == "date":
            if isinstance(instance, str) and _parse_date(instance) is not None:
                return f"{got} is outside the years planforge handles ({range_text()})"
            return f"{got} is not a real date written as YYYY-MM-DD"
        if value == "email":
            return f"{got} is not an email address"
        return f"{got} is not a valid {value}"
    if kind == "pattern" and value == week_pattern() and isinstance(instance, str):
        return week_problem(instance) or f"{got}: not an ISO week this schema lists"
    if kind == "pattern":
        return f"{got}: {_PATTERN_HINTS.get(value, f'does not match {value}')}"
    if kind in ("minimum", "exclusiveMinimum"):
        return f"{got} is too small: the least allowed is {value}"
    if kind in ("maximum", "exclusiveMaximum"):
        return f"{got} is too large: the most allowed is {value}"
    if kind == "minItems":
        return f"needs at least {value} item{'s' if value != 1 else ''}"
    if kind == "minLength":
        return "must not be empty"
    if kind == "maxItems":
        return f"has more than {value} items, the most planforge takes here"
    if kind == "maxLength":
        return f"is longer than {value} characters, the most planforge takes here"
    if kind == "uniqueItems":
        return "has the same item twice"
    return str(error.message)


#: Documents of one kind a process checks with jsonschema alone before it compiles the fast
#: check, when the user's cache does not hold it compiled already: compiling the project schema
#: costs as much as checking some twenty projects with jsonschema, and a pull-request check or a
#: single document reads only a few. With the compiled check in the cache, even the first
#: document uses it, and a command whose files are all valid never imports jsonschema (a
#: twentieth of a second, with its validator, in every process: planforge.yaml is checked by
#: each command). A process that compiles one check compiles those of the other kinds it has
#: checked too, so that the first validate or build of a workspace keeps them all.
COMPILE_AFTER = 16
_checked: Counter[str] = Counter()


def check_document(doc: Document, name: str) -> list[Finding]:
    """Every schema error of one loaded document, as findings at their lines."""
    _checked[name] += 1
    if _checked[name] == COMPILE_AFTER + 1:
        # A process that checks many documents compiles, and keeps, the checks of every kind it
        # has checked, once per cache: planforge.yaml is one document per process, and would
        # otherwise never be compiled for the short processes that follow (render, diff).
        for seen in list(_checked):
            _fast_check(seen)
    check = _fast_check(name, compile_now=_checked[name] > COMPILE_AFTER)
    if check is not None and _passes(check, doc.data):
        return []
    found: list[Finding] = []
    for error in validator(name).iter_errors(doc.data):
        found.extend(_findings(doc, error))
    return found
