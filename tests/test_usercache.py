"""The per-user cache: an entry is reused only for the same inputs, and no cache folder only
means the work is done again."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from planforge import usercache


@pytest.fixture()
def cache_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PLANFORGE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_the_same_key_is_compiled_once(cache_root: Path) -> None:
    made: list[str] = []

    def source(value: int) -> str:
        made.append(str(value))
        return f"RESULT = {value}\n"

    for _ in range(2):
        namespace: dict[str, object] = {}
        exec(usercache.compiled_code("t", "key-1", lambda: source(1), "<t>"), namespace)
        assert namespace["RESULT"] == 1
    assert made == ["1"]
    assert len(list((cache_root / "t").glob("*.bin"))) == 1


def test_another_key_is_compiled_again(cache_root: Path) -> None:
    made: list[str] = []
    for value in (1, 2):
        namespace: dict[str, object] = {}

        def source(v: int = value) -> str:
            made.append(str(v))
            return f"RESULT = {v}\n"

        exec(usercache.compiled_code("t", f"key-{value}", source, "<t>"), namespace)
        assert namespace["RESULT"] == value
    assert made == ["1", "2"]


def test_a_damaged_entry_is_compiled_again(cache_root: Path) -> None:
    usercache.compiled_code("t", "key", lambda: "RESULT = 1\n", "<t>")
    (entry,) = (cache_root / "t").glob("*.bin")
    entry.write_bytes(b"not bytecode")
    namespace: dict[str, object] = {}
    exec(usercache.compiled_code("t", "key", lambda: "RESULT = 1\n", "<t>"), namespace)
    assert namespace["RESULT"] == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_a_folder_that_cannot_be_written_is_no_error(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    tmp_path.chmod(0o500)
    monkeypatch.setenv("PLANFORGE_CACHE", str(tmp_path / "cache"))
    try:
        assert usercache.cache_dir("t") is None
        namespace: dict[str, object] = {}
        exec(usercache.compiled_code("t", "key", lambda: "RESULT = 3\n", "<t>"), namespace)
        assert namespace["RESULT"] == 3
    finally:
        tmp_path.chmod(0o700)


def test_a_changed_schema_or_generator_is_compiled_again(
        cache_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fastjsonschema

    from planforge import schema

    changed = {"type": "object", "required": ["extra"]}
    runs = [("update", None, None), ("update", changed, None), ("update", changed, "0.0.1")]
    try:
        for count, (name, replaced, version) in enumerate(runs, start=1):
            schema._FAST.clear()
            if replaced is not None:  # a changed schema file: its text, and so what it parses to
                monkeypatch.setattr(schema, "schema_text", lambda _name, r=replaced: json.dumps(r))
                monkeypatch.setattr(schema, "_schema", lambda _name, r=replaced: r)
            if version is not None:
                monkeypatch.setattr(fastjsonschema, "VERSION", version)
            check = schema._fast_check(name)
            assert len(list((cache_root / "schemas").glob("*.bin"))) == count
        with pytest.raises(fastjsonschema.JsonSchemaException, match="extra"):
            check({})
    finally:
        schema._FAST.clear()


def test_an_edited_template_is_compiled_again(cache_root: Path, tmp_path: Path) -> None:
    from planforge import render
    from planforge.i18n import translator

    render._bytecode_cache.cache_clear()
    folder = tmp_path / "templates"
    folder.mkdir()
    page = folder / "note.md.j2"
    try:
        for text in ("first {{ 1 + 1 }}", "second {{ 2 + 2 }}"):
            page.write_text(text, "utf-8")
            env = render.make_environment(folder, translator("en", folder))
            assert env.bytecode_cache is not None
            assert render.render_template(env, "note.md.j2", {}) == text.split()[0] + (
                " 2" if text.startswith("first") else " 4")
        assert len(list((cache_root / "templates").glob("*/*.cache"))) == 1
    finally:
        render._bytecode_cache.cache_clear()


def test_a_cache_turned_off_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    monkeypatch.setenv("PLANFORGE_CACHE", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert usercache.cache_dir("t") is None
    namespace: dict[str, object] = {}
    exec(usercache.compiled_code("t", "key", lambda: "RESULT = 4\n", "<t>"), namespace)
    assert namespace["RESULT"] == 4
    assert list(tmp_path.iterdir()) == []


def test_a_process_uses_the_kept_fast_check_from_its_first_document(cache_root: Path) -> None:
    """Once the compiled check is in the cache, a new process checks even its first document
    with it, and never imports jsonschema while every file is valid; an invalid one still gets
    jsonschema's precise finding."""
    import subprocess
    import sys

    from planforge import schema

    schema._FAST.pop("update", None)
    assert schema._fast_check("update", compile_now=False) is None  # nothing kept yet
    assert schema._fast_check("update") is not None  # compiled, and kept
    schema._FAST.pop("update")
    assert schema._fast_check("update", compile_now=False) is not None  # read back
    script = (
        "import sys\n"
        "from planforge.schema import check_document\n"
        "from planforge.yamlio import load_text\n"
        "good, _ = load_text('week: 2026-W47\\nhealth: green\\nsummary: Fine.\\n', 'u.yaml')\n"
        "print(check_document(good, 'update'), 'jsonschema' in sys.modules)\n"
        "bad, _ = load_text('week: 2026-W47\\nhealth: purple\\nsummary: x\\n', 'u.yaml')\n"
        "print(check_document(bad, 'update')[0].message, 'jsonschema' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, env={**os.environ, "PLANFORGE_CACHE": str(cache_root)})
    first, second = done.stdout.splitlines()
    assert first == "[] False"
    assert "purple" in second and second.endswith(" True")


def test_a_process_that_checks_many_documents_keeps_every_kind_it_checked(
        cache_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """planforge.yaml is one document per process: the process that compiles the update check
    (after COMPILE_AFTER updates) keeps the workspace check too, for the short processes."""
    from collections import Counter

    from planforge import schema
    from planforge.yamlio import load_text

    monkeypatch.setattr(schema, "_checked", Counter())
    monkeypatch.setattr(schema, "_FAST", {})
    settings, _ = load_text("timezone: Europe/Berlin\n", "planforge.yaml")
    update, _ = load_text("week: 2026-W47\nhealth: green\nsummary: Fine.\n", "u.yaml")
    assert settings is not None and update is not None
    assert schema.check_document(settings, "workspace") == []
    for _ in range(schema.COMPILE_AFTER):
        assert schema.check_document(update, "update") == []
    assert not (cache_root / "schemas").exists() or not any((cache_root / "schemas").iterdir())
    assert schema.check_document(update, "update") == []  # the 17th: compiles both
    monkeypatch.setattr(schema, "_FAST", {})  # as a new process
    assert schema._fast_check("workspace", compile_now=False) is not None
    assert schema._fast_check("update", compile_now=False) is not None
