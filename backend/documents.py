"""PDF documents (score sheets, certificates): fpdf2 with the CJK font embedded (a subset of the
face :func:`backend.fonts.cjk_font` finds), so Chinese, Latin and Cyrillic text all print.

A machine without the font answers a document request with 503 ``font_missing`` naming the package
to install, never a PDF of empty boxes.
"""

from __future__ import annotations

from fpdf import FPDF

from backend.errors import DomainError
from backend.fonts import FontMissing, cjk_font

FONT = "cjk"


def new_pdf(orientation: str = "P", page_format: str | tuple[float, float] = "A4") -> FPDF:
    """A blank document (millimetres) whose font :data:`FONT` covers Chinese, Latin and Cyrillic;
    raises ``DomainError('font_missing')`` where no CJK font is installed."""
    try:
        font = cjk_font()
    except FontMissing as exc:
        raise DomainError("font_missing", "{reason}", status_code=503, params={"reason": str(exc)}) from exc
    pdf = FPDF(orientation=orientation, unit="mm", format=page_format)
    pdf.add_font(FONT, fname=str(font.path), collection_font_number=font.index)
    pdf.set_font(FONT, size=11)
    pdf.set_auto_page_break(auto=True, margin=15)
    return pdf


def pdf_bytes(pdf: FPDF) -> bytes:
    return bytes(pdf.output())
