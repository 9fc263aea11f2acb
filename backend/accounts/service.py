"""Account operations. Each write validates, changes the database in one transaction with its audit
entry, and returns plain data."""

from __future__ import annotations

import datetime as dt
from contextvars import ContextVar
from typing import Any, Literal, Protocol

from msgspec import UNSET
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from backend import audit, policy, signals
from backend.accounts import passwords
from backend.accounts.schemas import (
    InvitationIn,
    MePatch,
    NewTokenOut,
    PasswordIn,
    RoleGrantIn,
    RoleGrantOut,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from backend.accounts.tables import ApiToken, Role, RoleGrant, TokenScope, User, authenticate
from backend.accounts.tokens import forget_cached_credentials, new_api_token, parse_scopes
from backend.db import engine, locked_row, on_commit, transaction, utcnow
from backend.errors import DomainError, Forbidden, NotFound
from backend.events.tables import Event, Track
from backend.institutions.tables import Institution
from backend.policy import Principal
from backend.schemas import contains

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


LoginOutcome = Literal["ok", "failed", "aborted"]


class LoginThrottle(Protocol):
    """The login limits that apply to the attempt being served: per e-mail address (lockout with
    backoff) and per client address (failed attempts only). The web layer sets one for each request
    to a login route (``backend.security.LoginRateLimitMiddleware``: the API's and the form's)."""

    async def admit(self, email: str) -> None:
        """Reserve an attempt for this (normalised) e-mail, or raise the web layer's 429 when the
        limits leave none: checked before the password, so a right password is refused as well."""

    async def settle(self, email: str, outcome: LoginOutcome) -> int | None:
        """Account for an admitted attempt, once; the seconds the e-mail is now locked for when this
        failure locked it."""


login_throttle: ContextVar[LoginThrottle | None] = ContextVar("podium_login_throttle", default=None)


async def check_credentials(email: str, password: str) -> int:
    """The user id for these credentials, or ``invalid_credentials`` (same answer for unknown e-mail);
    403 ``email_unconfirmed`` for the right password of an account whose address is not confirmed.

    Either way the attempt is audited: ``auth.login`` by the user, or ``auth.login_failed`` with the
    e-mail that was tried and no actor (and ``locked_seconds`` when this failure locked the e-mail).
    Behind a :data:`login_throttle` the attempt must first be admitted by the login limits; an
    unknown e-mail is counted and locked exactly like a real one, so the limits reveal nothing.
    """
    throttle = login_throttle.get()
    key = email.strip().lower()  # as ``authenticate`` looks it up
    if throttle is not None:
        await throttle.admit(key)
    settled = False
    try:
        async with transaction():
            user_id = await authenticate(email, password)
            locked = None
            if throttle is not None:
                settled = True
                locked = await throttle.settle(key, "ok" if user_id is not None else "failed")
            unconfirmed = user_id is not None and await User.exists().where(
                (User.id == user_id) & User.email_confirmed_at.is_null()
            )
            if user_id is None:
                data: dict[str, Any] = {"email": email[:255]}
                if locked:
                    data["locked_seconds"] = locked
                await audit.record(None, "auth.login_failed", "user", None, data=data)
            elif unconfirmed:
                await audit.record(user_id, "auth.login_unconfirmed", "user", user_id)
            else:
                await audit.record(user_id, "auth.login", "user", user_id)
    except BaseException:
        if throttle is not None and not settled:
            await throttle.settle(key, "aborted")
        raise
    if user_id is None:
        raise DomainError("invalid_credentials", "The e-mail or password is wrong", status_code=401)
    if unconfirmed:  # only told to whoever knows the password
        raise DomainError(
            "email_unconfirmed",
            "Confirm your e-mail address with the link we sent you first (you can have it sent again)",
            status_code=403,
        )
    return user_id


async def record_logout(actor: Principal) -> None:
    """Audit the end of a session (the session itself lives in the session store, not the database)."""
    await audit.record(actor.id, "auth.logout", "user", actor.id)


_LOCALES = ("zh", "en", "ru")  # backend.i18n.LOCALES, which services do not import (it is web code)


async def set_locale(actor: Principal, locale: str) -> None:
    """Remember the caller's page language."""
    if locale not in _LOCALES:
        raise DomainError(
            "validation_error",
            "Unknown language",
            fields={"locale": "must be one of: {choices}"},
            params={"choices": ", ".join(_LOCALES)},
        )
    async with transaction():
        await User.update({User.locale: locale}).where(User.id == actor.id)
        _forget_after_commit(actor.id)
        await audit.record(actor.id, "user.set_locale", "user", actor.id, data={"locale": locale})


async def update_me(actor: Principal, data: MePatch) -> UserOut:
    """Change the caller's own name or language."""
    changes: dict[Any, Any] = {}
    for field, column in (("display_name", User.display_name), ("locale", User.locale)):
        value = getattr(data, field)
        if value is not UNSET:
            changes[column] = value
    if changes:
        async with transaction():
            await User.update(changes).where(User.id == actor.id)
            _forget_after_commit(actor.id)
            await audit.record(
                actor.id,
                "user.update_self",
                "user",
                actor.id,
                data={c._meta.name: v for c, v in changes.items()},
            )
    return await get_user(actor.id)


async def password_is_right(actor: Principal, password: str) -> bool:
    """Whether ``password`` is the caller's; behind the login limits, a wrong one counts as a failed
    login of the account (so a borrowed session cannot guess it)."""
    throttle = login_throttle.get()
    key = actor.email.strip().lower()
    if throttle is not None:
        await throttle.admit(key)
    settled = False
    try:
        row = await User.select(User.password).where(User.id == actor.id).first()
        right = row is not None and passwords.verify_password(row["password"], password)
        if throttle is not None:
            settled = True
            await throttle.settle(key, "ok" if right else "failed")
    except BaseException:
        if throttle is not None and not settled:
            await throttle.settle(key, "aborted")
        raise
    return right


async def change_password(actor: Principal, data: PasswordIn) -> None:
    """Set a new password when the current one is right (400 ``wrong_password`` otherwise; behind
    the login limits, a wrong one counts as a failed login of the account).

    Bumps the account's ``auth_epoch``, which ends every login session of the account: the web
    layer starts a new one for the browser that made the change. Bearer tokens stay valid (they are
    listed and revoked on their own, ``/api/v1/auth/tokens``)."""
    if not await password_is_right(actor, data.current_password):
        raise DomainError(
            "wrong_password", "The current password is wrong", fields={"current_password": "wrong"}
        )
    new_hash = passwords.hash_password(data.new_password)  # slow: not while holding SQLite's write lock
    async with transaction():
        await User.update({User.password: new_hash, User.auth_epoch: User.auth_epoch + 1}).where(
            User.id == actor.id
        )
        _forget_after_commit(actor.id)
        await audit.record(actor.id, "user.change_password", "user", actor.id)


async def create_user(actor_id: int | None, data: UserIn, *, platform_admin: bool = False) -> UserOut:
    """Create an account. ``platform_admin`` is for the operator's command line and the back office:
    the API never makes a platform admin."""
    email = data.email.strip().lower()
    password = passwords.hash_password(data.password)  # slow: not while holding SQLite's write lock
    async with transaction():  # a taken e-mail breaks podium_user_email_key (or _username_key): 409
        user = User.account(email, password, data.display_name, data.locale, platform_admin=platform_admin)
        await user.save()
        await audit.record(actor_id, "user.create", "user", user.id, data={"email": email})
    return await get_user(user.id)


async def create_invited_user(
    email: str, locale: str, display_name: str | None, password_hash: str | None
) -> int:
    """The account of an invited address that has none, confirmed (the mailed link proves the
    address): what accepting a role's or a team's invitation without a login creates. Refused when
    the address has an account (log in to accept) or without a name and a password. Its id."""
    if await User.exists().where(User.email == email):
        raise DomainError(
            "invitation_login_required",
            "An account with this e-mail exists: log in to accept the invitation",
            status_code=401,
        )
    given = {"display_name": display_name, "password": password_hash}
    missing = {field: "required" for field, value in given.items() if not value}
    if missing:
        raise DomainError("validation_error", "Give your name and a password", fields=missing)
    user = User.account(email, password_hash, display_name or "", locale)
    await user.save()
    return user.id


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
    """Deactivating (``active`` false) also ends the user's sessions and revokes their tokens for good:
    a database trigger does it, so the back office and any other writer do the same."""
    changes: dict[Any, Any] = {}
    for field, column in (
        ("display_name", User.display_name),
        ("locale", User.locale),
        ("active", User.active),
    ):
        value = getattr(data, field)
        if value is not UNSET:
            changes[column] = value
    if user_id == actor.id and changes.get(User.active) is False:
        raise DomainError("cannot_deactivate_self", "You cannot deactivate your own account")
    async with transaction():
        if not await User.exists().where(User.id == user_id):
            raise NotFound("User")
        if changes:
            await User.update(changes).where(User.id == user_id)
            _forget_after_commit(user_id)
            await audit.record(
                actor.id, "user.update", "user", user_id, data={c._meta.name: v for c, v in changes.items()}
            )
    return await get_user(user_id)


def _forget_after_commit(user_id: int) -> None:
    """Once the transaction commits, drop what this process caches about the user's tokens, so the
    next request here cannot pass on a revoked token (other processes hear it from the database)."""
    forget = forget_cached_credentials.get()
    if forget is not None:

        async def run() -> None:
            forget(user_id)

        on_commit(run)


# API tokens -----------------------------------------------------------------------------------

_TOKEN_COLUMNS = (
    ApiToken.id,
    ApiToken.name,
    ApiToken.scopes,
    ApiToken.parent.as_alias("parent_id"),
    ApiToken.created_at,
    ApiToken.expires_at,
    ApiToken.last_used_at,
    ApiToken.revoked_at,
)


def _token_out(row: dict[str, Any]) -> TokenOut:
    held = parse_scopes(row["scopes"])
    return TokenOut(**{**row, "scopes": [s.value for s in TokenScope if s.value in held]})


def _exceeds_parent(detail: str, field: str) -> DomainError:
    return DomainError("token_exceeds_parent", detail, status_code=403, fields={field: "exceeds the parent"})


async def create_token(actor: Principal, data: TokenIn) -> NewTokenOut:
    """Create a token for the caller. Created with a bearer token, it records that token as its parent
    and may hold neither more scopes nor a longer life than it (the parent row is locked, so a
    concurrent revocation of the parent either sees the child or makes this fail)."""
    scopes = [s.value for s in TokenScope if s in data.scopes]
    expires = utcnow() + dt.timedelta(days=data.expires_in_days) if data.expires_in_days else None
    token, digest = new_api_token()
    async with transaction():
        if actor.token_id is not None:
            query = ApiToken.select(ApiToken.scopes, ApiToken.expires_at).where(
                (ApiToken.id == actor.token_id) & ApiToken.revoked_at.is_null()
            )
            if isinstance(engine(), PostgresEngine):  # SQLite's IMMEDIATE transaction already serialises
                query = query.lock_rows("SHARE")
            parent = await query.first()
            if parent is None:
                raise DomainError("not_authenticated", "The token was revoked", status_code=401)
            if not set(scopes) <= parse_scopes(parent["scopes"]):
                raise _exceeds_parent("A token cannot create a token with scopes it lacks", "scopes")
            if parent["expires_at"] is not None and (expires is None or expires > parent["expires_at"]):
                raise _exceeds_parent("A token cannot create a token that outlives it", "expires_in_days")
        row = ApiToken(
            user=actor.id,
            name=data.name,
            token_hash=digest,
            expires_at=expires,
            scopes=" ".join(scopes),
            parent=actor.token_id,
        )
        await row.save()
        await audit.record(
            actor.id, "token.create", "api_token", row.id, data={"name": data.name, "scopes": scopes}
        )
    info = await ApiToken.select(*_TOKEN_COLUMNS).where(ApiToken.id == row.id).first()
    return NewTokenOut(token=token, info=_token_out(info))


async def list_tokens(actor: Principal) -> list[TokenOut]:
    rows = await ApiToken.select(*_TOKEN_COLUMNS).where(ApiToken.user == actor.id).order_by(ApiToken.id)
    return [_token_out(r) for r in rows]


_REVOKE_DESCENDANTS = """
WITH RECURSIVE tree(id) AS (
    SELECT id FROM api_token WHERE parent = {}
    UNION ALL
    SELECT t.id FROM api_token t JOIN tree ON t.parent = tree.id
)
UPDATE api_token SET revoked_at = {} WHERE revoked_at IS NULL AND id IN (SELECT id FROM tree) RETURNING id
"""


async def revoke_token(actor: Principal, token_id: int) -> None:
    """Revoke one of the caller's tokens (a platform admin may revoke anyone's) and every token made
    from it, however indirectly. Idempotent: of concurrent calls, only the one whose conditional
    UPDATE revoked the token writes the audit entry."""
    async with transaction():
        row = await ApiToken.select(ApiToken.user).where(ApiToken.id == token_id).first()
        if row is None or (row["user"] != actor.id and not actor.is_platform_admin):
            raise NotFound("Token")
        now = utcnow()
        revoked = (
            await ApiToken.update({ApiToken.revoked_at: now})
            .where((ApiToken.id == token_id) & ApiToken.revoked_at.is_null())
            .returning(ApiToken.id)
        )
        descendants: list[int] = []
        # Again until none is left: a token made from a descendant while a pass ran is in the next one.
        while batch := await engine().run_querystring(QueryString(_REVOKE_DESCENDANTS, token_id, now)):
            descendants += [r["id"] for r in batch]
        if revoked or descendants:
            _forget_after_commit(row["user"])  # descendants were made by the same user's tokens
        if revoked:
            await audit.record(
                actor.id, "token.revoke", "api_token", token_id, data={"descendants": sorted(descendants)}
            )


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


def _grant_scope(data: RoleGrantIn | RoleGrantOut) -> policy.Scope:
    return policy.Scope(data.track_id, data.region, data.institution_id)


async def _event_for(actor: Principal, event_id: int) -> policy.EventContext:
    context = await policy.event_context(actor, event_id)
    if context is None:
        raise NotFound("Event")
    return context


async def list_grants(actor: Principal, event_id: int) -> list[RoleGrantOut]:
    """The event's role grants that lie inside the caller's scope (all of them for its organizers)."""
    context = await _event_for(actor, event_id)
    grants = await _grant_out(RoleGrant.event == event_id)
    inside = policy.within_scope(actor, context, [_grant_scope(g) for g in grants])
    return [g for g, ok in zip(grants, inside, strict=True) if ok]


async def my_grants(actor: Principal) -> list[dict[str, Any]]:
    """The caller's roles with their events' names, leaving out drafts the caller may not see
    (a judge named in a draft learns of it when it opens)."""
    rows = (
        await RoleGrant.select(
            RoleGrant.role,
            RoleGrant.event.id,
            RoleGrant.event.status,
            *[getattr(RoleGrant.event, f"name_{loc}") for loc in ("zh", "en", "ru")],
        )
        .where((RoleGrant.user == actor.id) & RoleGrant.event.is_not_null())
        .order_by(RoleGrant.id)
        .output(nested=True)
    )
    roles_by_event: dict[int, list[policy.Grant]] = {}
    for r in rows:
        roles_by_event.setdefault(r["event"]["id"], []).append(policy.Grant(r["role"]))
    return [
        r
        for r in rows
        if policy.may_see(
            actor,
            policy.EventContext(
                r["event"]["id"], r["event"]["status"], tuple(roles_by_event[r["event"]["id"]])
            ),
        )
    ]


async def my_organization_grants(actor: Principal) -> list[dict[str, Any]]:
    """The caller's organization-level roles with their organizations' names (for ``/me``)."""
    return (
        await RoleGrant.select(
            RoleGrant.role,
            RoleGrant.organization.id,
            *[getattr(RoleGrant.organization, f"name_{loc}") for loc in ("zh", "en", "ru")],
        )
        .where((RoleGrant.user == actor.id) & RoleGrant.organization.is_not_null())
        .order_by(RoleGrant.id)
        .output(nested=True)
    )


async def knows_user(actor: Principal, user_id: int) -> bool:
    """Whether the caller may name this user: platform admins anyone, organizers the people who take
    part in one of their events or hold a role in one of their organizations (so a grant by id
    reveals nothing about anyone else)."""
    if actor.is_platform_admin:
        return await User.exists().where(User.id == user_id)
    organized = await policy.organized_event_ids(actor)
    organizations = await policy.my_organization_ids(actor)
    if not organized and not organizations:
        return False
    return await RoleGrant.exists().where(
        (RoleGrant.user == user_id)
        & (RoleGrant.event.is_in(organized or [0]) | RoleGrant.organization.is_in(organizations or [0]))
    )


async def check_grant(actor: Principal, event_id: int, data: RoleGrantIn | InvitationIn) -> None:
    """Whether the caller may give ``data.role`` with ``data``'s scope in the event, directly or by an
    invitation (``backend.accounts.invitations``): ``manage_roles`` covering the scope, an event-level
    role, a track of this event, an existing institution. Call inside the transaction that writes:
    it locks the event, so its tracks hold still until the grant commits."""
    policy.require(actor, policy.Action.manage_roles, await _event_for(actor, event_id), _grant_scope(data))
    if data.role is Role.org_admin:
        raise DomainError(
            "organization_role",
            "The organization admin role is granted on the organization, not on one event",
            fields={"role": "organization only"},
        )
    await locked_row(Event, event_id)
    if data.track_id is not None and not await Track.exists().where(
        (Track.id == data.track_id) & (Track.event == event_id)
    ):
        raise DomainError(
            "unknown_track", "The track is not part of this event", fields={"track_id": "unknown"}
        )
    if data.institution_id is not None and not await Institution.exists().where(
        Institution.id == data.institution_id
    ):
        raise DomainError("unknown_institution", "No such institution", fields={"institution_id": "unknown"})


async def grant_role(actor: Principal, event_id: int, data: RoleGrantIn) -> RoleGrantOut:
    async with transaction():
        await check_grant(actor, event_id, data)
        if not await knows_user(actor, data.user_id):
            raise DomainError("unknown_user", "No such user", fields={"user_id": "unknown"})
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
        signals.after_commit("role_granted", event_id=event_id, user_id=data.user_id, role=data.role.value)
    return (await _grant_out(RoleGrant.id == grant.id))[0]


async def revoke_role(actor: Principal, event_id: int, grant_id: int) -> None:
    async with transaction():
        row = (
            await RoleGrant.select(
                RoleGrant.user, RoleGrant.role, RoleGrant.track, RoleGrant.region, RoleGrant.institution
            )
            .where((RoleGrant.id == grant_id) & (RoleGrant.event == event_id))
            .first()
        )
        context = await _event_for(actor, event_id)
        scope = policy.Scope(row["track"], row["region"], row["institution"]) if row else None
        if row is None or not policy.within_scope(actor, context, [scope])[0]:
            raise NotFound("Role grant")
        if row["user"] == actor.id and row["role"] == "organizer" and not actor.is_platform_admin:
            raise Forbidden("You cannot remove your own organizer role")
        await RoleGrant.delete().where(RoleGrant.id == grant_id)
        await audit.record(actor.id, "role.revoke", "role_grant", grant_id, event_id=event_id, data=row)
