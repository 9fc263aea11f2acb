"""The bodies that run events: an alliance, a university, an association or a company."""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class OrganizationKind(StrEnum):
    alliance = "alliance"  # an education–industry alliance or community
    university = "university"
    association = "association"
    company = "company"


class Organization(Table):
    """Owns events. Its admins and organizers hold organization-level role grants
    (``RoleGrant.organization`` set, ``RoleGrant.event`` empty) that reach every one of its events."""

    slug = Varchar(length=80, unique=True)
    kind = Varchar(length=20, choices=OrganizationKind)
    name_zh = Varchar(length=300, default="")
    name_en = Varchar(length=300, default="")
    name_ru = Varchar(length=300, default="")
    created_at = Timestamptz(default=TimestamptzNow())
