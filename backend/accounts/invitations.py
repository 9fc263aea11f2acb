"""Roles offered by e-mail: an organizer invites an address, the mail carries a link, and accepting it
creates the role grant (and the account, when the address has none) in one transaction.

Always through an invitation, whether or not the address has an account, so the inviter learns
nothing about who has one. Rules:

- Inviting needs ``manage_roles`` in the event for the invitation's scope: the same checks as a
  direct grant (:func:`backend.accounts.service.check_grant`): never wider than the inviter's own
  scope, the track must be the event's, the institution must exist.
- One pending invitation per address, role and scope: inviting again *refreshes* it (a new link
  and a new :data:`VALID_FOR`; the old link stops working) instead of making a second one or
  answering 409. A 409 ``role_exists`` comes only when the address already holds the role there.
- Only the SHA-256 of the token is stored; resending issues a new token.
- Accepting: a logged-in caller must be the invited address (403 ``invitation_wrong_account``); an
  address with an account must log in first (401 ``invitation_login_required``); otherwise a name
  and password create the account. Revoked, used and expired links answer 410 with their own code.
  Concurrent accepts of one link make one grant and one audit entry: the invitation row is locked
  and claimed by one conditional update; a repeat by the same person gets the same answer.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from backend import audit, policy, signals
from backend.accounts import passwords
from backend.accounts.schemas import (
    AcceptIn,
    AcceptOut,
    InvitationIn,
    InvitationOut,
    OrganizationInvitationIn,
    PersonOut,
)
from backend.accounts.service import check_grant, create_invited_user
from backend.accounts.tables import Invitation, RoleGrant, User
from backend.accounts.tokens import token_digest
from backend.db import locked_row, transaction, utcnow
from backend.errors import Conflict, DomainError, NotFound
from backend.events.tables import Event
from backend.mail.service import queue_email
from backend.organizations.tables import Organization
from backend.policy import Principal, Scope
from backend.schemas import contains

VALID_FOR = dt.timedelta(days=14)
TOKEN_PREFIX = "inv_"  # noqa: S105 - a marker, not a secret
LOCALES = ("zh", "en", "ru")

_COLUMNS = (
    Invitation.id,
    Invitation.email,
    Invitation.role,
    Invitation.event,
    Invitation.organization,
    Invitation.track,
    Invitation.region,
    Invitation.institution,
    Invitation.locale,
    Invitation.invited_by,
    Invitation.created_at,
    Invitation.sent_at,
    Invitation.expires_at,
    Invitation.accepted_at,
    Invitation.accepted_by,
    Invitation.revoked_at,
    Invitation.token_hash,
)


def status_of(row: dict[str, Any], now: dt.datetime | None = None) -> str:
    """``accepted``, ``revoked``, ``expired`` or ``pending``."""
    if row["accepted_at"] is not None:
        return "accepted"
    if row["revoked_at"] is not None:
        return "revoked"
    if row["expires_at"] <= (now or utcnow()):
        return "expired"
    return "pending"


def _out(row: dict[str, Any]) -> InvitationOut:
    return InvitationOut(
        id=row["id"],
        email=row["email"],
        role=row["role"],
        event_id=row["event"],
        organization_id=row["organization"],
        track_id=row["track"],
        region=row["region"],
        institution_id=row["institution"],
        locale=row["locale"],
        status=status_of(row),
        invited_by=row["invited_by"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        expires_at=row["expires_at"],
        accepted_at=row["accepted_at"],
        revoked_at=row["revoked_at"],
    )


def _scope(row: dict[str, Any]) -> Scope:
    return Scope(row["track"], row["region"], row["institution"])


def new_token() -> tuple[str, str]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_digest(token)


def accept_path(token: str) -> str:
    return f"/invitations/{token}"


# The mail, in the invitation's language ------------------------------------------------------

ROLE_NAMES = {
    "organizer": {"zh": "组织者", "en": "organizer", "ru": "организатор"},
    "org_admin": {"zh": "机构管理员", "en": "organization admin", "ru": "администратор организации"},
    "judge": {"zh": "评委", "en": "judge", "ru": "судья"},
    "checkin_staff": {"zh": "签到工作人员", "en": "check-in staff", "ru": "сотрудник регистрации"},
    "team_member": {"zh": "团队成员", "en": "team member", "ru": "участник команды"},
    "exhibitor": {"zh": "参展商", "en": "exhibitor", "ru": "экспонент"},
    "mentor": {"zh": "导师", "en": "mentor", "ru": "наставник"},
}

_SUBJECT = {
    "zh": "邀请您担任「{event}」的{role}",
    "en": "You are invited to be {role} at {event}",
    "ru": "Приглашение: {role}, «{event}»",
}
_BODY = {
    "zh": (
        "您好：\n\n{inviter}邀请您在 Podium 上担任「{event}」的{role}。\n\n"
        "接受邀请请打开以下链接（{days} 天内有效）：\n{link}\n\n"
        "如果您还没有 Podium 账户，打开链接后可以直接创建。\n"
        "如果您不认识邀请人，请忽略此邮件。\n"
    ),
    "en": (
        "Hello,\n\n{inviter} invites you to be {role} at {event} on Podium.\n\n"
        "To accept, open this link (valid for {days} days):\n{link}\n\n"
        "If you have no Podium account yet, you can create one there.\n"
        "If you do not know who sent this, ignore this message.\n"
    ),
    "ru": (
        "Здравствуйте!\n\n{inviter} приглашает вас на роль «{role}» в «{event}» на Podium.\n\n"
        "Чтобы принять приглашение, откройте ссылку (действует {days} дн.):\n{link}\n\n"
        "Если у вас ещё нет учётной записи Podium, вы сможете создать её там.\n"
        "Если вы не знаете отправителя, просто проигнорируйте это письмо.\n"
    ),
}


def _name(row: dict[str, Any], locale: str) -> str:
    """The event's (or organization's) name in ``locale``, falling back like the pages do."""
    for loc in (locale, "en", "zh", "ru"):
        if row.get(f"name_{loc}"):
            return row[f"name_{loc}"]
    return ""


async def _target_name(row: dict[str, Any], locale: str) -> str:
    if row["event"] is not None:
        names = await Event.select(Event.name_zh, Event.name_en, Event.name_ru).where(
            Event.id == row["event"]
        )
        return _name(names[0], locale) if names else ""
    names = await Organization.select(Organization.name_zh, Organization.name_en, Organization.name_ru).where(
        Organization.id == row["organization"]
    )
    return _name(names[0], locale) if names else ""


async def _mail(row: dict[str, Any], token: str, inviter: Principal, base_url: str) -> None:
    """Queue the invitation mail in the caller's transaction (the outbox sends it after commit)."""
    locale = row["locale"] if row["locale"] in LOCALES else "en"
    values = {
        "event": await _target_name(row, locale),
        "role": ROLE_NAMES.get(row["role"], {}).get(locale, row["role"]),
        "inviter": inviter.display_name or inviter.email,
        "days": VALID_FOR.days,
        "link": base_url.rstrip("/") + accept_path(token),
    }
    await queue_email(row["email"], _SUBJECT[locale].format(**values), _BODY[locale].format(**values))


# Organizers: invite, list, revoke, resend -----------------------------------------------------


async def _event_context(actor: Principal, event_id: int) -> policy.EventContext:
    context = await policy.event_context(actor, event_id)
    if context is None:
        raise NotFound("Event")
    return context


async def invite(actor: Principal, event_id: int, data: InvitationIn, base_url: str) -> InvitationOut:
    """Offer ``data.role`` in the event to an address; refreshes a pending invitation of the same
    address, role and scope (see the module docstring)."""
    async with transaction():
        await check_grant(actor, event_id, data)  # policy, scope, track and institution; locks the event
        return await _offer(actor, {"event": event_id}, data, base_url)


async def invite_to_organization(
    actor: Principal, organization_id: int, data: OrganizationInvitationIn, base_url: str
) -> InvitationOut:
    """Offer an organization-level role (``org_admin`` or ``organizer``, every event of the
    organization) to an address: for the organization's admins."""
    async with transaction():
        await _organization_context(actor, organization_id)
        await locked_row(Organization, organization_id)
        return await _offer(actor, {"organization": organization_id}, data, base_url)


async def _offer(
    actor: Principal, target: dict[str, int], data: InvitationIn | OrganizationInvitationIn, base_url: str
) -> InvitationOut:
    """The invitation of ``data`` to ``target`` (``{"event": id}`` or ``{"organization": id}``), new
    or refreshed, mailed and audited; inside the caller's transaction, after its checks."""
    email = data.email.strip().lower()
    role = str(getattr(data.role, "value", data.role))  # a Role, or an organization role's name
    token, digest = new_token()
    now = utcnow()
    scope = {
        "track": getattr(data, "track_id", None),
        "region": getattr(data, "region", None),
        "institution": getattr(data, "institution_id", None),
    }
    where_target = {"event": None, "organization": None, **target}

    def same(table: Any) -> Any:
        condition = table.role == role
        for name, value in (*where_target.items(), *scope.items()):
            condition &= _same(getattr(table, name), value)
        return condition

    account = await User.select(User.id, User.locale).where(User.email == email).first()
    if account and await RoleGrant.exists().where(same(RoleGrant) & (RoleGrant.user == account["id"])):
        raise Conflict("role_exists", "The user already holds this role with this scope")
    locale = data.locale or (account["locale"] if account else None) or actor.locale
    pending = (
        await Invitation.select(Invitation.id)
        .where(
            (Invitation.email == email)
            & same(Invitation)
            & Invitation.accepted_at.is_null()
            & Invitation.revoked_at.is_null()
        )
        .first()
    )
    fresh = {
        Invitation.token_hash: digest,
        Invitation.expires_at: now + VALID_FOR,
        Invitation.sent_at: now,
        Invitation.locale: locale,
        Invitation.invited_by: actor.id,
    }
    if pending is not None:
        invitation_id = pending["id"]
        await Invitation.update(fresh).where(Invitation.id == invitation_id)
        action = "invitation.refresh"
    else:
        row = Invitation(
            email=email,
            role=role,
            **target,
            **scope,
            **{column._meta.name: value for column, value in fresh.items()},
        )
        await row.save()
        invitation_id = row.id
        action = "invitation.create"
    stored = await _row(invitation_id)
    await _mail(stored, token, actor, base_url)
    await audit.record(
        actor.id,
        action,
        "invitation",
        invitation_id,
        event_id=target.get("event"),
        data={"email": email, "role": role, **target},
    )
    return _out(stored)


async def _organization_context(actor: Principal, organization_id: int) -> None:
    """Refuse unless the caller manages the organization (404 when there is none)."""
    context = await policy.organization_context(actor, organization_id)
    if context is None:
        raise NotFound("Organization")
    policy.require(actor, policy.Action.manage_organization, organization=context)


async def list_organization_invitations(actor: Principal, organization_id: int) -> list[InvitationOut]:
    """The organization-level invitations of the organization, newest first."""
    await _organization_context(actor, organization_id)
    rows = (
        await Invitation.select(*_COLUMNS)
        .where(Invitation.organization == organization_id)
        .order_by(Invitation.id, ascending=False)
    )
    return [_out(r) for r in rows]


async def _in_organization(actor: Principal, organization_id: int, invitation_id: int) -> dict[str, Any]:
    await _organization_context(actor, organization_id)
    await locked_row(Invitation, invitation_id)
    row = (
        await Invitation.select(*_COLUMNS)
        .where((Invitation.id == invitation_id) & (Invitation.organization == organization_id))
        .first()
    )
    if row is None:
        raise NotFound("Invitation")
    return row


async def revoke_organization_invitation(actor: Principal, organization_id: int, invitation_id: int) -> None:
    async with transaction():
        row = await _in_organization(actor, organization_id, invitation_id)
        await _revoke(actor, row)


async def resend_organization_invitation(
    actor: Principal, organization_id: int, invitation_id: int, base_url: str
) -> InvitationOut:
    async with transaction():
        row = await _in_organization(actor, organization_id, invitation_id)
        return await _resend(actor, row, base_url)


def _same(column: Any, value: Any) -> Any:
    return column.is_null() if value is None else column == value


async def _row(invitation_id: int) -> dict[str, Any]:
    return await Invitation.select(*_COLUMNS).where(Invitation.id == invitation_id).first()


async def list_invitations(actor: Principal, event_id: int) -> list[InvitationOut]:
    """The event's invitations inside the caller's scope, newest first (accepted and revoked ones too)."""
    context = await _event_context(actor, event_id)
    policy.require(actor, policy.Action.view_roles, context)
    rows = (
        await Invitation.select(*_COLUMNS)
        .where(Invitation.event == event_id)
        .order_by(Invitation.id, ascending=False)
    )
    inside = policy.within_scope(actor, context, [_scope(r) for r in rows])
    return [_out(r) for r, ok in zip(rows, inside, strict=True) if ok]


async def _in_scope(actor: Principal, event_id: int, invitation_id: int) -> dict[str, Any]:
    """The invitation, locked, when the caller may manage it (else 404, as for a role grant)."""
    context = await _event_context(actor, event_id)
    policy.require(actor, policy.Action.manage_roles, context)
    await locked_row(Invitation, invitation_id)
    row = (
        await Invitation.select(*_COLUMNS)
        .where((Invitation.id == invitation_id) & (Invitation.event == event_id))
        .first()
    )
    if row is None or not policy.within_scope(actor, context, [_scope(row)])[0]:
        raise NotFound("Invitation")
    return row


def _closed(row: dict[str, Any]) -> DomainError:
    return Conflict("invitation_closed", f"The invitation is already {status_of(row)}")


async def revoke_invitation(actor: Principal, event_id: int, invitation_id: int) -> None:
    """Withdraw a pending (or expired) invitation: its link stops working."""
    async with transaction():
        await _revoke(actor, await _in_scope(actor, event_id, invitation_id))


async def resend_invitation(
    actor: Principal, event_id: int, invitation_id: int, base_url: str
) -> InvitationOut:
    """Mail a pending or expired invitation again with a new link, valid for :data:`VALID_FOR` from now
    (the previous link stops working)."""
    async with transaction():
        return await _resend(actor, await _in_scope(actor, event_id, invitation_id), base_url)


def _require_open(row: dict[str, Any]) -> None:
    if row["accepted_at"] is not None or row["revoked_at"] is not None:
        raise _closed(row)


async def _record(actor: Principal, action: str, row: dict[str, Any]) -> None:
    await audit.record(
        actor.id,
        action,
        "invitation",
        row["id"],
        event_id=row["event"],
        data={"email": row["email"], "role": row["role"]},
    )


async def _revoke(actor: Principal, row: dict[str, Any]) -> None:
    _require_open(row)
    await Invitation.update({Invitation.revoked_at: utcnow()}).where(Invitation.id == row["id"])
    await _record(actor, "invitation.revoke", row)


async def _resend(actor: Principal, row: dict[str, Any], base_url: str) -> InvitationOut:
    _require_open(row)
    token, digest = new_token()
    now = utcnow()
    await Invitation.update(
        {Invitation.token_hash: digest, Invitation.expires_at: now + VALID_FOR, Invitation.sent_at: now}
    ).where(Invitation.id == row["id"])
    stored = await _row(row["id"])
    await _mail(stored, token, actor, base_url)
    await _record(actor, "invitation.resend", row)
    return _out(stored)


# The invited person: look at the link, accept it ---------------------------------------------


@dataclass(frozen=True)
class InvitationView:
    """What the invitation page shows about a link."""

    status: str  # pending, expired, accepted, revoked
    email: str
    role: str
    event_id: int | None
    organization_id: int | None
    target_name: dict[str, str]  # name_zh, name_en, name_ru of the event or organization
    has_account: bool  # the address has an account (shown only to the link's holder)
    accepted_by: int | None


async def view(token: str) -> InvitationView | None:
    """The invitation behind a link, or ``None`` when the link is unknown (or was replaced)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = await Invitation.select(*_COLUMNS).where(Invitation.token_hash == token_digest(token)).first()
    if row is None:
        return None
    names = {f"name_{loc}": await _target_name(row, loc) for loc in LOCALES}
    return InvitationView(
        status=status_of(row),
        email=row["email"],
        role=row["role"],
        event_id=row["event"],
        organization_id=row["organization"],
        target_name=names,
        has_account=await User.exists().where(User.email == row["email"]),
        accepted_by=row["accepted_by"],
    )


def _gone(code: str, detail: str) -> DomainError:
    return DomainError(code, detail, status_code=410)


async def accept(principal: Principal | None, data: AcceptIn) -> AcceptOut:
    """Accept the invitation of ``data.token`` (see the module docstring for who may)."""
    digest = token_digest(data.token) if data.token.startswith(TOKEN_PREFIX) else None
    password = passwords.hash_password(data.password) if principal is None and data.password else None
    async with transaction():
        found = await Invitation.select(Invitation.id).where(Invitation.token_hash == digest).first()
        if found is None:
            raise NotFound("Invitation")
        await locked_row(Invitation, found["id"])  # concurrent accepts of this link queue here
        row = await _row(found["id"])
        if principal is not None and principal.email.lower() != row["email"]:
            raise DomainError(
                "invitation_wrong_account",
                "This invitation is for another e-mail address; log out and open the link again",
                status_code=403,
            )
        status = status_of(row)
        if status == "accepted" and principal is not None and row["accepted_by"] == principal.id:
            return await _accepted(row, principal.id, new_account=False)  # a repeat: the same answer
        if status == "accepted":
            raise _gone("invitation_used", "This invitation has already been accepted")
        if status == "revoked":
            raise _gone("invitation_revoked", "The organizer withdrew this invitation")
        if status == "expired":
            raise _gone(
                "invitation_expired", "This invitation has expired; ask the organizer to send it again"
            )
        new_account = principal is None
        if principal is not None:
            user_id = principal.id
        else:
            user_id = await create_invited_user(row["email"], row["locale"], data.display_name, password)
        claimed = (
            await Invitation.update({Invitation.accepted_at: utcnow(), Invitation.accepted_by: user_id})
            .where((Invitation.id == row["id"]) & Invitation.accepted_at.is_null())
            .returning(Invitation.id)
        )
        if not claimed:  # cannot happen while the row is locked; never grant twice all the same
            raise _gone("invitation_used", "This invitation has already been accepted")
        grant_id = await _grant_for(row, user_id)
        if grant_id is None:
            grant = RoleGrant(
                user=user_id,
                role=row["role"],
                event=row["event"],
                organization=row["organization"],
                track=row["track"],
                region=row["region"],
                institution=row["institution"],
                granted_by=row["invited_by"],
            )
            await grant.save()
            grant_id = grant.id
        await audit.record(
            user_id,
            "invitation.accept",
            "invitation",
            row["id"],
            event_id=row["event"],
            data={"role": row["role"], "grant_id": grant_id, "new_account": new_account},
        )
        if row["event"] is not None:
            signals.after_commit("role_granted", event_id=row["event"], user_id=user_id, role=row["role"])
    return AcceptOut(
        user_id=user_id,
        grant_id=grant_id,
        role=row["role"],
        event_id=row["event"],
        organization_id=row["organization"],
        new_account=new_account,
    )


async def _grant_for(row: dict[str, Any], user_id: int) -> int | None:
    """The grant the invitation gives, when the user already holds it."""
    found = (
        await RoleGrant.select(RoleGrant.id)
        .where(
            (RoleGrant.user == user_id)
            & (RoleGrant.role == row["role"])
            & _same(RoleGrant.event, row["event"])
            & _same(RoleGrant.organization, row["organization"])
            & _same(RoleGrant.track, row["track"])
            & _same(RoleGrant.region, row["region"])
            & _same(RoleGrant.institution, row["institution"])
        )
        .first()
    )
    return found["id"] if found else None


async def _accepted(row: dict[str, Any], user_id: int, *, new_account: bool) -> AcceptOut:
    grant_id = await _grant_for(row, user_id)
    if grant_id is None:  # accepted, then the role was taken away: the link does not give it again
        raise _gone("invitation_used", "This invitation has already been accepted")
    return AcceptOut(
        user_id=user_id,
        grant_id=grant_id,
        role=row["role"],
        event_id=row["event"],
        organization_id=row["organization"],
        new_account=new_account,
    )


# People search -------------------------------------------------------------------------------


async def search_people(
    actor: Principal, event_id: int, query: str | None, limit: int = 20
) -> list[PersonOut]:
    """People holding a role in one of the events the caller organizes, inside the caller's scope
    there (a scoped admin finds the people of its track), matching ``query`` in e-mail or name.
    Never the whole user base: not even platform admins search everyone here (they have the users API)."""
    policy.require(actor, policy.Action.manage_roles, await _event_context(actor, event_id))
    scopes = await _organizer_scopes(actor)
    if actor.is_platform_admin:
        scopes.setdefault(event_id, [policy.WHOLE_EVENT])
    if not scopes:
        return []
    where = RoleGrant.event.is_in(sorted(scopes))
    if query and query.strip():
        where &= contains(query.strip(), RoleGrant.user.email, RoleGrant.user.display_name)
    rows = (
        await RoleGrant.select(
            RoleGrant.user,
            RoleGrant.user.email.as_alias("email"),
            RoleGrant.user.display_name.as_alias("display_name"),
            RoleGrant.event,
            RoleGrant.track,
            RoleGrant.region,
            RoleGrant.institution,
        )
        .where(where & (RoleGrant.user.active == True))  # noqa: E712
        .order_by(RoleGrant.user.email)
        .limit(2000)
    )
    found: dict[int, PersonOut] = {}
    for r in rows:
        if r["user"] in found or not any(s.contains(_scope(r)) for s in scopes[r["event"]]):
            continue
        found[r["user"]] = PersonOut(user_id=r["user"], email=r["email"], display_name=r["display_name"])
        if len(found) >= limit:
            break
    return list(found.values())


async def _organizer_scopes(actor: Principal) -> dict[int, list[Scope]]:
    """Event id → the caller's organizer scopes there (whole events through an organization grant)."""
    scopes: dict[int, list[Scope]] = {}
    direct = await RoleGrant.select(
        RoleGrant.event, RoleGrant.track, RoleGrant.region, RoleGrant.institution
    ).where(
        (RoleGrant.user == actor.id) & (RoleGrant.role == policy.ORGANIZER) & RoleGrant.event.is_not_null()
    )
    for r in direct:
        scopes.setdefault(r["event"], []).append(_scope(r))
    organizations = await policy.my_organization_ids(actor)
    if organizations:  # an organization-level grant runs every event of the organization
        for r in await Event.select(Event.id).where(Event.organization.is_in(organizations)):
            scopes[r["id"]] = [policy.WHOLE_EVENT]
    return scopes
