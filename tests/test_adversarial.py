"""An adversarial corpus: payloads in every free-text field of a plan and an update, through
every format planforge writes (Markdown, HTML, PDF, email). Nothing may execute, leak, fetch or
be written outside the output folder, and each payload must arrive as the text it is."""

from __future__ import annotations

import email
import re
from email import policy
from itertools import cycle
from pathlib import Path
from typing import Any

import pytest
import tinycss2
import yaml
from pypdf import PdfReader

from .conftest import RunCli
from .test_hardening import _tokens

pytestmark = pytest.mark.slow  # renders every document as PDF

PAYLOADS = [
    "<script>alert(1)</script>",
    "{{ 7*7 }} {{ cycler.__init__.__globals__.os.system('touch PWNED') }}",
    "{% include '/etc/passwd' %}",
    "</style><style>body{background:url(http://127.0.0.1:9/x)}</style>",
    "Acme\r} @page{@top-center{content:'PWNED'}} x{",
    "=?utf-8?q?=0D=0ABcc=3A_evil=40example=2Ecom?=",
    "[click](javascript:alert(1)) ![x](file:///etc/passwd)",
    "| a | b |\n|---|---|\n| c | d |",
    '<img src="file:///etc/passwd"> <a href="javascript:alert(1)">x</a>',
    "%%{init: {'theme':'dark'}}%% click A call alert()",
    "::error title=x::pwned",
    "\u202eevil\u202c \x0c form feed",
]

#: Keys whose values are text people write, in plans and updates.
FREE_TEXT = {"name", "customer", "summary", "title", "mitigation", "contingency", "trigger",
             "customer_message", "purpose", "reason", "ask", "feedback", "response", "role",
             "team", "area", "metric", "why", "channel", "from"}
#: Lists of sentences.
FREE_LISTS = {"in", "out", "acceptance", "done", "next", "blockers", "talking_points",
              "decisions", "agenda", "channels", "norms"}


def _poison(node: Any, payloads: Any, key: str = "") -> Any:
    if isinstance(node, dict):
        return {k: _poison(v, payloads, str(k)) for k, v in node.items()}
    if isinstance(node, list):
        if key in FREE_LISTS:
            return [next(payloads) if isinstance(v, str) else _poison(v, payloads)
                    for v in node]
        return [_poison(v, payloads) for v in node]
    if isinstance(node, str) and key in FREE_TEXT:
        return next(payloads)
    return node


def _rewrite(path: Path, payloads: Any) -> None:
    data = yaml.safe_load(path.read_text("utf-8"))
    path.write_text(yaml.safe_dump(_poison(data, payloads), allow_unicode=True,
                                   sort_keys=False), "utf-8")


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in root.rglob("*") if p.is_file() and not p.is_symlink()}



def _without_own_script(page: str) -> tuple[str, str]:
    """The page without its last ``<script>`` element, and that script's text."""
    start = page.rindex("<script>")
    end = page.index("</script>", start) + len("</script>")
    return page[:start] + page[end:], page[start:end]


def test_payloads_in_every_field_stay_text(examples: Path, run_cli: RunCli,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    payloads = cycle(PAYLOADS)
    project = examples / "projects" / "acme-crm"
    _rewrite(project / "project.yaml", payloads)
    _rewrite(project / "updates" / "2026-W47.yaml", payloads)
    monkeypatch.setenv("PLANFORGE_SMTP_PASSWORD", "hunter2-secret")
    before = _snapshot(examples.parent)
    checked = run_cli("validate", "projects/acme-crm", "--as-of", "2026-11-20", cwd=examples)
    assert "Traceback" not in checked.output
    assert checked.exit_code == 0, checked.output

    built = run_cli("build", "acme-crm", "--as-of", "2026-11-20", "--jobs", "1", cwd=examples)
    assert built.exit_code == 0, built.output
    sent = run_cli("send", "--dry-run", "--week", "2026-W47", cwd=examples)
    assert sent.exit_code == 0, sent.output

    after = _snapshot(examples.parent)
    changed = {name for name in after if before.get(name) != after[name]}
    assert changed and all(name.startswith("ws/output/") for name in changed), changed
    out = examples / "output"
    assert not list(examples.parent.rglob("PWNED"))
    everything = b"".join(after[name] for name in changed)
    assert b"hunter2" not in everything and b"root:x:" not in everything

    for path in out.rglob("*.html"):
        page = path.read_text("utf-8")
        if path == out / "index.html":
            # The dashboard's own filter script, the one script of any page: no data inside it.
            page, script = _without_own_script(page)
            assert "alert" not in script and "PWNED" not in script
        assert "<script" not in page.lower(), path
        assert not re.search(r"""<[a-z][^<>]*\s(href|src)\s*=\s*["']?\s*(javascript|file):""",
                             page, re.I), path
        assert page.count("</style>") == page.count("<style>"), path
        for style in re.findall(r"<style>(.*?)</style>", page, re.S):
            tokens = _tokens(tinycss2.parse_stylesheet(style, skip_comments=True))
            urls = [t.value for t in tokens if t.type == "url"] + [
                tinycss2.serialize(t.arguments) for t in tokens
                if t.type == "function" and t.lower_name == "url"]
            assert all(u.strip("'\" ").startswith("data:") for u in urls), (path, urls)
        if "acme-crm/briefs" in path.as_posix():
            assert "{{ 7*7 }}" in page  # shown as written, not evaluated

    for path in out.rglob("*.md"):
        # Outside code blocks: a Mermaid block is text for Mermaid, which encodes it itself.
        page = re.sub(r"^```.*?^```", "", path.read_text("utf-8"), flags=re.S | re.M)
        assert not re.search(r"(?<!\\)\]\(javascript:", page), path
        assert not re.search(r"(?<!\\)<script", page), path  # \< is a literal '<'

    for path in out.rglob("*.pdf"):
        reader = PdfReader(path)
        assert reader.attachments == {}
        for page in reader.pages:
            for annot in page.get("/Annots") or []:
                uri = str(annot.get_object().get("/A", {}).get("/URI", ""))
                assert not uri.startswith(("javascript:", "file:")), (path, uri)

    messages = list((out / "outbox").rglob("*.eml"))
    assert messages
    for path in messages:
        raw = path.read_bytes()
        head = raw.split(b"\r\n\r\n", 1)[0]
        assert head.isascii()
        msg = email.message_from_bytes(raw, policy=policy.default)
        assert msg["Bcc"] is None
        assert set(msg.keys()) <= {"From", "To", "Reply-To", "Subject", "Date", "Message-ID",
                                   "Auto-Submitted", "Content-Type", "MIME-Version"}


def test_entity_text_reads_as_written_in_every_format(examples: Path, run_cli: RunCli) -> None:
    plan = examples / "projects" / "acme-crm" / "project.yaml"
    plan.write_text(plan.read_text("utf-8").replace(
        "name: Acme CRM rollout", 'name: "Acme &amp; CRM rollout"', 1), "utf-8")
    built = run_cli("build", "acme-crm", "--as-of", "2026-11-20", "--jobs", "1", cwd=examples)
    assert built.exit_code == 0, built.output
    assert run_cli("send", "--dry-run", "--week", "2026-W47", cwd=examples).exit_code == 0
    out = examples / "output" / "acme-crm"
    # What the reader sees: Markdown and HTML show "&amp;amp;" as "&amp;".
    assert "# Acme &amp;amp; CRM rollout" in (out / "charter.md").read_text("utf-8")
    assert "Acme &amp;amp; CRM rollout" in (out / "charter.html").read_text("utf-8")
    for pdf in (out / "charter.pdf", out / "briefs" / "2026-W47.pdf"):
        text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
        assert "Acme &amp; CRM rollout" in text, pdf
    raw = (examples / "output" / "outbox" / "2026-W47" / "jonas.weber@example.com.eml").read_bytes()
    msg = email.message_from_bytes(raw, policy=policy.default)
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert plain is not None and html is not None
    assert "Acme &amp; CRM rollout" in plain.get_content()
    assert "Acme &amp;amp; CRM rollout" in html.get_content()
