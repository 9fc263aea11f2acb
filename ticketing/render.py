"""QR codes and printable badges as PNG bytes. Pure: no database, no HTTP; the only thing read from
the machine is the CJK font (``backend.fonts.cjk_font``), found once per process.

**QR codes.** The ``qrcode`` package is correct but slow for a gate system's volumes: about 14 ms per
code, 12 of them in choosing the mask (eight full symbols built and scored in pure Python) and 1.3 in
Reed–Solomon with its polynomial class. :func:`qr_matrix` makes the same symbol (the tests compare it
module for module with ``qrcode``'s own, at error correction M) in well under a millisecond: the
codewords with a table-driven Reed–Solomon, the modules placed by index arrays computed once per
version from ``qrcode``'s own function patterns, and all eight masks scored at once by ``qrcode``'s
penalty rules, bit-parallel (each row and column one 64-bit word; format areas blank while scoring,
as ``qrcode`` does). Text outside the QR alphanumeric set, or longer than version 11 holds, goes
through ``qrcode`` itself. The PNG is written directly (1 bit a pixel, zlib's fastest level):
Pillow's encoder alone took longer than the whole symbol.

**Badges.** An A6 page (105 × 148 mm) or a 4 × 3 inch label, at 300 dpi, with the role's colour
band, the event, the ticket type, the holder's name in native script and in Latin letters, the
institution and the QR code. What makes one cheap (the obvious way, an RGB Pillow page with
antialiased text and Pillow's PNG encoder, costs about 30 ms; see ``bench/ticket_images.py``): the
page is an array of palette indices in numpy, four colours (white, black, the band and the text on
it: what a badge printer prints anyway); what every badge of a ticket type shares (page, bands,
event and type names) is drawn once per process and copied; each line of text is one unsmoothed
FreeType rendering copied in by a boolean mask, fonts loaded once per size; the QR code is its
modules repeated to size; and the PNG is written directly at two bits a pixel with zlib's fastest
level (a quarter of the bytes to compress; the page is mostly flat colour, so the file stays small,
about 15 KB).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal

import numpy as np
import qrcode
import qrcode.base
import qrcode.util
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M

from backend.fonts import FontMissing, cjk_font

__all__ = [
    "BadgeData",
    "FontMissing",
    "badge_png",
    "missing_glyphs",
    "qr_matrix",
    "qr_png",
]

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_ALNUM_VALUE = {c: i for i, c in enumerate(ALPHANUMERIC)}
_MAX_FAST_VERSION = 11  # 61 modules: a row fits one 64-bit word (see _penalties)
_PAD = (0xEC, 0x11)

# GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1 -------------------------------------------
_EXP = [0] * 512
_LOG = [0] * 256
_x = 1
for _i in range(255):
    _EXP[_i] = _x
    _LOG[_x] = _i
    _x <<= 1
    if _x & 0x100:
        _x ^= 0x11D
for _i in range(255, 512):
    _EXP[_i] = _EXP[_i - 255]


@cache
def _generator_logs(degree: int) -> tuple[int, ...]:
    """The Reed–Solomon generator polynomial of ``degree`` (leading 1 dropped), as logarithms."""
    poly = [1]
    for i in range(degree):
        nxt = [0] * (len(poly) + 1)
        for j, c in enumerate(poly):
            nxt[j] ^= c
            if c:
                nxt[j + 1] ^= _EXP[_LOG[c] + i]
        poly = nxt
    return tuple(_LOG[c] for c in poly[1:])


@cache
def _ec_table(degree: int) -> tuple[int, ...]:
    """For each leading byte, what dividing it out XORs into the remainder, as one integer of
    ``degree`` bytes (the generator polynomial times the byte)."""
    gen = _generator_logs(degree)
    table = []
    for factor in range(256):
        value = 0
        for g in gen:
            value = (value << 8) | (_EXP[_LOG[factor] + g] if factor else 0)
        table.append(value)
    return tuple(table)


def _ec_codewords(data: list[int], degree: int) -> list[int]:
    """The remainder of ``data`` · x^degree divided by the generator polynomial (the remainder kept
    as one integer: three operations a data byte)."""
    table = _ec_table(degree)
    shift = 8 * (degree - 1)
    keep = (1 << (8 * degree)) - 1
    rem = 0
    for byte in data:
        rem = ((rem << 8) & keep) ^ table[byte ^ (rem >> shift)]
    return list(rem.to_bytes(degree, "big"))


# Versions, function patterns and module order ------------------------------------------------------


@cache
def _blocks(version: int) -> tuple[tuple[int, int], ...]:
    """(total, data) codewords of each block at level M."""
    return tuple((b.total_count, b.data_count) for b in qrcode.base.rs_blocks(version, ERROR_CORRECT_M))


def _data_capacity(version: int) -> int:
    return sum(d for _, d in _blocks(version))


def _count_bits(version: int) -> int:
    return 9 if version < 10 else 11 if version < 27 else 13


def _alnum_bits(length: int, version: int) -> int:
    return 4 + _count_bits(version) + 11 * (length // 2) + 6 * (length % 2)


def _version_for(length: int) -> int | None:
    for version in range(1, _MAX_FAST_VERSION + 1):
        if _alnum_bits(length, version) <= _data_capacity(version) * 8:
            return version
    return None


def _function_modules(version: int, mask: int, test: bool) -> list[list[bool | None]]:
    """The symbol's function patterns as ``qrcode`` draws them (its own methods, in ``makeImpl``'s
    order); ``None`` where data goes."""
    q = qrcode.QRCode(version=version, error_correction=ERROR_CORRECT_M, border=0)
    n = q.modules_count = version * 4 + 17
    q.modules = [[None] * n for _ in range(n)]
    q.setup_position_probe_pattern(0, 0)
    q.setup_position_probe_pattern(n - 7, 0)
    q.setup_position_probe_pattern(0, n - 7)
    q.setup_position_adjust_pattern()
    q.setup_timing_pattern()
    q.setup_type_info(test, mask)
    if version >= 7:
        q.setup_type_number(test)
    return q.modules


@dataclass(frozen=True)
class _Layout:
    size: int
    rows: np.ndarray  # the data modules in placement order
    cols: np.ndarray
    masks: np.ndarray  # (8, count): whether mask i flips the data module
    scored: np.ndarray  # (size, size) bool: function modules as scored (format blank)
    final: np.ndarray  # (8, size, size) bool: function modules with mask i's format information
    function: np.ndarray  # (size, size) bool: which modules are function modules


@cache
def _layout(version: int) -> _Layout:
    modules = _function_modules(version, 0, test=True)
    n = len(modules)
    function = np.array([[m is not None for m in row] for row in modules])
    scored = np.array([[bool(m) for m in row] for row in modules])
    rows, cols = [], []
    inc, row = -1, n - 1
    for col in range(n - 1, 0, -2):  # the zigzag of qrcode's map_data
        if col <= 6:
            col -= 1
        while True:
            for c in (col, col - 1):
                if not function[row, c]:
                    rows.append(row)
                    cols.append(c)
            row += inc
            if row < 0 or row >= n:
                row -= inc
                inc = -inc
                break
    r, c = np.array(rows), np.array(cols)
    masks = np.array(
        [[qrcode.util.mask_func(i)(a, b) for a, b in zip(rows, cols, strict=True)] for i in range(8)]
    )
    final = np.array(
        [[[bool(m) for m in line] for line in _function_modules(version, i, test=False)] for i in range(8)]
    )
    return _Layout(n, r, c, masks.astype(bool), scored, final, function)


def _codewords(text: str, version: int) -> list[int]:
    """The final codeword sequence (data and error correction, interleaved) of ``text``."""
    bits = 0b0010  # alphanumeric mode
    width = 4
    count_bits = _count_bits(version)
    bits = (bits << count_bits) | len(text)
    width += count_bits
    for i in range(0, len(text) - 1, 2):
        bits = (bits << 11) | (_ALNUM_VALUE[text[i]] * 45 + _ALNUM_VALUE[text[i + 1]])
        width += 11
    if len(text) % 2:
        bits = (bits << 6) | _ALNUM_VALUE[text[-1]]
        width += 6
    capacity = _data_capacity(version) * 8
    terminator = min(4, capacity - width)
    bits <<= terminator
    width += terminator
    pad = -width % 8
    bits <<= pad
    width += pad
    data = list(bits.to_bytes(width // 8, "big"))
    data += [_PAD[i % 2] for i in range(capacity // 8 - len(data))]
    blocks, ec_blocks, at = [], [], 0
    for total, count in _blocks(version):
        block = data[at : at + count]
        at += count
        blocks.append(block)
        ec_blocks.append(_ec_codewords(block, total - count))
    longest = max(len(b) for b in blocks)
    out = [b[i] for i in range(longest) for b in blocks if i < len(b)]
    out += [b[i] for i in range(len(ec_blocks[0])) for b in ec_blocks]  # every EC block is as long
    return out


_SHIFT = tuple(np.uint64(i) for i in range(11))


def _low(bits: int) -> np.uint64:
    return np.uint64((1 << bits) - 1)


def _penalties(symbols: np.ndarray) -> np.ndarray:
    """``qrcode.util.lost_point`` of each of the (k, n, n) boolean symbols (n ≤ 64), bit-parallel:
    every row and column is one 64-bit word (bit j: module j), so each rule is a few shifts, ANDs
    and population counts over all eight candidate symbols at once."""
    k, n, _ = symbols.shape
    both = np.concatenate([symbols, symbols.transpose(0, 2, 1)], axis=1)  # rows, then columns
    packed = np.packbits(both, axis=2, bitorder="little")
    words = np.zeros((k, 2 * n, 8), dtype=np.uint8)
    words[:, :, : packed.shape[2]] = packed
    x = words.view("<u8")[..., 0]
    nx = ~x
    s = [x >> _SHIFT[i] for i in range(11)]
    ns = [nx >> _SHIFT[i] for i in range(11)]
    # Rule 1: a run of L ≥ 5 alike scores L − 2: L − 4 windows of five alike, plus 2 for its first.
    eq = ~(x ^ s[1]) & _low(n - 1)
    win = eq & (eq >> _SHIFT[1]) & (eq >> _SHIFT[2]) & (eq >> _SHIFT[3]) & _low(n - 4)
    first = win & ~(eq << _SHIFT[1])
    scores = np.bitwise_count(win).sum(axis=1).astype(np.int64) + 2 * np.bitwise_count(first).sum(axis=1)
    # Rule 2: each 2 × 2 block of one colour scores 3.
    rows = x[:, :n]
    same = ~(rows[:, :-1] ^ rows[:, 1:])
    across = ~(rows[:, :-1] ^ (rows[:, :-1] >> _SHIFT[1]))
    scores += 3 * np.bitwise_count(same & (same >> _SHIFT[1]) & across & _low(n - 1)).sum(axis=1)
    # Rule 3: each 1:1:3:1:1 finder-like pattern with four light modules after or before it scores 40.
    core = ns[1] & s[4] & ns[5] & s[6] & ns[9]
    after = s[0] & s[2] & s[3] & ns[7] & ns[8] & ns[10]
    before = ns[0] & ns[2] & ns[3] & s[7] & s[8] & s[10]
    scores += 40 * np.bitwise_count(core & (after | before) & _low(n - 10)).sum(axis=1)
    # Rule 4: 10 for each whole 5 % the dark share departs from 50 %.
    dark = np.bitwise_count(rows).sum(axis=1) / (n * n)
    scores += 10 * (np.abs(dark * 100 - 50) / 5).astype(np.int64)
    return scores


@lru_cache(maxsize=256)
def _qr_matrix(text: str) -> np.ndarray:
    version = _version_for(len(text)) if text and all(ch in _ALNUM_VALUE for ch in text) else None
    if version is None:
        q = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
        q.add_data(text)
        q.make(fit=True)
        return np.array(q.get_matrix(), dtype=bool)
    layout = _layout(version)
    codewords = np.frombuffer(bytes(_codewords(text, version)), dtype=np.uint8)
    bits = np.zeros(layout.rows.size, dtype=bool)
    data_bits = np.unpackbits(codewords).astype(bool)
    bits[: data_bits.size] = data_bits
    placed = bits[None, :] ^ layout.masks  # (8, count)
    symbols = np.broadcast_to(layout.scored, (8, layout.size, layout.size)).copy()
    symbols[:, layout.rows, layout.cols] = placed
    best = int(np.argmin(_penalties(symbols)))  # the first of equals, as qrcode chooses
    out = layout.final[best].copy()
    out[layout.rows, layout.cols] = placed[best]
    out.flags.writeable = False
    return out


def qr_matrix(text: str) -> np.ndarray:
    """The QR symbol of ``text`` at error correction M, smallest version, as a boolean array (True:
    dark), without the quiet zone: the symbol ``qrcode`` makes, faster."""
    return _qr_matrix(text)


def _quiet(text: str, border: int) -> np.ndarray:
    """The symbol with its quiet zone, as palette indices (0 light, 1 dark)."""
    matrix = qr_matrix(text)
    out = np.zeros((matrix.shape[0] + 2 * border,) * 2, dtype=np.uint8)
    out[border : border + matrix.shape[0], border : border + matrix.shape[1]] = matrix
    return out


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(
    indices: np.ndarray, palette: list[tuple[int, int, int]], bits: int, dpi: int | None = None
) -> bytes:
    """A palette PNG of ``indices`` (each below ``2 ** bits``; ``bits`` is 1 or 2), written directly:
    rows packed ``bits`` to a pixel, no filters, zlib's fastest level. Pillow's encoder takes several times as
    long for the same file (it filters and compresses a byte a pixel)."""
    height, width = indices.shape
    per_byte = 8 // bits
    if width % per_byte:
        indices = np.pad(indices, ((0, 0), (0, per_byte - width % per_byte)))
    raw = np.zeros((height, indices.shape[1] // per_byte + 1), dtype=np.uint8)  # filter 0 (none) a row
    if bits == 1:
        raw[:, 1:] = np.packbits(indices, axis=1)
    else:  # bits == 2: four pixels (bytes 0–3 of a 32-bit word) into one byte by one multiplication
        words = np.ascontiguousarray(indices).view("<u4")
        raw[:, 1:] = ((words * np.uint32(0x40100401)) >> np.uint32(24)).astype(np.uint8)
    header = struct.pack(">IIBBBBB", width, height, bits, 3, 0, 0, 0)
    parts = [
        b"\x89PNG\r\n\x1a\n",
        _chunk(b"IHDR", header),
        _chunk(b"PLTE", bytes(v for rgb in palette for v in rgb)),
    ]
    if dpi:
        per_metre = round(dpi / 0.0254)
        parts.append(_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)))
    parts += [_chunk(b"IDAT", zlib.compress(raw.tobytes(), 1)), _chunk(b"IEND", b"")]
    return b"".join(parts)


def qr_png(code: str, *, scale: int = 8, border: int = 4) -> bytes:
    """``code`` as a black-on-white QR PNG (1 bit a pixel): ``scale`` pixels a module and a quiet
    zone of ``border`` modules (4 is the standard's)."""
    if not 1 <= scale <= 64 or not 0 <= border <= 16:
        raise ValueError("scale is 1–64 pixels and border 0–16 modules")
    big = np.repeat(np.repeat(_quiet(code, border), scale, axis=0), scale, axis=1)
    return _png(big, [(255, 255, 255), (0, 0, 0)], 1)


# Badges ---------------------------------------------------------------------------------------------

BadgeFormatName = Literal["a6", "label"]


@dataclass(frozen=True)
class BadgeData:
    """What a badge shows. ``colour`` is the ticket type's band colour (``#rrggbb``)."""

    name_native: str
    name_latin: str
    institution: str
    type_name: str
    kind: str
    colour: str
    event_name: str
    code: str


@dataclass(frozen=True)
class _Page:
    width: int
    height: int
    band: int  # height of the colour band at the top
    margin: int
    module: int  # QR pixels per module
    qr_at: tuple[int, int]  # top-left corner of the QR code (with its quiet zone)
    text_box: tuple[int, int, int, int]  # left, top, right, bottom for the names
    sizes: tuple[int, int, int]  # font sizes: native name, Latin name, institution
    event_size: int
    type_size: int


DPI = 300
_QR_MODULES = 41 + 8  # version 6 with its quiet zone: every ticket code

PAGES: dict[str, _Page] = {
    # 105 × 148 mm portrait: the band, three lines of names, a 49 mm QR code below them
    "a6": _Page(
        1240,
        1748,
        260,
        70,
        12,
        ((1240 - _QR_MODULES * 12) // 2, 1748 - 70 - _QR_MODULES * 12),
        (70, 300, 1170, 1748 - 70 - _QR_MODULES * 12 - 20),
        (120, 64, 52),
        60,
        56,
    ),
    # 4 × 3 inches landscape: the band, names on the left, a 33 mm QR code on the right
    "label": _Page(
        1200,
        900,
        170,
        40,
        8,
        (1200 - 40 - _QR_MODULES * 8, 170 + (900 - 170 - _QR_MODULES * 8) // 2),
        (40, 200, 1200 - 40 - _QR_MODULES * 8 - 20, 860),
        (84, 46, 38),
        46,
        40,
    ),
}

# Palette indices of a badge page (two bits a pixel; _BLACK is also the QR code's dark, see _quiet)
_WHITE, _BLACK, _BAND, _ON_BAND = range(4)


@lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont:
    found = cjk_font()
    return ImageFont.truetype(str(found.path), size=size, index=found.index)


_NOTDEF = "\U0010fffd"  # a noncharacter: every font draws its "missing glyph" box for it


def _glyph(font: ImageFont.FreeTypeFont, ch: str) -> bytes:
    picture = Image.new("L", (font.size * 2, font.size * 2), 0)
    ImageDraw.Draw(picture).text((0, 0), ch, font=font, fill=255)
    return picture.tobytes()


def missing_glyphs(text: str, size: int = 32) -> list[str]:
    """The characters of ``text`` the badge font draws as its "missing glyph" box (tofu)."""
    font = _font(size)
    box = _glyph(font, _NOTDEF)
    return [ch for ch in dict.fromkeys(text) if not ch.isspace() and _glyph(font, ch) == box]


def _rgb(colour: str) -> tuple[int, int, int]:
    text = colour.lstrip("#")
    try:
        if len(text) == 6:
            return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)
    except ValueError:
        pass
    return (0x1F, 0x6F, 0xEB)


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2])


def _on(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black or white, whichever contrasts more with ``rgb`` (WCAG contrast ratio)."""
    lum = _luminance(rgb)
    return (0, 0, 0) if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else (255, 255, 255)


def _mask(font: ImageFont.FreeTypeFont, text: str) -> tuple[np.ndarray, int, int]:
    """``text`` drawn unsmoothed (a badge printer prints dots) as a boolean array, with its offset
    from the line's left and top: one FreeType rendering, nothing measured twice."""
    mask, (dx, dy) = font.getmask2(text, "1", anchor="la")
    if mask.size[0] == 0 or mask.size[1] == 0:
        return np.zeros((0, 0), dtype=bool), dx, dy
    return np.asarray(Image.Image()._new(mask)) > 127, dx, dy


def _write(
    canvas: np.ndarray, xy: tuple[int, int], text: str, size: int, width: int, smallest: int, index: int
) -> int:
    """Write ``text`` into the page's index array at ``xy`` (its left and top) in the font of
    ``size``, made smaller (by tenths, down to ``smallest``) until it fits ``width`` pixels, then cut
    with an ellipsis if it still does not; returns the size used."""
    font = _font(size)
    mask, dx, dy = _mask(font, text)
    while dx + mask.shape[1] > width and size > smallest:
        size = max(smallest, int(size * 0.9))
        font = _font(size)
        mask, dx, dy = _mask(font, text)
    if dx + mask.shape[1] > width:
        while text and font.getlength(text + "…") > width:
            text = text[: max(0, len(text) - max(1, len(text) // 8))]
        mask, dx, dy = _mask(font, text + "…")
    x, y = xy[0] + dx, xy[1] + dy
    h, w = min(mask.shape[0], canvas.shape[0] - y), min(mask.shape[1], canvas.shape[1] - x)
    if h > 0 and w > 0:
        canvas[y : y + h, x : x + w][mask[:h, :w]] = index
    return size


@lru_cache(maxsize=64)
def _template(fmt: str, colour: str, event_name: str, type_name: str) -> tuple[np.ndarray, tuple]:
    """The part of a badge every ticket of one type shares (page, bands, event and type names) as
    palette indices, and the page's palette."""
    page = PAGES[fmt]
    band = _rgb(colour)
    palette = ((255, 255, 255), (0, 0, 0), band, _on(band))
    canvas = np.full((page.height, page.width), _WHITE, dtype=np.uint8)
    canvas[: page.band] = _BAND
    canvas[page.height - 24 :] = _BAND  # a band at the foot too: the role shows from either end of a lanyard
    width = page.width - 2 * page.margin
    for text, size, middle in ((event_name, page.event_size, 0.30), (type_name, page.type_size, 0.72)):
        ascent, descent = _font(size).getmetrics()
        _write(
            canvas,
            (page.margin, int(page.band * middle - (ascent + descent) / 2)),
            text,
            size,
            width,
            20,
            _ON_BAND,
        )
    canvas.flags.writeable = False
    return canvas, palette


def badge_indices(data: BadgeData, fmt: BadgeFormatName = "a6") -> tuple[np.ndarray, tuple]:
    """The badge as an array of palette indices (0–3) and its palette (see :func:`badge_png`)."""
    if fmt not in PAGES:
        raise ValueError(f"a badge is 'a6' or 'label', not {fmt!r}")
    page = PAGES[fmt]
    template, palette = _template(fmt, data.colour, data.event_name, data.type_name)
    canvas = template.copy()
    left, top, right, bottom = page.text_box
    width = right - left
    native_size, latin_size, institution_size = page.sizes
    native = data.name_native or data.name_latin
    lines = [(native, native_size)]
    if data.name_latin and data.name_latin != native:
        lines.append((data.name_latin, latin_size))
    if data.institution:
        lines.append((data.institution, institution_size))
    y = top
    for text, size in lines:
        if not text.strip() or y >= bottom:
            continue
        used = _write(canvas, (left, y), text, size, width, max(20, size // 2), _BLACK)
        y += int(used * 1.35)
    modules = _quiet(data.code, 4)
    side = modules.shape[0] * page.module
    x0, y0 = page.qr_at
    canvas[y0 : y0 + side, x0 : x0 + side] = np.repeat(np.repeat(modules, page.module, 0), page.module, 1)
    return canvas, palette


def badge_png(data: BadgeData, fmt: BadgeFormatName = "a6") -> bytes:
    """A printable badge at 300 dpi: ``a6`` (105 × 148 mm, 1240 × 1748 px) or ``label`` (4 × 3
    inches, 1200 × 900 px), as a PNG of four colours (white, black, the band's colour and the text
    on it). Raises :class:`FontMissing` (from ``backend.fonts``) where no CJK font is installed,
    naming the package to install."""
    canvas, palette = badge_indices(data, fmt)
    return _png(canvas, list(palette), 2, dpi=DPI)
