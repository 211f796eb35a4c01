"""The safe YAML loader: YAML 1.2 scalars, dates kept as strings, duplicate keys and alias bombs
reported as findings, and the node tree kept so that any finding can name its line."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import Finding, Severity
from .files import MAX_FILE_BYTES

try:  # the C parser is several times faster; the constructor stays Python either way
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - only without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

PathPart = str | int

#: Expanded size (nodes, counting every alias as a copy) beyond which a document is refused: a
#: real plan has a few thousand nodes; an alias bomb has billions.
MAX_EXPANDED_NODES = 200_000
#: Nesting depth beyond which a document is refused: real plans nest about six levels.
MAX_DEPTH = 64
#: Longer integers are not numbers a plan holds (and Python refuses to print those over 4,300).
MAX_NUMBER_DIGITS = 30
#: Characters no text of a plan holds: C0 and C1 controls but tab and line feed, and the Unicode
#: line and paragraph separators.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


class _Loader(_BaseLoader):
    """SafeLoader with YAML 1.2 core scalars: ``yes``/``no``/``on``/``off`` and ``09:30`` stay
    strings, and timestamps are not resolved at all (the schema decides where a date is wanted)."""

    yaml_implicit_resolvers = {}  # noqa: RUF012 - PyYAML reads it as a class attribute

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[Node, str]] = []

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        raw = [k.value for k, _ in node.value if isinstance(k, ScalarNode)]
        if len(raw) == len(node.value) and len(set(raw)) == len(raw):
            # Distinct plain keys cannot collide: skip constructing each key twice.
            return super().construct_mapping(node, deep=deep)
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    self.duplicates.append((key_node, str(key)))
                seen.add(key)
            except TypeError:  # an unhashable key: the base class reports it with its mark
                pass
        return super().construct_mapping(node, deep=deep)

    def construct_int(self, node: ScalarNode) -> int | str:
        text = str(self.construct_scalar(node)).replace("_", "")
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        if len(digits) > MAX_NUMBER_DIGITS:
            return text  # no plan counts this high: the schema says a number is expected
        if digits.startswith("0o"):
            return sign * int(digits[2:], 8)
        if digits.startswith("0x"):
            return sign * int(digits[2:], 16)
        return sign * int(digits, 10)  # YAML 1.2: a leading zero is not octal

    def construct_float(self, node: ScalarNode) -> float | str:
        text = str(self.construct_scalar(node))
        if text.lstrip("+-").lower() in (".nan", ".inf"):
            return text
        value = float(text.replace("_", ""))
        # .nan passes every minimum and maximum (it compares false) and .inf or 1e999 breaks
        # the formatting of money and percentages: left as text, the schema refuses them.
        return value if math.isfinite(value) else text

    def construct_str(self, node: ScalarNode) -> str:
        text = str(self.construct_scalar(node))
        if text.isprintable():
            return text
        # Control characters (CR, FF, ESC, NUL, U+2028 …) only ever come from a mistake or an
        # attack; each document, email and chart would otherwise have to guard against them.
        return _CONTROL.sub(" ", text)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_float)
_Loader.add_constructor("tag:yaml.org,2002:str", _Loader.construct_str)
for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", ["<"]),
):
    _Loader.add_implicit_resolver(_tag, re.compile(_pattern), _first)


#: PyYAML's wording of the mistakes people make by hand, and what to do about each.
_SYNTAX_HINTS = (
    ("tab", "indent with spaces, not tabs"),
    ("mapping values are not allowed", "a value that contains ': ' must be put in quotes"),
    ("could not find expected ':'", "a key must be followed by ': ' (a colon and a space)"),
    ("found undefined alias", "the alias (*name) refers to no anchor (&name) above it"),
    ("while scanning a quoted scalar", "a quoted value is not closed"),
    ("did not find expected key", "check the indentation of this line and the one above"),
    ("did not find expected ',' or ']'", "a list written in [ ] is not closed"),
    ("did not find expected ',' or '}'", "a mapping written in { } is not closed"),
)


def _syntax_message(what: str, line_text: str = "") -> str:
    if "\t" in line_text[: len(line_text) - len(line_text.lstrip())]:
        what = "this line is indented with a tab"  # libyaml's own words do not say so
    hint = next((h for key, h in _SYNTAX_HINTS if key in what), None)
    return f"YAML syntax: {what}" + (f" ({hint})" if hint else "")


def _syntax_finding(exc: yaml.MarkedYAMLError, text: str, file: str) -> Finding:
    """A syntax error at the line a person has to fix: where an unclosed quote or bracket
    opened, not the end of the file where the parser gave up."""
    lines = text.splitlines()
    opened, problem = exc.context_mark, exc.problem_mark
    context = exc.context or ""

    def at(mark: yaml.Mark, message: str) -> Finding:
        return Finding(file, mark.line + 1, mark.column + 1, "", "error", f"YAML syntax: {message}")

    if opened is not None and "quoted scalar" in context:
        return at(opened, "a quoted value starts here and is never closed (add the closing "
                          "quote)")
    if opened is not None and problem is not None and "flow" in context:
        closer, kind = ("]", "a list written in [ ]") if "sequence" in context else (
            "}", "a mapping written in { }")
        line = lines[problem.line] if problem.line < len(lines) else ""
        if line[problem.column:problem.column + 1] == ":" and closer in line[problem.column:]:
            start = max(line.rfind(c, 0, problem.column) for c in ",[{") + 1
            end = min((i for i in (line.find(c, problem.column) for c in ",]}") if i >= 0),
                      default=len(line))
            item = line[start:end].strip()
            if closer == "}":
                item = item.partition(": ")[2]  # the value, after its key
            return at(problem, f"a value inside {'[ ]' if closer == ']' else '{ }'} contains "
                               f"': ' (quote this value: \"{item}\")")
        return at(opened, f"{kind} starts here and is never closed (add the closing "
                          f"{closer})")
    runaway = _runaway_quote(text, problem) if problem is not None else None
    if runaway is not None and problem is not None:
        return at(runaway, "the quoted value that starts here runs on to line "
                           f"{problem.line + 1} (add the closing quote on this line)")
    mark = problem or opened
    line_no = mark.line + 1 if mark else None
    col = mark.column + 1 if mark else None
    what = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
    line_text = lines[line_no - 1] if line_no and line_no <= len(lines) else ""
    return Finding(file, line_no, col, "", "error", _syntax_message(what, line_text))


def _runaway_quote(text: str, problem: yaml.Mark) -> yaml.Mark | None:
    """The start of a quoted value that swallowed following lines which look like ``key: value``:
    a quote left open that the next quote in the file happened to close."""
    found: yaml.Mark | None = None
    try:
        for token in yaml.scan(text, Loader=_BaseLoader):
            if token.start_mark.line >= problem.line:
                break
            if (isinstance(token, yaml.ScalarToken) and token.style in ('"', "'")
                    and token.end_mark.line > token.start_mark.line
                    and re.search(r"\n\s*[\w-]+: ", text[token.start_mark.index:
                                                       token.end_mark.index])):
                found = token.start_mark
    except yaml.YAMLError:
        pass  # the tokens up to the error are all this needs
    return found


@dataclass(frozen=True)
class Document:
    """A loaded YAML file: its data, its node tree (for line numbers) and where it came from."""

    file: str
    data: Any
    root: Node | None

    def finding(
        self,
        path: Sequence[PathPart],
        message: str,
        severity: Severity = "error",
        *,
        at_key: bool = False,
    ) -> Finding:
        """A finding located at ``path`` inside this document (at the key itself if asked)."""
        line, column = locate(self.root, path, at_key=at_key)
        return Finding(self.file, line, column, format_path(path), severity, message)


def format_path(path: Sequence[PathPart]) -> str:
    """``("risks", 2, "likelihood")`` → ``risks[2].likelihood``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


def locate(root: Node | None, path: Sequence[PathPart], *, at_key: bool = False) -> tuple[int, int]:
    """1-based line and column of the node at ``path``; the nearest existing ancestor if the path
    leads nowhere (a missing required key is reported on its mapping)."""
    if root is None:
        return 1, 1
    node: Node = root
    key_node: Node | None = None
    for part in path:
        child: Node | None = None
        if isinstance(node, MappingNode):
            for k, v in node.value:
                if isinstance(k, ScalarNode) and k.value == str(part):
                    key_node, child = k, v
                    break
        elif (
            isinstance(node, SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            key_node, child = None, node.value[part]
        if child is None:
            break
        node = child
    else:
        if at_key and key_node is not None:
            node = key_node
    mark = node.start_mark
    return mark.line + 1, mark.column + 1


def _check_depth(root: Node) -> str | None:
    """Refuse nesting deeper than any plan needs (later layers recurse over the data): a value
    at depth MAX_DEPTH (the root at 0). Only collections are walked level by level, as most
    nodes are scalars: a tenth of parsing a plan went into walking them."""
    level: list[Node] = [root]
    for _ in range(MAX_DEPTH - 1):
        level = [child for node in level for child in _children(node)
                 if not isinstance(child, ScalarNode)]
        if not level:
            return None
    if any(node.value for node in level):  # the collections at MAX_DEPTH - 1 hold something
        return f"values are nested more than {MAX_DEPTH} levels deep"
    return None


def _check_shape(root: Node) -> str | None:
    """Refuse documents whose expansion or nesting would exhaust time or memory downstream."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            children = _children(node)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] > MAX_EXPANDED_NODES:
                return (
                    f"the aliases in this file expand to more than {MAX_EXPANDED_NODES:,} values; "
                    "an alias bomb is refused"
                )
            continue
        if key in sizes:
            continue
        if key in on_path:
            return "an alias refers to a value that contains it (a recursive alias)"
        if depth > MAX_DEPTH:
            return f"values are nested more than {MAX_DEPTH} levels deep"
        on_path.add(key)
        stack.append((node, depth, True))
        for child in _children(node):
            if id(child) not in sizes:
                stack.append((child, depth + 1, False))
    return None


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _nests_too_deep(text: str) -> bool:
    """libyaml's composer recurses in C and crashes the interpreter some 30,000 levels down, so a
    text that could nest that deep is first walked as a flat event stream. Nesting needs one
    ``[``, ``{`` or ``-`` a level: a text with few of them cannot be deep and skips the walk."""
    if text.count("[") + text.count("{") + text.count("-") < 10_000:
        return False
    depth = 0
    for event in yaml.parse(text, Loader=_BaseLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return False


def load_text(text: str, file: str) -> tuple[Document | None, list[Finding]]:
    """Parse one YAML document; return it, or None and the findings that prevented it."""
    try:
        if _nests_too_deep(text):
            message = f"values are nested more than {MAX_DEPTH} levels deep"
            return None, [Finding(file, 1, 1, "", "error", message)]
    except yaml.YAMLError:
        pass  # a syntax error: the parse below reports it with its position
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return Document(file, None, None), []
        # Without an alias ('*') nothing is shared, so only the depth needs a look.
        problem = _check_shape(root) if "*" in text else _check_depth(root)
        if problem:
            line, col = root.start_mark.line + 1, root.start_mark.column + 1
            return None, [Finding(file, line, col, "", "error", problem)]
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax_finding(exc, text, file)]
    except yaml.YAMLError as exc:
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        reason = getattr(exc, "reason", None) or "the file is not valid YAML text"
        return None, [Finding(file, line, None, "", "error", f"YAML syntax: {reason}")]
    except RecursionError:
        return None, [Finding(file, None, None, "", "error", "values are nested too deeply")]
    finally:
        loader.dispose()
    doc = Document(file, data, root)
    findings = [
        Finding(
            file,
            node.start_mark.line + 1,
            node.start_mark.column + 1,
            key,
            "error",
            f"duplicate key '{key}': YAML would silently keep only the last one; remove or "
            "rename one of them",
        )
        for node, key in loader.duplicates
    ]
    return doc, findings


def load_bytes(raw: bytes, file: str) -> tuple[Document | None, list[Finding]]:
    """Decode UTF-8 (with or without BOM) and parse; bad bytes are a finding, not a crash."""
    if len(raw) > MAX_FILE_BYTES:
        size = f"{len(raw) / 1024 / 1024:.1f} MiB"
        return None, [Finding(file, None, None, "", "error", f"file too large ({size})")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return None, [
            Finding(file, line, None, "", "error", "not UTF-8 text: save the file as UTF-8")
        ]
    return load_text(text, file)
