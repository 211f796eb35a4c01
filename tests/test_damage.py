"""Random damage to a valid project always ends in findings or success, never an exception."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planforge.errors import InvalidFilesError
from planforge.facts import compute_facts
from planforge.schema import is_valid, validator
from planforge.validate import load_project, validate_paths
from planforge.workspace import find_workspace

from .conftest import AS_OF

BASE = Path(__file__).parent / "data" / "base"
PLAN = BASE / "projects" / "demo" / "project.yaml"
PLAN_TEXT = PLAN.read_text("utf-8")


class _KeepStrings(yaml.SafeLoader):
    """Dates stay strings, so the damaged data can be dumped back as the user wrote it."""


_KeepStrings.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
PLAN_DATA = yaml.load(PLAN_TEXT, Loader=_KeepStrings)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
    st.text(max_size=20), st.sampled_from(["2026-02-30", "2026-13-01", "no", "pm", "m1", "t1",
                                           "09:30", "", "first monday", "2026-W53"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8),
                                                                       inner, max_size=3)),
                      max_leaves=8)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


ALL_PATHS = [p for p in _paths(PLAN_DATA) if p]


def _damage(data: Any, path: tuple[Any, ...], how: str, value: Any) -> Any:
    import copy

    data = copy.deepcopy(data)
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if how == "delete":
        del parent[last]
    elif how == "rename" and isinstance(parent, dict):
        parent[f"{last}x"] = parent.pop(last)
    elif how == "nest":
        wrapped = parent[last]
        for _ in range(40):
            wrapped = [wrapped]
        parent[last] = wrapped
    else:
        parent[last] = value
    return data


@contextmanager
def _workspace(plan: bytes) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        shutil.copytree(BASE, root)
        (root / "projects" / "demo" / "project.yaml").write_bytes(plan)
        yield root


def _check(plan: bytes) -> None:
    with _workspace(plan) as root:
        ws = find_workspace(root)
        findings, _ = validate_paths(ws, [], AS_OF)
        errors = [f for f in findings if f.severity == "error"]
        try:
            project, _ = load_project(ws, "demo", AS_OF)
        except InvalidFilesError as exc:
            assert errors, "load_project failed although validate found no error"
            assert exc.findings
            return
        assert not errors
        compute_facts(project, AS_OF, ws.settings)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(ALL_PATHS),
    how=st.sampled_from(["delete", "rename", "replace", "nest"]),
    value=values,
)
def test_structural_damage(path: tuple[Any, ...], how: str, value: Any) -> None:
    damaged = _damage(PLAN_DATA, path, how, value)
    _check(yaml.safe_dump(damaged, allow_unicode=True).encode("utf-8"))


@settings(max_examples=100, deadline=None)
@given(
    cut=st.integers(0, len(PLAN_TEXT.encode("utf-8"))),
    garbage=st.binary(max_size=12),
    keep_tail=st.booleans(),
)
def test_byte_damage(cut: int, garbage: bytes, keep_tail: bool) -> None:
    raw = PLAN_TEXT.encode("utf-8")
    _check(raw[:cut] + garbage + (raw[cut:] if keep_tail else b""))


@settings(max_examples=300, deadline=None)
@given(
    path=st.sampled_from(ALL_PATHS),
    how=st.sampled_from(["delete", "rename", "replace", "nest"]),
    value=values,
)
def test_fast_schema_check_never_accepts_what_jsonschema_refuses(
    path: tuple[Any, ...], how: str, value: Any
) -> None:
    damaged = _damage(PLAN_DATA, path, how, value)
    # The fast check may be stricter (jsonschema then finds nothing and nothing is reported);
    # it must never let through what jsonschema would report.
    if is_valid(damaged, "project"):
        assert not list(validator("project").iter_errors(damaged))
