from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from backend.accounts.tables import ApiToken, Role, RoleGrant, TokenScope, User
from backend.schemas import PRINTABLE, Password, PositiveInt, Struct, column_text, email_type

# Stored as both e-mail and user name (Piccolo's BaseUser), so it must fit both columns.
Email = email_type(User.email, User.username)
DisplayName = column_text(User.display_name, required=True)
TokenName = column_text(ApiToken.name, required=True)
Region = column_text(RoleGrant.region, required=True)
Locale = column_text(User.locale, pattern=r"^(zh|en|ru)$")


class LoginIn(Struct):
    email: Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=PRINTABLE)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=PRINTABLE)]


class UserIn(Struct):
    email: Email
    password: Password
    display_name: DisplayName
    locale: Locale = "zh"


class UserPatch(Struct):
    display_name: DisplayName | msgspec.UnsetType = msgspec.UNSET
    locale: Locale | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class UserOut(msgspec.Struct):
    id: int
    email: str
    display_name: str
    locale: str
    active: bool
    is_platform_admin: bool


class TokenIn(Struct):
    """A new token; ``null`` expiry never expires. A token creating a token cannot give it more scopes
    or a longer life than its own (so only a session or a non-expiring token makes one that never
    expires)."""

    name: TokenName
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = 90
    scopes: Annotated[list[TokenScope], msgspec.Meta(min_length=1, max_length=3)] = msgspec.field(
        default_factory=lambda: [TokenScope.read, TokenScope.write]
    )


class TokenOut(msgspec.Struct):
    id: int
    name: str
    scopes: list[str]
    parent_id: int | None  # the token that created this one; null when created from a login session
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
    region: Region | None = None
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
