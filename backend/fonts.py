"""Fonts installed on the machine, for the pictures Podium draws (badges, certificates) and the
browser tests' screenshots: Chinese text needs a CJK font, which Debian ships as ``fonts-noto-cjk``
(``scripts/ensure-chromium.sh`` installs it for ``make test``). Found through fontconfig, the way
Chromium finds it, so a picture and a page use the same font.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

CJK_PACKAGE = "fonts-noto-cjk"
# What fontconfig is asked for: a sans-serif face with Simplified Chinese glyphs (the Noto CJK
# collections hold SC, TC, JP, KR and HK faces; this picks the SC one).
CJK_PATTERN = "sans-serif:lang=zh-cn"
CJK_LANG = "zh-cn"


class FontMissing(RuntimeError):
    """No usable font is installed; the message names the package to install."""


class Font(NamedTuple):
    path: Path
    index: int  # the face inside a collection (.ttc), e.g. for Pillow's ``ImageFont.truetype(..., index=)``
    family: str


def cjk_font() -> Font:
    """The font fontconfig picks for Simplified Chinese text, or ``FontMissing`` saying what to
    install. fontconfig always answers with some font, so the answer is checked to cover Chinese."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        raise FontMissing(
            f"fontconfig's fc-match is not installed, so no CJK font can be found: "
            f"install the packages fontconfig and {CJK_PACKAGE} (sudo apt-get install fontconfig {CJK_PACKAGE})."
        )
    result = subprocess.run(  # noqa: S603 - a fixed command line
        [fc_match, CJK_PATTERN, "--format", "%{file}\n%{index}\n%{family}\n%{lang}\n"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    lines = result.stdout.split("\n")
    if result.returncode != 0 or len(lines) < 4 or not lines[0]:
        raise FontMissing(
            f"No font is installed (fc-match {CJK_PATTERN!r} found none): "
            f"install the package {CJK_PACKAGE} (sudo apt-get install {CJK_PACKAGE})."
        )
    file, index, family, langs = lines[:4]
    if CJK_LANG not in langs.split("|"):
        raise FontMissing(
            f"No font for Chinese text is installed (fontconfig offers {family or file}, which has no "
            f"Chinese glyphs): install the package {CJK_PACKAGE} (sudo apt-get install {CJK_PACKAGE})."
        )
    path = Path(file)
    if not path.is_file():
        raise FontMissing(
            f"fontconfig names {path} for Chinese text, but the file is gone: reinstall the package "
            f"{CJK_PACKAGE} or run fc-cache -f."
        )
    return Font(path=path, index=int(index or 0), family=family.split(",")[0])


def cjk_font_path() -> Path:
    """The file of the font for Chinese text (``cjk_font`` for the face index inside a collection)."""
    return cjk_font().path
