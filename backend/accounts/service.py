"""Account operations. Each write validates, changes the database in one transaction with its audit
entry, and returns plain data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from msgspec import UNSET

from backend import audit
from backend.accounts import passwords
from backend.accounts.schemas import (
    NewTokenOut,
    RoleGrantIn,
    RoleGrantOut,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from backend.accounts.tables import ApiToken, RoleGrant, User, authenticate
from backend.db import locked_row, transaction, utcnow
from backend.errors import DomainError, Forbidden, NotFound
from backend.events.tables import Event, Track
from backend.institutions.tables import Institution
from backend.policy import Principal
from backend.schemas import contains
from backend.security import new_api_token

_USER_COLUMNS = (User.id, User.email, User.display_name, User.locale, User.active, User.superuser)


def _user_out(row: dict[str, Any]) -> UserOut:
    return UserOut(
        id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        locale=row["locale"],
        active=row["active"],
        is_platform_admin=row["superuser"],
    )


async def check_credentials(email: str, password: str) -> int:
    """The user id for these credentials, or ``invalid_credentials`` (same answer for unknown e-mail).

    Either way the attempt is audited: ``auth.login`` by the user, or ``auth.login_failed`` with the
    e-mail that was tried and no actor.
    """
    async with transaction():
        user_id = await authenticate(email, password)
        if user_id is None:
            await audit.record(None, "auth.login_failed", "user", None, data={"email": email[:255]})
        else:
            await audit.record(user_id, "auth.login", "user", user_id)
    if user_id is None:
        raise DomainError("invalid_credentials", "The e-mail or password is wrong", status_code=401)
    return user_id


async def record_logout(actor: Principal) -> None:
    """Audit the end of a session (the session itself lives in the session store, not the database)."""
    await audit.record(actor.id, "auth.logout", "user", actor.id)


_LOCALES = ("zh", "en", "ru")  # backend.i18n.LOCALES, which services do not import (it is web code)


async def set_locale(actor: Principal, locale: str) -> None:
    """Remember the caller's page language."""
    if locale not in _LOCALES:
        raise DomainError(
            "validation_error", "Unknown language", fields={"locale": f"one of {', '.join(_LOCALES)}"}
        )
    async with transaction():
        await User.update({User.locale: locale}).where(User.id == actor.id)
        await audit.record(actor.id, "user.set_locale", "user", actor.id, data={"locale": locale})


async def create_user(actor_id: int | None, data: UserIn) -> UserOut:
    email = data.email.strip().lower()
    password = passwords.hash_password(data.password)  # slow: not while holding SQLite's write lock
    async with transaction():  # a taken e-mail breaks podium_user_email_key (or _username_key): 409
        user = User(
            username=email,
            email=email,
            password=password,
            display_name=data.display_name,
            locale=data.locale,
            active=True,
            admin=data.is_platform_admin,
            superuser=data.is_platform_admin,
        )
        await user.save()
        await audit.record(actor_id, "user.create", "user", user.id, data={"email": email})
    return await get_user(user.id)


async def get_user(user_id: int) -> UserOut:
    row = await User.select(*_USER_COLUMNS).where(User.id == user_id).first()
    if row is None:
        raise NotFound("User")
    return _user_out(row)


async def list_users(limit: int, offset: int, query: str | None) -> tuple[list[UserOut], int]:
    where = User.id > 0
    if query:
        where = contains(query, User.email, User.display_name)
    rows = await User.select(*_USER_COLUMNS).where(where).order_by(User.id).limit(limit).offset(offset)
    total = await User.count().where(where)
    return [_user_out(r) for r in rows], total


async def update_user(actor: Principal, user_id: int, data: UserPatch) -> UserOut:
    changes: dict[Any, Any] = {}
    for field, column in (
        ("display_name", User.display_name),
        ("locale", User.locale),
        ("active", User.active),
    ):
        value = getattr(data, field)
        if value is not UNSET:
            changes[column] = value
    if data.is_platform_admin is not UNSET:
        if user_id == actor.id and not data.is_platform_admin:
            raise DomainError("cannot_demote_self", "You cannot remove your own platform admin rights")
        changes[User.superuser] = data.is_platform_admin
        changes[User.admin] = data.is_platform_admin
    if user_id == actor.id and changes.get(User.active) is False:
        raise DomainError("cannot_deactivate_self", "You cannot deactivate your own account")
    async with transaction():
        if not await User.exists().where(User.id == user_id):
            raise NotFound("User")
        if changes:
            await User.update(changes).where(User.id == user_id)
            await audit.record(
                actor.id, "user.update", "user", user_id, data={c._meta.name: v for c, v in changes.items()}
            )
    return await get_user(user_id)


# API tokens -----------------------------------------------------------------------------------

_TOKEN_COLUMNS = (
    ApiToken.id,
    ApiToken.name,
    ApiToken.created_at,
    ApiToken.expires_at,
    ApiToken.last_used_at,
    ApiToken.revoked_at,
)


async def create_token(actor: Principal, data: TokenIn) -> NewTokenOut:
    token, digest = new_api_token()
    expires = utcnow() + dt.timedelta(days=data.expires_in_days) if data.expires_in_days else None
    async with transaction():
        row = ApiToken(user=actor.id, name=data.name, token_hash=digest, expires_at=expires)
        await row.save()
        await audit.record(actor.id, "token.create", "api_token", row.id, data={"name": data.name})
    info = await ApiToken.select(*_TOKEN_COLUMNS).where(ApiToken.id == row.id).first()
    return NewTokenOut(token=token, info=TokenOut(**info))


async def list_tokens(actor: Principal) -> list[TokenOut]:
    rows = await ApiToken.select(*_TOKEN_COLUMNS).where(ApiToken.user == actor.id).order_by(ApiToken.id)
    return [TokenOut(**r) for r in rows]


async def revoke_token(actor: Principal, token_id: int) -> None:
    """Revoke one of the caller's tokens (a platform admin may revoke anyone's)."""
    async with transaction():
        row = await ApiToken.select(ApiToken.user, ApiToken.revoked_at).where(ApiToken.id == token_id).first()
        if row is None or (row["user"] != actor.id and not actor.is_platform_admin):
            raise NotFound("Token")
        if row["revoked_at"] is None:
            await ApiToken.update({ApiToken.revoked_at: utcnow()}).where(ApiToken.id == token_id)
            await audit.record(actor.id, "token.revoke", "api_token", token_id)


# Roles ----------------------------------------------------------------------------------------


async def _grant_out(where: Any) -> list[RoleGrantOut]:
    rows = (
        await RoleGrant.select(
            RoleGrant.id,
            RoleGrant.user,
            RoleGrant.user.email.as_alias("user_email"),
            RoleGrant.role,
            RoleGrant.event,
            RoleGrant.track,
            RoleGrant.region,
            RoleGrant.institution,
            RoleGrant.created_at,
        )
        .where(where)
        .order_by(RoleGrant.id)
    )
    return [
        RoleGrantOut(
            id=r["id"],
            user_id=r["user"],
            user_email=r["user_email"],
            role=r["role"],
            event_id=r["event"],
            track_id=r["track"],
            region=r["region"],
            institution_id=r["institution"],
            created_at=r["created_at"],
        )
        for r in rows
    ]


async def list_grants(event_id: int) -> list[RoleGrantOut]:
    if not await Event.exists().where(Event.id == event_id):
        raise NotFound("Event")
    return await _grant_out(RoleGrant.event == event_id)


async def grant_role(actor: Principal, event_id: int, data: RoleGrantIn) -> RoleGrantOut:
    async with transaction():
        if not await Event.exists().where(Event.id == event_id):
            raise NotFound("Event")
        if not await User.exists().where(User.id == data.user_id):
            raise DomainError("unknown_user", "No such user", fields={"user_id": "unknown"})
        await locked_row(Event, event_id)  # the event's tracks hold still until the grant commits
        if data.track_id is not None and not await Track.exists().where(
            (Track.id == data.track_id) & (Track.event == event_id)
        ):
            raise DomainError(
                "unknown_track", "The track is not part of this event", fields={"track_id": "unknown"}
            )
        if data.institution_id is not None and not await Institution.exists().where(
            Institution.id == data.institution_id
        ):
            raise DomainError(
                "unknown_institution", "No such institution", fields={"institution_id": "unknown"}
            )
        grant = RoleGrant(  # the same role and scope again breaks role_grant_scope: 409 role_exists
            user=data.user_id,
            role=data.role.value,
            event=event_id,
            track=data.track_id,
            region=data.region,
            institution=data.institution_id,
            granted_by=actor.id,
        )
        await grant.save()
        await audit.record(
            actor.id,
            "role.grant",
            "role_grant",
            grant.id,
            event_id=event_id,
            data={"user_id": data.user_id, "role": data.role.value},
        )
    return (await _grant_out(RoleGrant.id == grant.id))[0]


async def revoke_role(actor: Principal, event_id: int, grant_id: int) -> None:
    async with transaction():
        row = (
            await RoleGrant.select(RoleGrant.user, RoleGrant.role)
            .where((RoleGrant.id == grant_id) & (RoleGrant.event == event_id))
            .first()
        )
        if row is None:
            raise NotFound("Role grant")
        if row["user"] == actor.id and row["role"] == "organizer" and not actor.is_platform_admin:
            raise Forbidden("You cannot remove your own organizer role")
        await RoleGrant.delete().where(RoleGrant.id == grant_id)
        await audit.record(actor.id, "role.revoke", "role_grant", grant_id, event_id=event_id, data=row)
