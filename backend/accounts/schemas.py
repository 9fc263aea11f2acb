from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from backend.accounts.tables import (
    ApiToken,
    ConsentKind,
    Profile,
    Role,
    RoleGrant,
    StudyStatus,
    TokenScope,
    User,
)
from backend.schemas import (
    LATIN_NAME_PATTERN,
    PRINTABLE,
    Password,
    PositiveInt,
    Struct,
    column_text,
    email_type,
)

# Stored as both e-mail and user name (Piccolo's BaseUser), so it must fit both columns.
Email = email_type(User.email, User.username)
DisplayName = column_text(User.display_name, required=True)
TokenName = column_text(ApiToken.name, required=True)
Region = column_text(RoleGrant.region, required=True)
Locale = column_text(User.locale, pattern=r"^(zh|en|ru)$")


# What a login is checked with: printable text no longer than an account's e-mail or password can be
# (anything else that does not match is simply ``invalid_credentials``).
LoginEmail = Annotated[
    str, msgspec.Meta(min_length=1, max_length=255, pattern=PRINTABLE, description="The account's e-mail")
]
LoginPassword = Annotated[
    str, msgspec.Meta(min_length=1, max_length=128, pattern=PRINTABLE, description="The account's password")
]


class LoginIn(Struct):
    email: LoginEmail
    password: LoginPassword


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
    """A new token; ``null`` expiry never expires. With ``email`` and ``password`` (both or neither)
    the token is that account's, and nothing else is needed: no cookie, no CSRF token, no earlier
    call. Without them the caller must be logged in (session or bearer token). A token creating a
    token cannot give it more scopes or a longer life than its own (so only credentials, a session or
    a non-expiring token make one that never expires)."""

    name: TokenName
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = 90
    scopes: Annotated[list[TokenScope], msgspec.Meta(min_length=1, max_length=3)] = msgspec.field(
        default_factory=lambda: [TokenScope.read, TokenScope.write]
    )
    email: LoginEmail | None = None
    password: LoginPassword | None = None


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


# Invitations, people search and the caller's own account ----------------------------------------


class InvitationIn(Struct):
    """A role offered by e-mail. ``locale`` is the language of the mail (and of the account it
    creates); by default the account's own language when the address has one, else the inviter's."""

    email: Email
    role: Role
    track_id: PositiveInt | None = None
    region: Region | None = None
    institution_id: PositiveInt | None = None
    locale: Locale | None = None


class OrganizationInvitationIn(Struct):
    """An organization-level role offered by e-mail: ``org_admin`` (creates and runs the
    organization's events, manages its people) or ``organizer`` (runs every one of its events)."""

    email: Email
    role: Literal["org_admin", "organizer"]
    locale: Locale | None = None


class InvitationOut(msgspec.Struct):
    id: int
    email: str
    role: str
    event_id: int | None
    organization_id: int | None
    track_id: int | None
    region: str | None
    institution_id: int | None
    locale: str
    status: str  # pending, expired, accepted or revoked
    invited_by: int | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    expires_at: dt.datetime
    accepted_at: dt.datetime | None
    revoked_at: dt.datetime | None


class AcceptIn(Struct):
    """The token from the mailed link; ``display_name`` and ``password`` create the account when the
    address has none (a logged-in caller whose e-mail is the invited one sends the token alone)."""

    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=PRINTABLE)]
    display_name: DisplayName | None = None
    password: Password | None = None


class AcceptOut(msgspec.Struct):
    user_id: int
    grant_id: int
    role: str
    event_id: int | None
    organization_id: int | None
    new_account: bool


class PersonOut(msgspec.Struct):
    """Someone holding a role in one of the caller's events (what an organizer may look up)."""

    user_id: int
    email: str
    display_name: str


class MePatch(Struct):
    display_name: DisplayName | msgspec.UnsetType = msgspec.UNSET
    locale: Locale | msgspec.UnsetType = msgspec.UNSET


class PasswordIn(Struct):
    current_password: Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=PRINTABLE)]
    new_password: Password


# Self-service accounts (backend.accounts.signup, profile, consents, erasure) ----------------------

NameNative = column_text(Profile.name_native, required=True)
NameLatin = column_text(Profile.name_latin, required=True, pattern=LATIN_NAME_PATTERN)
LinkToken = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=PRINTABLE)]
SHARING = (ConsentKind.share_sponsors, ConsentKind.share_employers, ConsentKind.share_incubators)


class SignupIn(Struct):
    """A new account: it can log in once the address is confirmed by the mailed link. ``terms``
    must be true; the three sharing consents are separate and optional."""

    email: Email
    password: Password
    name_native: NameNative
    name_latin: NameLatin
    locale: Locale = "zh"
    terms: bool = False
    share_sponsors: bool = False
    share_employers: bool = False
    share_incubators: bool = False


class EmailIn(Struct):
    email: Email


class TokenOnlyIn(Struct):
    token: LinkToken


class ResetIn(Struct):
    token: LinkToken
    password: Password


class Accepted(msgspec.Struct):
    """The same answer whether or not the address has an account."""

    detail: str


class ProfileIn(Struct):
    name_native: NameNative
    name_latin: NameLatin
    institution_id: PositiveInt | None = None
    study_status: StudyStatus = StudyStatus.other
    graduation_year: Annotated[int, msgspec.Meta(ge=1950, le=2100)] | None = None
    birth_date: dt.date | None = None
    country: Annotated[str, msgspec.Meta(max_length=2, pattern=r"^([A-Z]{2})?$")] = ""


class ProfileOut(msgspec.Struct):
    name_native: str
    name_latin: str
    institution_id: int | None
    study_status: str
    graduation_year: int | None
    birth_date: dt.date | None
    country: str
    updated_at: dt.datetime | None


class ConsentsIn(Struct):
    """The sharing consents to change (a missing one stays as it is)."""

    share_sponsors: bool | msgspec.UnsetType = msgspec.UNSET
    share_employers: bool | msgspec.UnsetType = msgspec.UNSET
    share_incubators: bool | msgspec.UnsetType = msgspec.UNSET


class ConsentOut(msgspec.Struct):
    kind: str
    version: str
    granted: bool
    created_at: dt.datetime


class ConsentsOut(msgspec.Struct):
    current: dict[str, bool]  # every kind: its latest answer (false when never given)
    versions: dict[str, str]  # the version of each text in force now
    history: list[ConsentOut]  # newest first


class EraseIn(Struct):
    password: LoginPassword
