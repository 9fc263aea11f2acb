from __future__ import annotations

from enum import StrEnum

from piccolo.columns import Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class InstitutionKind(StrEnum):
    university = "university"
    vocational_college = "vocational_college"
    enterprise = "enterprise"
    association = "association"
    government_body = "government_body"


class Institution(Table):
    """An organisation in the directory; ``country`` is an ISO 3166-1 alpha-2 code."""

    name_zh = Varchar(length=200, default="")
    name_en = Varchar(length=200, default="", index=True)
    kind = Varchar(length=30, choices=InstitutionKind)
    country = Varchar(length=2, index=True)
    region = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())
