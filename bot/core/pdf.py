"""PDF documents (fpdf2) that print names in any script: DejaVu Sans (shipped with matplotlib) for
Latin, Greek and Cyrillic, and Noto fonts as fallbacks for Arabic and CJK, loaded only when a
document needs them. Arabic is shaped (joined letters, right to left) by HarfBuzz through fpdf2's
text shaping, switched on only in documents that hold some. A missing fallback font is named in a
warning and its characters print as '?', never as silent blanks.

The Noto fonts come from the system (Debian: `fonts-noto-core`, `fonts-noto-cjk`), found by file
name under the usual font folders or those listed in COHORTBOT_FONT_DIRS (colon-separated).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.errors import FPDFException

log = logging.getLogger(__name__)

FAMILY = "DejaVu"  # the documents' own face; fallbacks are registered under their own names
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")


@dataclass(frozen=True)
class Fallback:
    """A font for the scripts the main face lacks: which file, which package brings it, and the
    code point ranges it is needed for."""

    family: str
    files: tuple[str, ...]
    package: str
    ranges: tuple[tuple[int, int], ...]
    number: int = 0  # the face in a .ttc collection
    shaping: bool = False  # joined letters, right to left: needs HarfBuzz (uharfbuzz)

    def wanted_for(self, char: str) -> bool:
        code = ord(char)
        return any(low <= code <= high for low, high in self.ranges)


FALLBACKS = (
    Fallback(
        "NotoArabic",
        ("NotoSansArabic-Regular.ttf", "NotoNaskhArabic-Regular.ttf"),
        "fonts-noto-core",
        ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
        shaping=True,
    ),
    Fallback(
        "NotoCJK",
        ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansSC-Regular.otf"),
        "fonts-noto-cjk",
        (
            (0x1100, 0x11FF), (0x2E80, 0x2FDF), (0x3000, 0x30FF), (0x3100, 0x31FF), (0x3400, 0x4DBF),
            (0x4E00, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF), (0x20000, 0x2FA1F),
        ),
        number=2,  # in the .ttc collection: Simplified Chinese (covers Japanese and Korean names too)
    ),
)  # fmt: skip


def main_font(bold: bool = False) -> Path:
    import matplotlib

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


def font_dirs() -> list[Path]:
    extra = [d for d in os.environ.get("COHORTBOT_FONT_DIRS", "").split(os.pathsep) if d]
    return [Path(d).expanduser() for d in (*extra, *FONT_DIRS)]


@cache
def find_font(name: str) -> Path | None:
    """A system font file by name, searched once per process."""
    for folder in font_dirs():
        if folder.is_dir():
            for path in folder.rglob(name):
                return path
    return None


@cache
def covered(path: str, number: int = 0) -> frozenset[int]:
    """The code points a font file has glyphs for."""
    from fontTools.ttLib import TTFont

    font = TTFont(path, fontNumber=number, lazy=True)
    return frozenset(font.getBestCmap())


@cache
def _warn_missing(fallback: Fallback) -> None:
    log.warning(
        "PDF font %s not found (install the %s package): its characters print as '?'",
        fallback.files[0],
        fallback.package,
    )


class DocumentPDF(FPDF):
    """An fpdf2 document with the DejaVu face (regular, and bold with `bold=True`) whose text in
    other scripts finds its glyphs in a fallback font."""

    def __init__(self, *args: Any, bold: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_font(FAMILY, "", str(main_font()))
        if bold:
            self.add_font(FAMILY, "B", str(main_font(bold=True)))
        self._main = covered(str(main_font()))
        self._loaded: list[Fallback] = []

    def normalize_text(self, text: str) -> str:
        if not text.isascii():
            text = self._with_fallbacks(text)
        return super().normalize_text(text)

    def _with_fallbacks(self, text: str) -> str:
        missing: list[str] = []
        for char in set(text):
            if not self.text_shaping and any(f.shaping and f.wanted_for(char) for f in FALLBACKS):
                self._shape()  # DejaVu has Arabic letters, but they must be joined and ordered
            if ord(char) in self._main or char.isspace():
                continue
            fallback = next((f for f in FALLBACKS if f.wanted_for(char)), None)
            if fallback is None or not self._load(fallback):
                missing.append(char)
        for char in missing:
            text = text.replace(char, "?")
        return text

    def _load(self, fallback: Fallback) -> bool:
        if fallback in self._loaded:
            return True
        path = next((p for p in map(find_font, fallback.files) if p is not None), None)
        if path is None:
            _warn_missing(fallback)
            return False
        number = fallback.number if path.suffix == ".ttc" else 0
        self.add_font(fallback.family, "", str(path), collection_font_number=number)
        self._loaded.append(fallback)
        self.set_fallback_fonts([f.family for f in self._loaded], exact_match=False)
        return True

    def _shape(self) -> None:
        """Shape text from here on (only documents with such names pay for it)."""
        try:
            self.set_text_shaping(True)
        except (ImportError, FPDFException):
            self.text_shaping = {}  # tried once: not again for every name
            log.warning("uharfbuzz is not installed: Arabic names print with unjoined letters")
