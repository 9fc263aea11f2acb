from __future__ import annotations

import msgspec

from backend.institutions.tables import Institution, InstitutionKind
from backend.schemas import Struct, column_text

InstitutionName = column_text(Institution.name_en)
Region = column_text(Institution.region)
CountryCode = column_text(Institution.country, pattern=r"^[A-Z]{2}$")


class InstitutionIn(Struct):
    kind: InstitutionKind
    country: CountryCode
    name_zh: InstitutionName = ""
    name_en: InstitutionName = ""
    region: Region = ""


class InstitutionOut(msgspec.Struct):
    id: int
    kind: str
    country: str
    name_zh: str
    name_en: str
    region: str
