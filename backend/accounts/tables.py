"""Account tables. ``User`` extends Piccolo's ``BaseUser`` (Piccolo Admin's user table), with
argon2id password hashes instead of Piccolo's PBKDF2. The back office admits platform admins by their
site session (``backend.admin``), never by a login of its own.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import Boolean, Date, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table
from piccolo_api.session_auth.tables import SessionsBase

from backend.accounts import passwords
from backend.db import utcnow


class Role(StrEnum):
    org_admin = "org_admin"  # organization-level only: see backend.policy
    organizer = "organizer"
    judge = "judge"
    checkin_staff = "checkin_staff"
    team_member = "team_member"
    exhibitor = "exhibitor"
    mentor = "mentor"


class TokenScope(StrEnum):
    """What a bearer token may do; a login session holds every scope."""

    read = "read"
    """GET, HEAD and OPTIONS on whatever the user may see."""
    write = "write"
    """Every change the user may make (any other method)."""
    device = "device"
    """For scanning devices: with check-in, the scanning endpoints (marked ``opt={"token_scope": "device"}``)
    will accept a token holding it, so a gate scanner's token can scan tickets and nothing else."""


class User(BaseUser, tablename="podium_user"):
    """A person. ``superuser`` marks a platform admin (``admin`` is kept equal to it for Piccolo Admin).

    ``auth_epoch`` is copied into every login session; a session whose epoch differs is dead. A
    database trigger (migration 2026-11-28T15:38:14) bumps it and revokes the user's tokens whenever
    ``active`` turns false, whoever writes it (API, back office, SQL), so reactivating an account
    never revives its old sessions or tokens.
    """

    display_name = Varchar(length=200, default="")
    locale = Varchar(length=5, default="zh")
    created_at = Timestamptz(default=TimestamptzNow())
    auth_epoch = Integer(default=0)
    # NULL while a signed-up address is unconfirmed; "now" for every account made another way (admin,
    # invitation, import): only sign-up (``backend.accounts.signup``) writes NULL.
    email_confirmed_at = Timestamptz(null=True, default=TimestamptzNow())

    def __init__(self, **kwargs: Any) -> None:
        password = kwargs.get("password")
        if password and not passwords.is_hash(password):
            kwargs["password"] = passwords.hash_password(password)
        Table.__init__(self, **kwargs)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "password" and isinstance(value, str) and value and not passwords.is_hash(value):
            value = passwords.hash_password(value)
        Table.__setattr__(self, name, value)

    @classmethod
    def account(
        cls,
        email: str,
        password_hash: str | None,
        display_name: str,
        locale: str,
        *,
        confirmed: bool = True,
        platform_admin: bool = False,
    ) -> User:
        """A new active account whose username is its e-mail (unsaved). ``confirmed=False`` only for
        sign-up, where the mailed link confirms the address; admins, invitations and imports make
        confirmed accounts."""
        return cls(
            username=email,
            email=email,
            password=password_hash,
            display_name=display_name,
            locale=locale,
            active=True,
            admin=platform_admin,
            superuser=platform_admin,
            **({} if confirmed else {"email_confirmed_at": None}),
        )

    @classmethod
    def hash_password(cls, password: str, salt: str = "", iterations: int | None = None) -> str:
        return passwords.hash_password(password)

    @classmethod
    def _validate_password(cls, password: str) -> None:
        if not passwords.MIN_LENGTH <= len(password) <= passwords.MAX_LENGTH:
            raise ValueError(
                f"The password must be {passwords.MIN_LENGTH} to {passwords.MAX_LENGTH} characters long."
            )


async def authenticate(username: str, password: str) -> int | None:
    """The id of the active user with this username (or e-mail) and password, else ``None``."""
    if len(password) > passwords.MAX_LENGTH or len(username) > 255:
        return None
    key = username.strip().lower()
    row = (
        await User.select(User.id, User.password, User.active)
        .where((User.username == key) | (User.email == key))
        .first()
    )
    stored = row["password"] if row and row["active"] else None
    if not passwords.verify_password(stored, password) or row is None:
        return None
    updates: dict[Any, Any] = {User.last_login: utcnow().replace(tzinfo=None)}  # BaseUser: naive UTC
    if passwords.needs_rehash(row["password"]):
        updates[User.password] = passwords.hash_password(password)
    await User.update(updates).where(User.id == row["id"])
    return row["id"]


class AdminSession(SessionsBase, tablename="podium_admin_session"):
    """Required by Piccolo Admin's app; always empty: its login, which would fill it, is refused, and
    the back office runs on the site session (``backend.admin``)."""


def _optional_reference(table: str, module: str) -> ForeignKey:
    """A nullable foreign key to a table of another domain, deleted with it: what a role grant and an
    invitation name (the event or organization, and the scope inside it)."""
    return ForeignKey(
        LazyTableReference(table, module_path=module), null=True, default=None, on_delete=OnDelete.cascade
    )


class RoleGrant(Table):
    """A role held by a user in an event (narrowed, where it applies, to a track, region or
    institution) or, with ``organization`` set instead of ``event``, in every event of an
    organization (roles ``org_admin`` and ``organizer``). The database holds exactly one of the two."""

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    role = Varchar(length=20, choices=Role)
    event = _optional_reference("Event", "backend.events.tables")
    track = _optional_reference("Track", "backend.events.tables")
    region = Varchar(length=100, null=True, default=None)
    institution = _optional_reference("Institution", "backend.institutions.tables")
    organization = _optional_reference("Organization", "backend.organizations.tables")
    granted_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class ApiToken(Table):
    """A bearer token for an API client or scanning device; only its SHA-256 is stored.

    ``scopes`` is a space-separated set of :class:`TokenScope` values. ``parent`` is the token that
    created this one (``None`` when created from a login session): a child never holds more scopes or
    lives longer than its parent, and revoking a token revokes its descendants.
    """

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    name = Varchar(length=100)
    token_hash = Varchar(length=64, unique=True, index=True, index_method=IndexMethod.btree)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    scopes = Varchar(length=40, default="read write")
    parent = ForeignKey("self", null=True, default=None, on_delete=OnDelete.cascade, index=True)


class Invitation(Table):
    """A role offered to an e-mail address: accepting it (with the link mailed to the address) creates
    the role grant, and the account too when the address has none. Only the token's SHA-256 is stored.

    Pending while neither accepted nor revoked (and until ``expires_at``); a partial unique index keeps
    one pending invitation per address, role and scope (inviting again refreshes it).
    """

    email = Varchar(length=255)
    role = Varchar(length=20, choices=Role)
    event = _optional_reference("Event", "backend.events.tables")
    track = _optional_reference("Track", "backend.events.tables")
    region = Varchar(length=100, null=True, default=None)
    institution = _optional_reference("Institution", "backend.institutions.tables")
    # instead of ``event``, for an organization-level role
    organization = _optional_reference("Organization", "backend.organizations.tables")
    locale = Varchar(length=5, default="zh")  # the language of the mail and of the account it creates
    token_hash = Varchar(length=64, unique=True)
    invited_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)  # the last time the link was mailed
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
    accepted_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    revoked_at = Timestamptz(null=True, default=None)


class StudyStatus(StrEnum):
    """Where a person stands, as contests' eligibility rules ask it."""

    student = "student"  # enrolled full-time
    graduate = "graduate"  # graduated (``graduation_year`` says when)
    teacher = "teacher"  # university staff: a university advisor
    professional = "professional"  # employed elsewhere: an enterprise advisor
    other = "other"


class Profile(Table):
    """What registration asks of a person, one row per account: the name in native script and in
    Latin letters (badges, certificates, the international contests), the institution from the
    directory, study status, graduation year, date of birth and country (ISO 3166-1 alpha-2).
    The contests' eligibility rules (``backend.teams.rules``) read it."""

    user = ForeignKey(User, null=False, unique=True, on_delete=OnDelete.cascade)
    name_native = Varchar(length=200, default="")
    name_latin = Varchar(length=200, default="")
    institution = ForeignKey(
        LazyTableReference("Institution", module_path="backend.institutions.tables"),
        null=True,
        default=None,
        on_delete=OnDelete.set_null,
    )
    study_status = Varchar(length=20, choices=StudyStatus, default=StudyStatus.other.value)
    graduation_year = Integer(null=True, default=None)
    birth_date = Date(null=True, default=None)
    country = Varchar(length=2, default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class ConsentKind(StrEnum):
    terms = "terms"  # required to sign up
    share_sponsors = "share_sponsors"
    share_employers = "share_employers"
    share_incubators = "share_incubators"


class Consent(Table):
    """One consent given or withdrawn, with the version of the text, the time and the client address.
    Append-only: the current state of a kind is its latest row (``backend.accounts.consents``)."""

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    kind = Varchar(length=30, choices=ConsentKind)
    version = Varchar(length=20)
    granted = Boolean()
    client_address = Varchar(length=45, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class TokenPurpose(StrEnum):
    confirm_email = "confirm_email"
    reset_password = "reset_password"  # noqa: S105 (a purpose, not a secret)


class AccountToken(Table):
    """A one-time link mailed to the account's address; only its SHA-256 is stored. Used once
    (``used_at``), dead after ``expires_at``."""

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    purpose = Varchar(length=20, choices=TokenPurpose)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
