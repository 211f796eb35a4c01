"""PDFs: page counts, text, Chinese, reproducible bytes, metadata, and a renderer that fetches
nothing it should not. Rendered once per module: WeasyPrint is the slow part of the suite."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from planforge import fonts, pdf
from planforge.documents import render_document, render_portfolio
from planforge.errors import RenderError
from planforge.validate import load_project
from planforge.workspace import Workspace, find_workspace

from .conftest import AS_OF, REPO, RunCli, copy_examples

pypdf = pytest.importorskip("pypdf")
pytestmark = pytest.mark.pdf


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("ws")
    return find_workspace(copy_examples(root))


@pytest.fixture(scope="module")
def briefs(ws: Workspace) -> dict[str, bytes]:
    out = {}
    for pid in ws.project_ids():
        project, _ = load_project(ws, pid, AS_OF)
        out[pid] = render_document(ws, project, "brief", AS_OF, "pdf")
    return out


@pytest.fixture(scope="module")
def charter(ws: Workspace) -> bytes:
    project, _ = load_project(ws, "acme-crm", AS_OF)
    return render_document(ws, project, "charter", AS_OF, "pdf")


@pytest.fixture(scope="module")
def retro(ws: Workspace) -> bytes:
    project, _ = load_project(ws, "northwind-pipeline-revamp", AS_OF)
    return render_document(ws, project, "retro", AS_OF, "pdf")


def read(data: bytes) -> Any:
    return pypdf.PdfReader(io.BytesIO(data))


def text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in read(data).pages)


def squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def test_every_brief_fits_on_one_or_two_pages(briefs: dict[str, bytes]) -> None:
    assert set(briefs) == set(find_workspace(REPO).project_ids())
    for pid, data in briefs.items():
        assert 1 <= len(read(data).pages) <= 2, pid


def test_brief_key_text_and_footer(briefs: dict[str, bytes]) -> None:
    words = text(briefs["acme-crm"])
    for expected in ("Acme CRM rollout", "Weekly sales brief", "Amber",
                     "What to tell the customer", "Asked of sales", "15 Dec 2026",
                     "Page 1 of 2", "Acme CRM rollout · Weekly sales brief · 20 Nov 2026"):
        assert expected in words, expected


def test_chinese_brief_comes_back_as_chinese_text(briefs: dict[str, bytes]) -> None:
    words = squash(text(briefs["xinghe-market-push"]))
    for expected in ("星河科技华东区下半年市场推广项目", "销售周报", "对客户的沟通要点",
                     "需要销售支持的事项", "截至2026年11月20日", "第1页"):
        assert expected in words, expected


def test_chinese_pdf_embeds_the_simplified_chinese_face(briefs: dict[str, bytes]) -> None:
    fonts: set[str] = set()
    for page in read(briefs["xinghe-market-push"]).pages:
        resources = page["/Resources"]
        for font in resources.get("/Font", {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("CJK-SC" in f for f in fonts), fonts
    assert not any("CJK-JP" in f for f in fonts), fonts


def test_metadata_title_author_subject_and_fixed_dates(briefs: dict[str, bytes]) -> None:
    meta = read(briefs["acme-crm"]).metadata
    assert meta.title == "Acme CRM rollout — Weekly sales brief"
    assert meta.author == "Northwind Delivery Partners"
    assert meta.subject == "Acme CRM rollout — Acme Manufacturing GmbH"
    assert meta["/CreationDate"] == "D:20261120000000Z"
    assert meta["/ModDate"] == "D:20261120000000Z"


def test_headings_become_bookmarks(charter: bytes) -> None:
    titles = [item.title for item in read(charter).outline if not isinstance(item, list)]
    assert "Acme CRM rollout" in titles
    assert any(t.startswith("5. Risks") for t in _flatten(read(charter).outline))


def _flatten(outline: list[Any]) -> list[str]:
    out: list[str] = []
    for item in outline:
        if isinstance(item, list):
            out += _flatten(item)
        else:
            out.append(item.title)
    return out


def test_same_input_same_bytes(ws: Workspace, briefs: dict[str, bytes]) -> None:
    project, _ = load_project(ws, "acme-crm", AS_OF)
    assert render_document(ws, project, "brief", AS_OF, "pdf") == briefs["acme-crm"]


def test_charter_and_retro_text(charter: bytes, retro: bytes) -> None:
    words = text(charter)
    for expected in ("Kickoff charter", "SMART goals", "Risk register", "Sign-off",
                     "€420,000"):
        assert expected in words, expected
    words = text(retro)
    for expected in ("Retrospective", "Milestones — baseline against actual", "+7 days",
                     "€11,500 over budget (7%)", "Actions"):
        assert expected in words, expected


def test_portfolio_pdf(ws: Workspace) -> None:
    projects = [load_project(ws, pid, AS_OF)[0] for pid in ("acme-crm", "globex-portal")]
    data = render_portfolio(ws, "jonas.weber@example.com", projects, AS_OF, "pdf")
    words = text(data)
    assert "For Jonas Weber" in words
    assert words.index("Acme CRM rollout") < words.index("Globex trade portal refresh")


# --- security: nothing is fetched or attached -------------------------------------------


EVIL = '<img src="file:///etc/passwd"> <a rel="attachment" href="file:///etc/passwd">x</a>'


def test_yaml_markup_is_literal_text_and_fetches_nothing(
        examples: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    update = examples / "projects" / "acme-crm" / "updates" / "2026-W47.yaml"
    body = update.read_text("utf-8")
    update.write_text(re.sub(r"summary: >-\n(?:  .*\n)+", f"summary: '{EVIL}'\n", body), "utf-8")
    fetched: list[str] = []
    cls = pdf._fetcher_class()
    original = cls.fetch

    def spy(self: Any, url: str, headers: Any = None) -> Any:
        fetched.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(cls, "fetch", spy)
    ws = find_workspace(examples)
    project, _ = load_project(ws, "acme-crm", AS_OF)
    data = render_document(ws, project, "brief", AS_OF, "pdf")
    assert not any("passwd" in url for url in fetched), fetched
    assert read(data).attachments == {}
    assert squash('<img src="file:///etc/passwd">') in squash(text(data))
    assert b"root:" not in data


def test_fetcher_refuses_everything_but_its_folders(tmp_path: Path) -> None:
    allowed = tmp_path / "templates"
    allowed.mkdir()
    (allowed / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>", "utf-8")
    (tmp_path / "secret.txt").write_text("secret", "utf-8")
    (allowed / "link.txt").symlink_to(tmp_path / "secret.txt")
    fetcher = pdf.make_fetcher([allowed])
    assert fetcher.fetch((allowed / "logo.svg").as_uri()).read().startswith(b"<svg")
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"
    for url in ((tmp_path / "secret.txt").as_uri(), (allowed / "link.txt").as_uri(),
                (allowed / ".." / "secret.txt").as_uri(), "file:///etc/passwd",
                "http://127.0.0.1:9/x.png", "https://example.com/x.png",
                "ftp://example.com/x", "file://otherhost/etc/passwd"):
        with pytest.raises(ValueError, match="does not fetch"):
            fetcher.fetch(url)


def test_raw_html_cannot_attach_local_files(tmp_path: Path) -> None:
    """Defence in depth: even markup a template itself wrote cannot pull in a local file."""
    html = (f"<html><body><p>hello</p>{EVIL}<link rel='attachment' href='file:///etc/hostname'>"
            "<img src='http://127.0.0.1:9/x.png'></body></html>")
    meta = pdf.PdfMetadata("t", "a", "s", "en", AS_OF)
    data = pdf.html_to_pdf(html, meta, base_dir=tmp_path, roots=[])
    assert read(data).attachments == {}
    assert b"root:" not in data


def test_a_missing_font_is_a_clear_error(ws: Workspace, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """No silent fallback to another font: every PDF needs every required font file."""
    gone = replace(fonts.REQUIRED[0], path=tmp_path / "LiberationSans-Regular.ttf")
    monkeypatch.setattr(fonts, "REQUIRED", (gone, *fonts.REQUIRED[1:]))
    english, _ = load_project(ws, "globex-portal", AS_OF)
    with pytest.raises(RenderError, match=r"PDF fonts missing: Liberation Sans Regular \(.*\); "
                                          r"install them with: apt-get install fonts-liberation$"):
        render_document(ws, english, "brief", AS_OF, "pdf")


def test_cli_writes_pdf_to_the_output_folder(examples: Path, run_cli: RunCli) -> None:
    result = run_cli("render", "brief", "globex-portal", "--week", "2026-W47", "--format", "pdf",
                     cwd=examples)
    assert result.exit_code == 0, result.output
    path = examples / "output" / "globex-portal" / "briefs" / "2026-W47.pdf"
    assert path.read_bytes().startswith(b"%PDF")
    assert "wrote output/globex-portal/briefs/2026-W47.pdf" in result.output
    assert not list(path.parent.glob(".*.tmp"))
