"""A certificate as an A4 landscape PDF: the event, stage, prize, the holder's name in native script
and Latin letters, the team, the date and a QR code of the public verification page."""

from __future__ import annotations

import io
from typing import Any

import qrcode
from babel.dates import format_date

from backend.documents import FONT, new_pdf, pdf_bytes
from backend.i18n import translations

_BABEL_LOCALE = {"zh": "zh_Hans_CN", "en": "en", "ru": "ru"}


def localized_text(row: dict[str, Any], prefix: str, lang: str) -> str:
    """``row[prefix_lang]``, else the first of en, zh, ru that is given."""
    for code in (lang, "en", "zh", "ru"):
        value = (row.get(f"{prefix}_{code}") or "").strip()
        if value:
            return value
    return ""


def qr_png(url: str) -> bytes:
    """The QR code of ``url`` as a PNG (error correction M, a quiet zone of 4 modules)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(url)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def certificate_pdf(row: dict[str, Any], lang: str, url: str) -> bytes:
    """One page; ``row`` is ``service.certificate_by_serial``'s, ``url`` its verification page."""
    t = translations(lang)
    pdf = new_pdf(orientation="L")
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    width = pdf.w - 30
    pdf.set_draw_color(120, 90, 20)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_line_width(0.3)
    pdf.rect(13, 13, pdf.w - 26, pdf.h - 26)

    def line(text: str, size: float, height: float, top: float | None = None) -> None:
        if top is not None:
            pdf.set_y(top)
        pdf.set_x(15)
        pdf.set_font(FONT, size=size)
        pdf.multi_cell(width, height, text, align="C")

    line(localized_text(row, "event", lang), 18, 9, top=24)
    line(localized_text(row, "stage", lang), 13, 7)
    line(t.gettext("Certificate of award"), 30, 16, top=pdf.get_y() + 6)
    line(t.gettext("This certifies that"), 12, 7, top=pdf.get_y() + 4)
    line(row["holder_name"], 28, 14)
    if row["holder_name_latin"] and row["holder_name_latin"] != row["holder_name"]:
        line(row["holder_name_latin"], 14, 8)
    team = t.gettext("of the team %(team)s") % {"team": row["team_name"]}
    role = t.gettext("advisor") if row["role"] == "advisor" else t.gettext("member")
    line(f"{role} · {team}", 12, 7, top=pdf.get_y() + 2)
    line(t.gettext("has been awarded"), 12, 7, top=pdf.get_y() + 4)
    line(localized_text(row, "tier", lang) or row["tier_code"], 24, 13)
    # Babel puts narrow no-break spaces into dates ("30 июня 2027 г."), which the CJK font lacks
    issued = format_date(row["issued_at"], format="long", locale=_BABEL_LOCALE[lang]).replace("\u202f", " ")
    pdf.set_font(FONT, size=10)
    pdf.set_xy(22, pdf.h - 42)
    pdf.cell(150, 6, t.gettext("Issued on %(date)s") % {"date": issued})
    pdf.set_xy(22, pdf.h - 35)
    pdf.cell(150, 6, t.gettext("Serial number: %(serial)s") % {"serial": row["serial"]})
    pdf.set_xy(22, pdf.h - 28)
    pdf.set_font(FONT, size=8)
    pdf.cell(200, 5, t.gettext("Check it by scanning the code or at %(url)s") % {"url": url})
    size = 34
    pdf.image(io.BytesIO(qr_png(url)), x=pdf.w - 22 - size, y=pdf.h - 22 - size, w=size, h=size)
    return pdf_bytes(pdf)
