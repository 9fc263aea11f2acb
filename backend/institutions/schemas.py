from __future__ import annotations

import msgspec

from backend.institutions.tables import InstitutionKind
from backend.schemas import CountryCode, OptionalName, Struct


class InstitutionIn(Struct):
    kind: InstitutionKind
    country: CountryCode
    name_zh: OptionalName = ""
    name_en: OptionalName = ""
    region: OptionalName = ""


class InstitutionOut(msgspec.Struct):
    id: int
    kind: str
    country: str
    name_zh: str
    name_en: str
    region: str
