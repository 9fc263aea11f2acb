"""A person's data on request: the export (a zip of JSON files and the files they uploaded) and
erasure (the account anonymised; what results and the audit must keep stays, without the person).

Erasure keeps: the account row (anonymised: e-mail ``erased-<id>@erased.invalid``, names blank,
password unusable, inactive, whereupon the database trigger ends its sessions and revokes its tokens),
the consent history (evidence of what was agreed, now tied to the anonymised account), confirmed team
seats (the teams' results stand) with the e-mail copy replaced by the anonymised address, the
materials uploaded, the role grants, and the append-only audit log (accountability: it keeps the
id and the e-mail snapshot of who did what, see docs/ARCHITECTURE.md). It clears the profile, ends
the one-time links, withdraws pending role invitations to the address (and anonymises the address on
every invitation), and drops pending team invitations and join requests. Someone leading a team
that is not withdrawn must hand the leadership over first (409 ``erasure_leads_team``).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from typing import Any

from backend import audit
from backend.accounts import consents
from backend.accounts.service import _forget_after_commit, password_is_right
from backend.accounts.tables import AccountToken, Invitation, Profile, RoleGrant, User
from backend.db import locked_row, transaction, utcnow
from backend.errors import Conflict, DomainError
from backend.policy import Principal
from backend.teams.history import team_changed
from backend.teams.service import refresh_status
from backend.teams.storage import storage
from backend.teams.tables import Material, Team, TeamEvent, TeamMember, TeamStatus

PENDING = ("invited", "requested")


def erased_email(user_id: int) -> str:
    return f"erased-{user_id}@erased.invalid"


def _json(value: Any) -> bytes:
    def default(o: Any) -> str:
        if isinstance(o, dt.date | dt.datetime):
            return o.isoformat()
        return str(o)

    return json.dumps(value, ensure_ascii=False, indent=2, default=default).encode()


async def _my_seats(user_id: int, email: str) -> list[dict[str, Any]]:
    return (
        await TeamMember.select(
            TeamMember.id,
            TeamMember.team,
            TeamMember.team.name.as_alias("team_name"),
            TeamMember.event,
            TeamMember.track,
            TeamMember.email,
            TeamMember.role,
            TeamMember.state,
            TeamMember.joined_via,
            TeamMember.created_at,
            TeamMember.confirmed_at,
            TeamMember.ended_at,
        )
        .where((TeamMember.user == user_id) | (TeamMember.email == email))
        .order_by(TeamMember.id)
    )


def _about(line: dict[str, Any], user_id: int, email: str, seat_ids: set[int]) -> bool:
    """Whether a line of a team's timeline is about the person: by them, or naming them or a seat of theirs."""
    data = line["data"] if isinstance(line["data"], dict) else json.loads(line["data"] or "{}")
    named = {data.get("user_id"), data.get("email"), data.get("seat_id")}
    return line["actor"] == user_id or user_id in named or email in named or bool(seat_ids & named)


async def export(actor: Principal) -> bytes:
    """A zip: ``account.json``, ``profile.json``, ``consents.json``, ``roles.json``, ``teams.json``
    (seats and the timeline lines about me), ``materials.json`` and the files under ``files/``."""
    user = (
        await User.select(
            User.id,
            User.email,
            User.display_name,
            User.locale,
            User.created_at,
            User.email_confirmed_at,
            User.last_login,
        )
        .where(User.id == actor.id)
        .first()
    )
    profile = await Profile.select().where(Profile.user == actor.id).first()
    grants = await RoleGrant.select(
        RoleGrant.role,
        RoleGrant.event,
        RoleGrant.organization,
        RoleGrant.track,
        RoleGrant.region,
        RoleGrant.institution,
        RoleGrant.created_at,
    ).where(RoleGrant.user == actor.id)
    seats = await _my_seats(actor.id, user["email"])
    seat_ids = {s["id"] for s in seats}
    team_ids = sorted({s["team"] for s in seats})
    lines = (
        await TeamEvent.select(
            TeamEvent.team, TeamEvent.kind, TeamEvent.actor, TeamEvent.data, TeamEvent.created_at
        )
        .where(TeamEvent.team.is_in(team_ids or [0]))
        .order_by(TeamEvent.id)
    )
    materials = (
        await Material.select(
            Material.id,
            Material.team,
            Material.stage,
            Material.kind,
            Material.version,
            Material.storage_key,
            Material.file_name,
            Material.content_type,
            Material.size,
            Material.sha256,
            Material.text,
            Material.created_at,
        )
        .where(Material.uploaded_by == actor.id)
        .order_by(Material.id)
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("account.json", _json(user))
        archive.writestr("profile.json", _json({k: v for k, v in (profile or {}).items() if k != "id"}))
        archive.writestr("consents.json", _json(await consents.history(actor.id)))
        archive.writestr("roles.json", _json(grants))
        archive.writestr(
            "teams.json",
            _json(
                {
                    "seats": seats,
                    "timeline": [line for line in lines if _about(line, actor.id, user["email"], seat_ids)],
                }
            ),
        )
        files = storage()
        for m in materials:
            m["file"] = None
            if m["storage_key"] and await files.exists(m["storage_key"]):
                m["file"] = f"files/{m['id']}-{m['file_name'] or 'file'}"
                with archive.open(m["file"], "w") as out:
                    async for chunk in files.open(m["storage_key"]):
                        out.write(chunk)
            del m["storage_key"]
        archive.writestr("materials.json", _json(materials))
    return buffer.getvalue()


async def erase(actor: Principal, password: str) -> None:
    """Anonymise the caller's account (see the module docstring); needs the password again."""
    if not await password_is_right(actor, password):
        raise DomainError("wrong_password", "The password is wrong", fields={"password": "wrong"})
    async with transaction():
        email = (await User.select(User.email).where(User.id == actor.id).first())["email"]
        # the teams' lock order: the teams (ascending), then the people
        for team_id in sorted({s["team"] for s in await _my_seats(actor.id, email) if s["state"] in PENDING}):
            await locked_row(Team, team_id)
        await locked_row(User, actor.id)
        leads = await Team.select(Team.id).where(
            (Team.leader == actor.id) & (Team.status != TeamStatus.withdrawn.value)
        )
        if leads:
            raise Conflict(
                "erasure_leads_team",
                "You lead a team: hand the leadership over (or withdraw the team) first",
                params={"teams": ", ".join(str(t["id"]) for t in leads)},
            )
        anonymous = erased_email(actor.id)
        seats = await _my_seats(actor.id, email)
        now = utcnow()
        for seat in seats:
            changes: dict[Any, Any] = {TeamMember.email: anonymous}
            if seat["state"] in PENDING:
                changes.update(
                    {TeamMember.state: "left", TeamMember.ended_at: now, TeamMember.token_hash: None}
                )
            await TeamMember.update(changes).where(TeamMember.id == seat["id"])
            if seat["state"] in PENDING:
                team = await Team.select(Team.id, Team.event).where(Team.id == seat["team"]).first()
                await team_changed(actor.id, team, "seat_dropped_on_erasure", seat_id=seat["id"])
                await refresh_status(seat["team"], actor.id)
        await User.update(
            {
                User.email: anonymous,
                User.username: anonymous,
                User.display_name: "",
                User.first_name: "",
                User.last_name: "",
                User.password: "!erased",  # not an argon2 hash: no password matches it
                User.active: False,  # the trigger ends the sessions and revokes the tokens
                User.admin: False,
                User.superuser: False,
            }
        ).where(User.id == actor.id)
        await Profile.delete().where(Profile.user == actor.id)
        # role invitations to the address: withdrawn while pending, and no longer naming it
        await Invitation.update({Invitation.revoked_at: now}).where(
            (Invitation.email == email) & Invitation.accepted_at.is_null() & Invitation.revoked_at.is_null()
        )
        await Invitation.update({Invitation.email: anonymous}).where(Invitation.email == email)
        await AccountToken.update({AccountToken.used_at: now}).where(
            (AccountToken.user == actor.id) & AccountToken.used_at.is_null()
        )
        _forget_after_commit(actor.id)
        await audit.record(
            actor.id, "account.erase", "user", actor.id, data={"seats": [s["id"] for s in seats]}
        )
