"""The fonts PDFs are set in: named exactly, the same bytes whatever else the machine has."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from planforge import charts, fonts

from .conftest import REPO

FAMILIES = {font.family for font in fonts.REQUIRED}


def test_the_configuration_names_only_the_required_files(tmp_path: Path) -> None:
    xml = fonts.fontconfig_xml(fonts.REQUIRED, tmp_path / "cache")
    assert sorted(re.findall(r"<dir>(.*?)</dir>", xml)) == sorted(
        {str(font.path.parent) for font in fonts.REQUIRED})
    assert sorted(re.findall(r"<glob>(/.*?)</glob>", xml)) == sorted(
        {str(font.path) for font in fonts.REQUIRED})
    assert "<rejectfont><glob>*</glob><pattern/></rejectfont>" in xml
    assert "<include" not in xml  # none of the machine's rules
    assert f"<cachedir>{tmp_path / 'cache'}</cachedir>" in xml


def test_the_stylesheet_and_the_charts_name_the_pdf_fonts_first() -> None:
    css = (REPO / "templates" / "style.css").read_text("utf-8")
    lists = re.findall(r"font-family:\s*([^;]+);", css)
    assert lists
    for value in lists:
        assert value.split(",")[0].strip().strip('"') in FAMILIES, value
    for locale in ("en", "zh-CN"):
        assert charts.font_family(locale).split(",")[0] in FAMILIES


def test_missing_fonts_name_their_packages(tmp_path: Path) -> None:
    gone = [fonts.FontFile("Noto Sans CJK SC", "Bold", "fonts-noto-cjk", tmp_path / "x.ttc"),
            fonts.FontFile("Liberation Sans", "Italic", "fonts-liberation", tmp_path / "y.ttf")]
    assert fonts.install_command(gone) == "apt-get install fonts-liberation fonts-noto-cjk"
    message = fonts.missing_fonts_message(gone)
    assert "Noto Sans CJK SC Bold" in message and str(tmp_path / "y.ttf") in message


def test_the_environment_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    if fonts.missing_fonts():
        pytest.skip("the PDF fonts are not installed")
    monkeypatch.setenv("FONTCONFIG_FILE", "/elsewhere/fonts.conf")
    with fonts.pinned_fontconfig():
        pinned = Path(os.environ["FONTCONFIG_FILE"])
        assert "<fontconfig>" in pinned.read_text("utf-8")
    assert os.environ["FONTCONFIG_FILE"] == "/elsewhere/fonts.conf"


#: Renders an English and a Chinese brief of the example workspace and prints their bytes' hash.
RENDER = """
import hashlib, shutil, sys, tempfile
from datetime import date
from pathlib import Path
from planforge.documents import render_document
from planforge.validate import load_project
from planforge.workspace import find_workspace

root = Path(tempfile.mkdtemp())
shutil.copy(Path(sys.argv[1]) / "planforge.yaml", root / "planforge.yaml")
shutil.copytree(Path(sys.argv[1]) / "projects", root / "projects")
ws = find_workspace(root)
digest = hashlib.sha256()
for pid in ("globex-portal", "xinghe-market-push"):
    project, _ = load_project(ws, pid, date(2026, 11, 20))
    digest.update(render_document(ws, project, "brief", date(2026, 11, 20), "pdf"))
print(digest.hexdigest())
"""


def _impostor(path: Path, family: str) -> None:
    """A font that claims ``family`` and draws every Latin and Chinese character as a box."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    pen = TTGlyphPen(None)
    for x, y in ((50, 0), (50, 700), (550, 700), (550, 0)):
        (pen.lineTo if x != 50 or y != 0 else pen.moveTo)((x, y))
    pen.closePath()
    box = pen.glyph()
    builder = FontBuilder(1000, isTTF=True)
    builder.setupHead(fontRevision=99.0)  # a newer version wins fontconfig's ties
    builder.setupGlyphOrder([".notdef", "box"])
    codes = [*range(0x20, 0x250), *range(0x2000, 0x2BFF), *range(0x3000, 0x9FFF),
             *range(0xFF00, 0xFFEF)]
    builder.setupCharacterMap(dict.fromkeys(codes, "box"))
    builder.setupGlyf({".notdef": box, "box": box})
    builder.setupHorizontalMetrics({".notdef": (600, 50), "box": (600, 50)})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": family, "styleName": "Regular"})
    builder.setupOS2(usWeightClass=400)
    builder.setupPost()
    builder.save(str(path))


def _render(env: dict[str, str]) -> str:
    result = subprocess.run([sys.executable, "-c", RENDER, str(REPO)], capture_output=True,
                            text=True, env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.slow
@pytest.mark.pdf
def test_other_fonts_on_the_machine_change_no_byte(tmp_path: Path) -> None:
    """Fonts that claim planforge's own family names, added the way a font package or a user
    adds them, leave the PDFs byte for byte the same."""
    if fonts.missing_fonts():
        pytest.skip("the PDF fonts are not installed")
    if shutil.which("fc-match") is None:
        pytest.skip("fc-match (fontconfig) is not installed")
    pytest.importorskip("weasyprint")
    extra = tmp_path / "fonts"
    extra.mkdir()
    for family in ("Liberation Sans", "Noto Sans CJK SC", "Noto Sans"):
        _impostor(extra / f"{family.replace(' ', '')}-Impostor.ttf", family)
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        found = Path("/usr/share/fonts/truetype/dejavu") / name
        if found.is_file():
            shutil.copy(found, extra / name)
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">'
                    f"\n<fontconfig><dir>{extra}</dir><include ignore_missing=\"yes\">"
                    "/etc/fonts/fonts.conf</include><cachedir>"
                    f"{tmp_path / 'cache'}</cachedir></fontconfig>\n", "utf-8")
    plain = {k: v for k, v in os.environ.items() if k != "FONTCONFIG_FILE"}
    crowded = {**plain, "FONTCONFIG_FILE": str(conf)}
    # The set-up works: the machine's fontconfig now answers with the impostor.
    for family in ("Liberation Sans", "Noto Sans CJK SC"):
        match = subprocess.run(["fc-match", "-f", "%{file}", family], env=crowded,
                               capture_output=True, text=True, timeout=60, check=True).stdout
        assert match.startswith(str(extra)), (family, match)
    assert _render(plain) == _render(crowded)
