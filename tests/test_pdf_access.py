"""What the PDFs claim about accessibility and archiving, read back with pypdf, and the reading
order a text extractor finds (``pdftotext`` in its default mode)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from planforge import pdf
from planforge.documents import render_document
from planforge.validate import load_project
from planforge.workspace import Workspace, find_workspace

from .conftest import AS_OF, REPO, copy_examples

pypdf = pytest.importorskip("pypdf")
pytestmark = pytest.mark.pdf

PDFUAID = "http://www.aiim.org/pdfua/ns/id/"
PDFAID = "http://www.aiim.org/pdfa/ns/id/"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("ws")
    return find_workspace(copy_examples(root))


def render(ws: Workspace, kind: str, pid: str) -> bytes:
    project, _ = load_project(ws, pid, AS_OF)
    return render_document(ws, project, kind, AS_OF, "pdf")


@pytest.fixture(scope="module")
def brief(ws: Workspace) -> bytes:
    return render(ws, "brief", "acme-crm")


@pytest.fixture(scope="module")
def charter(ws: Workspace) -> bytes:
    return render(ws, "charter", "acme-crm")


def catalog(data: bytes) -> Any:
    return pypdf.PdfReader(io.BytesIO(data)).trailer["/Root"]


def xmp(data: bytes) -> Any:
    meta = pypdf.PdfReader(io.BytesIO(data)).xmp_metadata
    assert meta is not None
    return meta


def claim(data: bytes, namespace: str, name: str) -> str | None:
    """A property of the XMP identification schemas, wherever its description holds it."""
    for node in xmp(data).rdf_root.getElementsByTagNameNS(
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "Description"):
        if node.hasAttributeNS(namespace, name):
            return str(node.getAttributeNS(namespace, name))
    return None


def struct_elements(data: bytes) -> list[Any]:
    """Every element of the structure tree, depth first."""
    out: list[Any] = []

    def walk(node: Any) -> None:
        node = node.get_object()
        if isinstance(node, pypdf.generic.DictionaryObject):
            if node.get("/Type") == "/StructElem":
                out.append(node)
            kids = node.get("/K")
            if kids is not None:
                kids = kids.get_object()
                for kid in kids if isinstance(kids, pypdf.generic.ArrayObject) else [kids]:
                    if not isinstance(kid, pypdf.generic.NumberObject):
                        walk(kid)

    walk(catalog(data)["/StructTreeRoot"])
    return out


def test_every_pdf_is_tagged_and_claims_pdf_ua(brief: bytes) -> None:
    root = catalog(brief)
    assert "/StructTreeRoot" in root
    assert bool(root["/MarkInfo"]["/Marked"])
    assert root["/Lang"] == "en"
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert pypdf.PdfReader(io.BytesIO(brief)).metadata.title == \
        "Acme CRM rollout — Weekly sales brief"
    assert claim(brief, PDFUAID, "part") == "1"
    assert claim(brief, PDFAID, "part") is None  # the brief is not archived


def test_the_archived_charter_claims_pdf_a_and_pdf_ua(charter: bytes) -> None:
    root = catalog(charter)
    assert claim(charter, PDFAID, "part") == "2"
    assert claim(charter, PDFAID, "conformance") == "B"
    assert claim(charter, PDFUAID, "part") == "1"
    # PDF/A admits pdfuaid only when the file declares it as an extension schema.
    assert b"pdfaExtension:schemas" in root["/Metadata"].get_object().get_data()
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    assert "/StructTreeRoot" in root and bool(root["/MarkInfo"]["/Marked"])


def test_a_chinese_brief_states_its_language(ws: Workspace) -> None:
    data = render(ws, "brief", "xinghe-market-push")
    assert catalog(data)["/Lang"] == "zh-CN"
    assert claim(data, PDFUAID, "part") == "1"


def test_table_headers_are_tagged_with_their_cells(brief: bytes) -> None:
    elements = struct_elements(brief)
    headers = [e for e in elements if e["/S"] == "/TH"]
    cells = [e for e in elements if e["/S"] == "/TD"]
    assert headers and cells
    assert all(e.get("/ID") for e in headers)
    assert all(len(e["/A"]["/Headers"]) > 0 for e in cells)
    # The two columns are blocks, not a layout table read as data: no heading in a table.
    for heading in (e for e in elements if e["/S"] in ("/H2", "/H3")):
        node = heading
        while node.get("/Type") == "/StructElem":
            assert node["/S"] not in ("/Table", "/TD"), "a heading inside a table"
            node = node["/P"].get_object()


def test_the_schedule_says_in_words_what_it_shows(charter: bytes) -> None:
    figures = [e for e in struct_elements(charter) if e["/S"] == "/Figure"]
    alts = [str(e.get("/Alt", "")) for e in figures]
    schedule = next(a for a in alts if a.startswith("Schedule:"))
    assert ("milestone Build complete, solution walkthrough with Acme key users, baseline "
            "4 Dec 2026, forecast 15 Dec 2026, Slipping (+11 days)") in schedule
    assert "milestone Kickoff workshop held at Acme, baseline 5 Aug 2026, done 5 Aug 2026, " \
        "Done on time" in schedule
    assert any(a.startswith("Risk heat map:") and "R2" in a for a in alts)
    assert all(alts), "every figure has a text alternative"


def pdftotext(data: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_text_extraction_reads_each_column_whole(brief: bytes, tmp_path: Path) -> None:
    out = pdftotext(brief, tmp_path)
    tell, dates = out.index("What to tell the customer"), out.index("Next customer-facing dates")
    assert tell < dates
    between = out[tell:dates]
    # Every talking point comes before the first date, none of the dates among them.
    assert "Orders and invoices from your SAP system" in between
    assert "Go-live follows the walkthrough by the same 11 days, to 19 February instead of " \
           "8 February." in " ".join(between.split())  # the point wraps onto a second line
    assert "15 Dec 2026 —" not in between
    assert "15 Dec 2026 — Build complete" in out[dates:]


@pytest.mark.parametrize("kind,pid", [("brief", "acme-crm"), ("charter", "acme-crm"),
                                      ("brief", "xinghe-market-push")])
def test_no_hyphenation_artefacts_in_extracted_text(ws: Workspace, kind: str, pid: str,
                                                    tmp_path: Path) -> None:
    out = pdftotext(render(ws, kind, pid), tmp_path)
    assert "\u2010" not in out and "\u00ad" not in out


def test_the_schema_offers_the_variants_planforge_writes() -> None:
    schema = json.loads((REPO / "schemas" / "workspace.schema.json").read_text("utf-8"))
    archive = schema["properties"]["pdf"]["properties"]["archive"]["properties"]
    assert set(archive) == {"charter", "brief", "retro", "portfolio"}
    assert all(tuple(v["enum"]) == pdf.ARCHIVE_VARIANTS for v in archive.values())


def test_an_unknown_variant_is_refused(ws: Workspace) -> None:
    from planforge.errors import RenderError

    meta = pdf.PdfMetadata("t", "a", "s", "en", AS_OF, archive="pdf/a-1b")
    with pytest.raises(RenderError, match="not a PDF/A variant"):
        pdf.html_to_pdf("<html lang=en><title>t</title><p>x</p></html>", meta,
                        base_dir=REPO / "templates", roots=[])
