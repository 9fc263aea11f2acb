from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from backend.accounts.tables import Role
from backend.schemas import Email, Locale, Name, Password, PositiveInt, Struct


class LoginIn(Struct):
    email: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class UserIn(Struct):
    email: Email
    password: Password
    display_name: Name
    locale: Locale = "zh"
    is_platform_admin: bool = False


class UserPatch(Struct):
    display_name: Name | msgspec.UnsetType = msgspec.UNSET
    locale: Locale | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    is_platform_admin: bool | msgspec.UnsetType = msgspec.UNSET


class UserOut(msgspec.Struct):
    id: int
    email: str
    display_name: str
    locale: str
    active: bool
    is_platform_admin: bool


class TokenIn(Struct):
    name: Name
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = 90


class TokenOut(msgspec.Struct):
    id: int
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class NewTokenOut(msgspec.Struct):
    """Returned once at creation: the token itself is never shown again."""

    token: str
    info: TokenOut


class RoleGrantIn(Struct):
    user_id: PositiveInt
    role: Role
    track_id: PositiveInt | None = None
    region: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]*$")] | None = (
        None
    )
    institution_id: PositiveInt | None = None


class RoleGrantOut(msgspec.Struct):
    id: int
    user_id: int
    user_email: str
    role: str
    event_id: int
    track_id: int | None
    region: str | None
    institution_id: int | None
    created_at: dt.datetime
