"""PDF documents embed the CJK font, and a machine without it gets a clear 503, not empty boxes."""

from __future__ import annotations

import re

import pytest

from backend import documents
from backend.errors import DomainError
from backend.fonts import FontMissing


def test_a_document_embeds_a_subset_of_the_cjk_font():
    pdf = documents.new_pdf()
    pdf.add_page()
    pdf.cell(text="获奖证书 Certificate Сертификат")
    data = documents.pdf_bytes(pdf)
    assert data.startswith(b"%PDF-")
    assert re.search(rb"/FontFile[23]", data), "the font is embedded"
    assert len(data) < 200_000, "a subset, not the whole CJK collection"


def test_without_the_font_the_answer_names_the_package(monkeypatch):
    def missing():
        raise FontMissing("install the package fonts-noto-cjk")

    monkeypatch.setattr(documents, "cjk_font", missing)
    with pytest.raises(DomainError) as caught:
        documents.new_pdf()
    assert caught.value.code == "font_missing"
    assert caught.value.status_code == 503
    assert "fonts-noto-cjk" in caught.value.detail
