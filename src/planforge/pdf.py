"""HTML → PDF with WeasyPrint: a restricted URL fetcher, fixed metadata, pinned fonts.

This is the only module that imports ``weasyprint``, and only inside the functions that render,
so that ``planforge --help`` and ``validate`` never load the PDF stack (about half a second).
"""

from __future__ import annotations

import hashlib
import mimetypes
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from .errors import RenderError
from .fonts import pinned_fontconfig
from .limits import PDF_SECONDS, deadline

if TYPE_CHECKING:  # pragma: no cover
    from weasyprint.urls import URLFetcher  # type: ignore[import-untyped, unused-ignore]

#: The PDF/A variants a document kind may be archived as (``pdf.archive`` in planforge.yaml).
#: Levels b and u only: WeasyPrint tags every planforge PDF anyway, and the level that claims
#: the tagging (a) adds nothing a reader gets beside the PDF/UA claim every PDF makes.
ARCHIVE_VARIANTS = ("pdf/a-2b", "pdf/a-2u", "pdf/a-3b", "pdf/a-3u")
#: Every PDF claims PDF/UA-1: tagged, with its language, title and text alternatives.
ACCESSIBLE = "pdf/ua-1"


@dataclass(frozen=True)
class PdfMetadata:
    """What goes into the PDF's information dictionary, all of it derived from the inputs."""

    title: str
    author: str
    subject: str
    lang: str
    created: date  # the as-of date: the same inputs give the same bytes
    keywords: tuple[str, ...] = ()
    archive: str | None = None  # a PDF/A variant of ARCHIVE_VARIANTS, claimed with PDF/UA-1


def pango_version() -> int:
    """The Pango library WeasyPrint loaded, as Pango's number (1.50.12 → 15012); raises
    ImportError or OSError when the PDF stack cannot be loaded."""
    from weasyprint.text.ffi import pango  # type: ignore[import-untyped, unused-ignore]

    return int(pango.pango_version())


def has_harfbuzz_subset() -> bool:
    """Whether WeasyPrint found libharfbuzz-subset (without it fonts are subset by fontTools,
    far slower); raises ImportError or OSError when the PDF stack cannot be loaded."""
    from weasyprint.text.ffi import harfbuzz_subset  # type: ignore[import-untyped, unused-ignore]

    return harfbuzz_subset is not None


def _within(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


@cache
def _fetcher_class() -> type[URLFetcher]:
    """The restricted fetcher, defined on first use so that weasyprint is imported lazily.

    WeasyPrint 70 calls fetchers through ``weasyprint.urls.fetch``, which reads attributes of
    ``URLFetcher``: a plain function would crash, so this subclasses it.
    """
    from weasyprint.urls import (  # type: ignore[import-untyped, unused-ignore]
        URLFetcher,
        URLFetcherResponse,
    )

    class RestrictedFetcher(URLFetcher):  # type: ignore[misc]
        """Serves planforge's template folders and the brand folder, and ``data:`` URLs; refuses
        every other ``file:`` path and the network (including loopback)."""

        def __init__(self, roots: Sequence[Path], files: Sequence[Path]) -> None:
            super().__init__(timeout=1, allowed_protocols=("file", "data"),
                             allow_redirects=False)
            self.roots = [r.resolve() for r in roots]
            self.files = {f.resolve() for f in files}
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            scheme = urlsplit(url).scheme.lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                parts = urlsplit(url)
                if parts.netloc not in ("", "localhost"):
                    return self._refuse(url)
                # resolve() follows symlinks and '..', so a link cannot lead outside.
                path = Path(url2pathname(unquote(parts.path))).resolve()
                if (path in self.files or _within(path, self.roots)) and path.is_file():
                    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": kind})
            return self._refuse(url)

        def _refuse(self, url: str) -> URLFetcherResponse:
            self.refused.append(url)
            raise ValueError(f"planforge does not fetch {url}")

    return RestrictedFetcher


def make_fetcher(roots: Sequence[Path], files: Sequence[Path] = ()) -> URLFetcher:
    """A fetcher that serves only files below ``roots``, the listed ``files``, and ``data:``."""
    return _fetcher_class()(roots, files)


def identifier(*parts: str | bytes) -> bytes:
    """A PDF file identifier derived from the inputs (hex of a SHA-256), stable across runs."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:32].encode()


def preload() -> None:
    """Import the PDF stack now, once per worker process, rather than in the first render;
    raises OSError when the Python package is there but its system libraries are not."""
    import weasyprint  # type: ignore[import-untyped, unused-ignore]  # noqa: F401


def html_to_pdf(
    html: str,
    meta: PdfMetadata,
    *,
    base_dir: Path,
    roots: Sequence[Path],
    files: Sequence[Path] = (),
) -> bytes:
    """Render HTML to A4 PDF bytes; the same HTML and metadata give the same bytes."""
    try:
        from weasyprint import HTML  # type: ignore[import-untyped, unused-ignore]
    except OSError as exc:  # Pango or its libraries missing
        raise RenderError(f"the PDF stack cannot load ({exc}); run 'planforge doctor'") from exc

    fetcher = make_fetcher([base_dir, *roots], files)
    with deadline(PDF_SECONDS, f"the PDF of '{meta.title}'"):
        return _write(HTML(string=html, base_url=base_dir.resolve().as_uri() + "/",
                           url_fetcher=fetcher), meta, html, _font_configuration())


def _font_configuration() -> Any:
    """A WeasyPrint font configuration that sees only planforge's fonts (see fonts.py)."""
    from weasyprint.text.fonts import (  # type: ignore[import-untyped, unused-ignore]
        FontConfiguration,
    )

    with pinned_fontconfig():
        return FontConfiguration()


def _write(source: Any, meta: PdfMetadata, html: str, font_config: Any) -> bytes:
    document = source.render(font_config=font_config)
    stamp = f"{meta.created.isoformat()}T00:00:00Z"
    document.metadata.title = meta.title
    document.metadata.authors = [meta.author]
    document.metadata.description = meta.subject
    document.metadata.keywords = list(meta.keywords)
    document.metadata.generator = "planforge"
    document.metadata.created = stamp
    document.metadata.modified = stamp
    document.metadata.lang = meta.lang
    # Attachments named by <link rel=attachment> would be fetched (and refused) again here;
    # planforge's documents never attach anything.
    document.metadata.attachments = []
    if meta.archive is not None:
        if meta.archive not in ARCHIVE_VARIANTS:
            raise RenderError(f"'{meta.archive}' is not a PDF/A variant planforge writes "
                              f"({', '.join(ARCHIVE_VARIANTS)})")
        # WeasyPrint writes one variant's identification; PDF/UA-1 joins PDF/A's in the same
        # XMP description, and the tags are asked for explicitly (PDF/A-b does not need them).
        document.metadata = _with_pdfua(document.metadata)
    with warnings.catch_warnings():
        # For PDF/A, WeasyPrint 70 opens its sRGB profile and leaves the file to the garbage
        # collector; the file is read whole and closed when dropped, within this call.
        warnings.simplefilter("ignore", ResourceWarning)
        pdf: bytes = document.write_pdf(
            pdf_variant=meta.archive or ACCESSIBLE,
            pdf_tags=True,
            pdf_identifier=identifier(html, meta.title, meta.author, meta.subject, stamp,
                                      meta.archive or ACCESSIBLE),
        )
    return pdf


#: PDF/A allows only XMP properties it predefines or that the file itself declares: pdfuaid is
#: not among the predefined ones, so the archival PDF declares it (ISO 19005-2, 6.6.2.3).
_PDFUA_EXTENSION = """<rdf:Description rdf:about=""
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
 xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"
 xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#"><pdfaExtension:schemas><rdf:Bag>
<rdf:li rdf:parseType="Resource"><pdfaSchema:schema>PDF/UA Universal Accessibility Schema\
</pdfaSchema:schema><pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/\
</pdfaSchema:namespaceURI><pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix><pdfaSchema:property>\
<rdf:Seq><rdf:li rdf:parseType="Resource"><pdfaProperty:name>part</pdfaProperty:name>\
<pdfaProperty:valueType>Integer</pdfaProperty:valueType><pdfaProperty:category>internal\
</pdfaProperty:category><pdfaProperty:description>Part of ISO 14289 the file follows\
</pdfaProperty:description></rdf:li></rdf:Seq></pdfaSchema:property></rdf:li></rdf:Bag>\
</pdfaExtension:schemas></rdf:Description>"""


def _with_pdfua(metadata: Any) -> Any:
    """The document's metadata, its XMP also claiming PDF/UA-1 (``pdfuaid:part``)."""
    from xml.etree import ElementTree

    from weasyprint.pdf.metadata import (  # type: ignore[import-untyped, unused-ignore]
        NS,
        DocumentMetadata,
    )

    for prefix in ("pdfaExtension", "pdfaSchema", "pdfaProperty"):
        ElementTree.register_namespace(prefix, _PDFUA_EXTENSION.split(f'xmlns:{prefix}="')[1]
                                       .split('"')[0])

    class AccessibleMetadata(DocumentMetadata):  # type: ignore[misc]
        def generate_rdf_metadata(self, variant: str, version: int,
                                  conformance: str | None) -> bytes:
            rdf = ElementTree.fromstring(
                super().generate_rdf_metadata(variant, version, conformance))
            about = f"{{{NS['rdf']}}}about"
            ua = ElementTree.SubElement(rdf, f"{{{NS['rdf']}}}Description", {about: ""})
            ua.set(f"{{{NS['pdfuaid']}}}part", "1")
            rdf.append(ElementTree.fromstring(_PDFUA_EXTENSION))
            data: bytes = ElementTree.tostring(rdf, encoding="utf-8")
            return data

    return AccessibleMetadata(**vars(metadata))
