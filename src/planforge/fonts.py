"""The fonts PDFs are set in, named as exact files, and the private fontconfig set-up that makes
the PDF renderer see those files and nothing else.

WeasyPrint asks fontconfig for fonts, and fontconfig normally answers from every font on the
machine, edited by the machine's own rules in /etc/fonts: one more font package can change the
font a PDF embeds, and so its bytes. Pointed at the configuration written here, fontconfig knows
four faces of Liberation Sans and the two Simplified Chinese faces of Noto Sans CJK, so every
family name, generic or not, resolves to one of them on every machine that has these files.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from .environ import variable_set
from .errors import RenderError
from .usercache import cache_dir, digest, write_entry


@dataclass(frozen=True)
class FontFile:
    """One required font file: the family the documents ask for, the Debian package that ships
    it and where that package puts it."""

    family: str
    style: str
    package: str
    path: Path


_LIBERATION = Path("/usr/share/fonts/truetype/liberation")
_NOTO_CJK = Path("/usr/share/fonts/opentype/noto")

#: Latin text: Liberation Sans has a real italic (forecast dates are set in italics, and
#: WeasyPrint does not slant an upright face). Chinese text, and any character Liberation lacks
#: (★, arrows): Noto Sans CJK SC, whose collection files also hold the Japanese, Korean and
#: Traditional faces, which the configuration leaves out so that shared characters always take
#: their Simplified forms.
REQUIRED: tuple[FontFile, ...] = (
    *(FontFile("Liberation Sans", style, "fonts-liberation",
               _LIBERATION / f"LiberationSans-{style.replace(' ', '')}.ttf")
      for style in ("Regular", "Bold", "Italic", "Bold Italic")),
    *(FontFile("Noto Sans CJK SC", style, "fonts-noto-cjk", _NOTO_CJK / f"NotoSansCJK-{style}.ttc")
      for style in ("Regular", "Bold")),
)


def missing_fonts() -> list[FontFile]:
    """The required font files this machine does not have."""
    return [font for font in REQUIRED if not font.path.is_file()]


def install_command(fonts: list[FontFile]) -> str:
    """The command that installs the packages of ``fonts``."""
    return "apt-get install " + " ".join(sorted({font.package for font in fonts}))


def missing_fonts_message(fonts: list[FontFile]) -> str:
    """One line naming the missing fonts and the command that installs them."""
    names = ", ".join(f"{font.family} {font.style} ({font.path})" for font in fonts)
    return f"PDF fonts missing: {names}; install them with: {install_command(fonts)}"


def fontconfig_xml(fonts: tuple[FontFile, ...], cache_dir: Path) -> str:
    """A fontconfig configuration that knows exactly ``fonts`` and none of the machine's rules."""
    dirs = sorted({str(font.path.parent) for font in fonts})
    files = sorted({str(font.path) for font in fonts})
    families = sorted({font.family for font in fonts})
    lines = [
        '<?xml version="1.0"?>',
        '<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">',
        "<fontconfig>",
        *(f"  <dir>{escape(d)}</dir>" for d in dirs),
        # A cache of its own: a system cache holds fonts as the system's rules edited them.
        f"  <cachedir>{escape(str(cache_dir))}</cachedir>",
        # A font is kept when both its file and its family are accepted: the other files of the
        # folders, and the other faces of the collections, are rejected.
        "  <selectfont>",
        "    <acceptfont>",
        *(f"      <glob>{escape(f)}</glob>" for f in files),
        *(f'      <pattern><patelt name="family"><string>{escape(f)}</string></patelt></pattern>'
          for f in families),
        "    </acceptfont>",
        "    <rejectfont><glob>*</glob><pattern/></rejectfont>",
        "  </selectfont>",
        "</fontconfig>",
        "",
    ]
    return "\n".join(lines)


@cache
def _config_file() -> Path:
    """The configuration file, written once with its font cache in the user's cache, in a
    folder named by the configuration: fontconfig's index of the font files took a twentieth of
    a second to build in every new process, and it checks the folders' times before reusing it.
    Without a cache folder, a private temporary one that goes away when the process ends."""
    shared = cache_dir("fonts")
    if shared is not None:
        folder = shared / digest(fontconfig_xml(REQUIRED, Path("cache")))[:16]
        path = folder / "fonts.conf"
        text = fontconfig_xml(REQUIRED, folder / "cache")
        def written() -> bool:
            return path.is_file() and path.read_text("utf-8") == text

        try:
            if not written():
                folder.mkdir(exist_ok=True)
                write_entry(path, text.encode())  # a process starting now reads all or none
            if written():  # else it could not be written: a private one below
                return path
        except OSError:
            pass
    folder = Path(tempfile.mkdtemp(prefix="planforge-fonts-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "fonts.conf"
    path.write_text(fontconfig_xml(REQUIRED, folder / "cache"), "utf-8")
    return path


@contextmanager
def pinned_fontconfig() -> Iterator[None]:
    """Within the block, fontconfig configurations loaded by default read planforge's file;
    raises RenderError naming the packages when a required font file is missing.

    Fontconfig reads ``FONTCONFIG_FILE`` when a configuration is loaded, not later, so the
    variable is set only while the renderer loads one, and restored after.
    """
    missing = missing_fonts()
    if missing:
        raise RenderError(missing_fonts_message(missing))
    with variable_set("FONTCONFIG_FILE", str(_config_file())):
        yield
