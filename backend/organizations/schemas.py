from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from backend.organizations.tables import Organization, OrganizationKind
from backend.schemas import PositiveInt, Struct, column_text

Slug = column_text(Organization.slug, min_length=2, pattern=r"^[a-z0-9][a-z0-9-]*$")
OrganizationName = column_text(Organization.name_en)
OrganizationRole = Literal["org_admin", "organizer"]


class OrganizationIn(Struct):
    kind: OrganizationKind
    slug: Slug
    name_zh: OrganizationName = ""
    name_en: OrganizationName = ""
    name_ru: OrganizationName = ""


class OrganizationPatch(Struct):
    kind: OrganizationKind | msgspec.UnsetType = msgspec.UNSET
    name_zh: OrganizationName | msgspec.UnsetType = msgspec.UNSET
    name_en: OrganizationName | msgspec.UnsetType = msgspec.UNSET
    name_ru: OrganizationName | msgspec.UnsetType = msgspec.UNSET


class OrganizationOut(msgspec.Struct):
    id: int
    slug: str
    kind: str
    name_zh: str
    name_en: str
    name_ru: str
    created_at: dt.datetime


class OrganizationGrantIn(Struct):
    """An organization-level role: ``org_admin`` creates and runs the organization's events and
    manages its people; ``organizer`` runs every one of its events."""

    user_id: PositiveInt
    role: OrganizationRole


class OrganizationGrantOut(msgspec.Struct):
    id: int
    user_id: int
    user_email: str
    user_name: str
    role: str
    created_at: dt.datetime
