"""The template contract: every field a built-in template uses is a field of its view, and the
views and ``templates/README.md`` list the same fields with the same types.

Workspace templates depend on the contract, so a built-in template must not use anything the
README does not promise. The templates are read as Jinja syntax trees: each expression's type
is followed from ``v`` and ``doc`` through loops, ``set`` and macro calls.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Iterator
from typing import Any

import jinja2
import jinja2.meta
import pytest
from jinja2 import nodes
from jinja2.defaults import DEFAULT_FILTERS, DEFAULT_NAMESPACE

from planforge.documents import views
from planforge.render import environment

from .conftest import REPO

README = REPO / "templates" / "README.md"
ROOTS: dict[str, type] = {
    "charter.md.j2": views.CharterView,
    "charter.html.j2": views.CharterView,
    "brief.md.j2": views.BriefView,
    "brief.html.j2": views.BriefView,
    "partials/brief_body.md.j2": views.BriefView,
    "partials/brief_body.html.j2": views.BriefView,
    "retro.md.j2": views.RetroView,
    "retro.html.j2": views.RetroView,
    "portfolio.md.j2": views.PortfolioView,
    "portfolio.html.j2": views.PortfolioView,
    "email.txt.j2": views.EmailView,
    "email.html.j2": views.EmailView,
    "index.html.j2": views.IndexView,
}
#: What a template may name besides the view and the metadata: the labels and Jinja's own.
GLOBALS = {"v", "doc", "label", "has_label", "locale", *DEFAULT_NAMESPACE}


# --- the contract as documented -----------------------------------------------------------------


def _contract_section() -> str:
    text = README.read_text("utf-8")
    start = text.index("## The template contract")
    return text[start:text.index("\n## ", start + 1)]


def _cells(line: str) -> list[str]:
    # A `\|` inside a cell is a pipe of the type (str \| None), not a column break.
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def documented() -> dict[str, dict[str, str]]:
    """Record name -> field -> type, from the README's tables under "### `Record`"."""
    records: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in _contract_section().splitlines():
        heading = re.fullmatch(r"### `(\w+)`", line)
        if heading:
            current = records.setdefault(heading[1], {})
        elif line.startswith("### "):
            current = None
        elif current is not None and line.startswith("| `"):
            name, kind, _meaning = _cells(line)
            current[name.strip("`")] = kind.strip("`")
    return records


def documented_names() -> set[str]:
    """The globals and filters named in the README's "Labels and filters" table."""
    section = _contract_section()
    table = section[section.index("### Labels and filters"):]
    found = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            cell = _cells(line)[0].strip("`")
            found.add(re.match(r"\w+", cell.removeprefix("value | "))[0])  # type: ignore[index]
    return found


# --- the contract as built ----------------------------------------------------------------------


def _records(cls: type, seen: dict[str, type]) -> None:
    if cls.__name__ in seen:
        return
    seen[cls.__name__] = cls
    for hint in typing.get_type_hints(cls).values():
        for inner in _inner_types(hint):
            if dataclasses.is_dataclass(inner):
                _records(inner, seen)


def _inner_types(hint: Any) -> Iterator[Any]:
    yield hint
    for arg in typing.get_args(hint):
        yield from _inner_types(arg)


def built() -> dict[str, type]:
    """Every record reachable from the views and the metadata, by name."""
    seen: dict[str, type] = {}
    for root in (views.DocMeta, *ROOTS.values()):
        _records(root, seen)
    return seen


# --- walking the templates ----------------------------------------------------------------------


class _Loop:
    """The type of Jinja's ``loop`` variable."""


class _Module:
    """An imported template: its macros by name."""

    def __init__(self, name: str, macros: dict[str, nodes.Macro]) -> None:
        self.name, self.macros = name, macros


class _MacroRef:
    def __init__(self, module: _Module, macro: nodes.Macro) -> None:
        self.module, self.macro = module, macro


def _plain(hint: Any) -> Any:
    """``X | None`` -> ``X``."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        rest = [a for a in typing.get_args(hint) if a is not type(None)]
        return rest[0] if len(rest) == 1 else None
    return hint


def _element(hint: Any) -> Any:
    hint = _plain(hint)
    if typing.get_origin(hint) is tuple:
        return typing.get_args(hint)[0]
    return None


class Checker:
    """Follows the types of ``v`` and ``doc`` through the built-in templates."""

    def __init__(self) -> None:
        self.env = environment(None, "en")
        self.used: set[tuple[str, str]] = set()
        self.errors: list[str] = []
        self.seen: set[str] = set()
        self._macros_done: set[tuple[int, tuple[Any, ...]]] = set()
        self._where = ""

    def parse(self, name: str) -> nodes.Template:
        assert self.env.loader is not None
        source = self.env.loader.get_source(self.env, name)[0]
        self.seen.add(name.removeprefix("builtin:"))
        return self.env.parse(source, name)

    def template(self, name: str, scope: dict[str, Any]) -> None:
        tree = self.parse(name)
        # Blocks are scopes of their own: Jinja counts the template's imports and macros as
        # free in them.
        imports = {node.target for node in tree.find_all(nodes.Import)}
        imports |= {node.name for node in tree.body if isinstance(node, nodes.Macro)}
        free = jinja2.meta.find_undeclared_variables(tree) - GLOBALS - imports
        if free:
            self.errors.append(f"{name}: names outside the contract: {sorted(free)}")
        outer, self._where = self._where, name
        # Macros of the template itself are checked where they are called, as imported ones.
        own = _Module(name, {m.name: m for m in tree.body if isinstance(m, nodes.Macro)})
        self.body(tree.body, {**scope, "__module__": own, **own.macros})
        self._where = outer

    def body(self, stmts: list[nodes.Node], scope: dict[str, Any]) -> None:
        for stmt in stmts:
            self.stmt(stmt, scope)

    def stmt(self, node: nodes.Node, scope: dict[str, Any]) -> None:
        if isinstance(node, nodes.Extends | nodes.Include):
            assert isinstance(node.template, nodes.Const)
            self.template(node.template.value, scope)
        elif isinstance(node, nodes.Import):
            assert isinstance(node.template, nodes.Const)
            scope[node.target] = self.module(node.template.value)
        elif isinstance(node, nodes.For):
            inner = dict(scope)
            self.bind(node.target, _element(self.expr(node.iter, scope)), inner)
            inner["loop"] = _Loop()
            if node.test is not None:
                self.expr(node.test, inner)
            self.body(node.body, inner)
            self.body(node.else_, scope)
        elif isinstance(node, nodes.Assign):
            self.bind(node.target, self.expr(node.node, scope), scope)
        elif isinstance(node, nodes.CallBlock):
            self.expr(node.call, scope)
            self.body(node.body, scope)
        elif isinstance(node, nodes.Macro):
            pass  # checked where it is called, with the types of its arguments
        else:
            for child in node.iter_child_nodes():
                if isinstance(child, nodes.Expr):
                    self.expr(child, scope)
                else:
                    self.stmt(child, scope)

    def bind(self, target: nodes.Node, hint: Any, scope: dict[str, Any]) -> None:
        if isinstance(target, nodes.Name):
            scope[target.name] = hint
        else:
            for name in target.find_all(nodes.Name):
                scope[name.name] = None

    def module(self, name: str) -> _Module:
        tree = self.parse(name)
        return _Module(name, {m.name: m for m in tree.find_all(nodes.Macro)})

    def field(self, hint: Any, attr: str, node: nodes.Node) -> Any:
        cls = _plain(hint)
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            return None
        hints = typing.get_type_hints(cls)
        if attr not in hints:
            self.errors.append(f"{self._where}:{node.lineno}: {cls.__name__} has no field "
                               f"'{attr}'")
            return None
        self.used.add((cls.__name__, attr))
        return hints[attr]

    def expr(self, node: nodes.Node, scope: dict[str, Any]) -> Any:
        if isinstance(node, nodes.Name):
            return scope.get(node.name)
        if isinstance(node, nodes.Getattr):
            base = self.expr(node.node, scope)
            if isinstance(base, _Module) and node.attr in base.macros:
                return _MacroRef(base, base.macros[node.attr])
            return self.field(base, node.attr, node)
        if isinstance(node, nodes.Getitem):
            base = self.expr(node.node, scope)
            if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                return self.field(base, node.arg.value, node)
            self.expr(node.arg, scope)
            return _element(base)
        if isinstance(node, nodes.Filter) and node.name == "map":
            assert node.node is not None
            element = _element(self.expr(node.node, scope))
            for kw in node.kwargs:
                if kw.key == "attribute" and isinstance(kw.value, nodes.Const):
                    self.field(element, kw.value.value, node)
            return None
        if isinstance(node, nodes.Call):
            return self.call(node, scope)
        for child in node.iter_child_nodes():
            self.expr(child, scope)
        return None

    def call(self, node: nodes.Call, scope: dict[str, Any]) -> Any:
        target = self.expr(node.node, scope)
        args = [self.expr(a, scope) for a in node.args]
        kwargs = {kw.key: self.expr(kw.value, scope) for kw in node.kwargs}
        for extra in (node.dyn_args, node.dyn_kwargs):
            if extra is not None:
                self.expr(extra, scope)
        if isinstance(target, nodes.Macro):
            target = _MacroRef(scope["__module__"], target)
        if isinstance(target, _MacroRef):
            self.macro(target, args, kwargs)
        return None

    def macro(self, ref: _MacroRef, args: list[Any], kwargs: dict[str, Any]) -> None:
        params = [a.name for a in ref.macro.args]
        bound = dict(zip(params, args, strict=False)) | kwargs
        key = (id(ref.macro), tuple(bound.get(p) for p in params))
        if key in self._macros_done:
            return
        self._macros_done.add(key)
        # A macro sees its arguments and its own module's macros, not the caller's context.
        scope: dict[str, Any] = {"__module__": ref.module, **ref.module.macros}
        scope.update({p: bound.get(p) for p in params})
        outer, self._where = self._where, ref.module.name
        self.body(ref.macro.body, scope)
        self._where = outer


@pytest.fixture(scope="module")
def checker() -> Checker:
    check = Checker()
    for name, view in ROOTS.items():
        check.template(name, {"v": view, "doc": views.DocMeta})
    return check


# --- the tests ----------------------------------------------------------------------------------


def test_builtin_templates_use_only_documented_fields(checker: Checker) -> None:
    assert checker.errors == []
    contract = documented()
    missing = sorted(f"{record}.{field}" for record, field in checker.used
                     if field not in contract.get(record, {}))
    assert missing == [], "used by a built-in template but not in templates/README.md"


def test_every_builtin_template_is_checked(checker: Checker) -> None:
    builtin = {p.relative_to(REPO / "templates").as_posix()
               for p in (REPO / "templates").rglob("*.j2")}
    assert builtin - checker.seen == set()


def test_the_readme_documents_every_field_of_every_view() -> None:
    records = built()
    contract = documented()
    assert sorted(contract) == sorted(records)
    for name, cls in records.items():
        fields = {f.name: str(f.type) for f in dataclasses.fields(cls)}
        assert contract[name] == fields, f"templates/README.md on {name}"


def test_the_readme_documents_every_filter_and_global() -> None:
    env = environment(None, "en")
    ours = (set(env.filters) - set(DEFAULT_FILTERS)) | (set(env.globals) - set(DEFAULT_NAMESPACE))
    assert ours == documented_names()


def test_a_field_missing_from_the_contract_is_caught() -> None:
    check = Checker()
    check._where = "test"
    tree = check.env.parse("{% for m in v.milestones %}{{ m.milestone.name }}{% endfor %}")
    check.body(tree.body, {"v": views.BriefView})
    assert check.errors == ["test:1: MilestoneRow has no field 'milestone'"]
