"""``backend.fonts``: the CJK font is found through fontconfig on a machine that has it (``make test``
installs fonts-noto-cjk), and a machine without it gets an error naming the package, not a font
without Chinese glyphs that would draw empty boxes.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from backend import fonts

FONT_MAGIC = (b"ttcf", b"OTTO", b"\x00\x01\x00\x00", b"true")


def test_finds_an_installed_font_that_draws_chinese():
    font = fonts.cjk_font()

    assert fonts.cjk_font_path() == font.path
    assert font.path.is_absolute()
    assert font.path.is_file()
    assert font.path.read_bytes()[:4] in FONT_MAGIC
    # fontconfig's own character sets, asked independently: the file has glyphs for 中文 (U+4E2D, U+6587)
    assert str(font.path) in _font_files(":charset=4e2d 6587")
    # the face of a collection is the Simplified Chinese one, as Chromium uses it for zh-CN pages
    if font.family.startswith("Noto Sans CJK"):
        assert font.family == "Noto Sans CJK SC"
    assert font.index >= 0


def _fontconfig_with_fonts(tmp_path: Path, monkeypatch, *font_files: Path) -> None:
    """A fontconfig that knows only ``font_files``: a machine without the CJK package."""
    fonts_dir = tmp_path / "fonts"
    fonts_dir.mkdir()
    for file in font_files:
        shutil.copy(file, fonts_dir / file.name)
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{fonts_dir}</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    monkeypatch.setenv("FONTCONFIG_FILE", str(config))


def _font_files(pattern: str) -> set[str]:
    listed = subprocess.run(["fc-list", pattern, "file"], capture_output=True, text=True, check=True).stdout
    return {line.rstrip(":") for line in listed.split()}


def _latin_font() -> Path:
    """An installed font without Chinese glyphs (Chromium brings fonts-liberation, Debian DejaVu)."""
    candidates = sorted(f for f in _font_files(":lang=en") - _font_files(":lang=zh-cn") if f.endswith(".ttf"))
    assert candidates, "no Latin-only TrueType font is installed"
    return Path(candidates[0])


def test_a_machine_with_only_latin_fonts_is_told_to_install_the_package(tmp_path, monkeypatch):
    # fc-match always answers with its best font, here one without Chinese glyphs: that is refused
    _fontconfig_with_fonts(tmp_path, monkeypatch, _latin_font())

    with pytest.raises(fonts.FontMissing, match=r"no Chinese glyphs.*install the package fonts-noto-cjk"):
        fonts.cjk_font_path()


def test_a_machine_without_fonts_is_told_to_install_the_package(tmp_path, monkeypatch):
    _fontconfig_with_fonts(tmp_path, monkeypatch)

    with pytest.raises(fonts.FontMissing, match=r"install the package fonts-noto-cjk"):
        fonts.cjk_font_path()


def test_a_machine_without_fontconfig_is_told_both_packages(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no fc-match anywhere

    with pytest.raises(fonts.FontMissing, match=r"install the packages fontconfig and fonts-noto-cjk"):
        fonts.cjk_font()
