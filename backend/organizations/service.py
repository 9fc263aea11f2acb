"""Organization operations: creating and renaming organizations, their organization-level roles,
and the list of their events. Each write runs in one transaction with its audit entry."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET, structs

from backend import audit, policy
from backend.accounts.service import knows_user
from backend.accounts.tables import RoleGrant
from backend.db import transaction
from backend.errors import DomainError, Forbidden, NotFound
from backend.organizations.schemas import (
    OrganizationGrantIn,
    OrganizationGrantOut,
    OrganizationIn,
    OrganizationOut,
    OrganizationPatch,
)
from backend.organizations.tables import Organization
from backend.policy import Action, OrganizationContext, Principal
from backend.schemas import has_visible_text


def _organization_out(row: dict[str, Any]) -> OrganizationOut:
    return OrganizationOut(**{f: row[f] for f in OrganizationOut.__struct_fields__})


def _check_names(values: dict[str, Any]) -> None:
    if not any(has_visible_text(values.get(f, "")) for f in ("name_zh", "name_en", "name_ru")):
        raise DomainError(
            "name_required",
            "Give the organization a name in at least one language",
            fields={"name_en": "required"},
        )


async def context(actor: Principal | None, organization_id: int) -> OrganizationContext:
    """The organization as the policy sees it for the caller, or 404."""
    found = await policy.organization_context(actor, organization_id)
    if found is None:
        raise NotFound("Organization")
    return found


async def create_organization(actor: Principal, data: OrganizationIn) -> OrganizationOut:
    policy.require(actor, Action.create_organization)
    values = {**structs.asdict(data), "kind": data.kind.value}
    _check_names(values)
    async with transaction():  # a taken slug breaks organization_slug_key: 409 organization_slug_taken
        organization = Organization(**values)
        await organization.save()
        await audit.record(
            actor.id, "organization.create", "organization", organization.id, data={"slug": data.slug}
        )
    return await get_organization(organization.id)


async def get_organization(organization_id: int) -> OrganizationOut:
    """Organizations are public: their names appear on their events."""
    row = await Organization.select().where(Organization.id == organization_id).first()
    if row is None:
        raise NotFound("Organization")
    return _organization_out(row)


async def list_organizations(actor: Principal) -> list[OrganizationOut]:
    """Every organization for platform admins; for everyone else those they hold a role in."""
    query = Organization.select().order_by(Organization.id)
    if not actor.is_platform_admin:
        query = query.where(Organization.id.is_in(await policy.my_organization_ids(actor) or [0]))
    return [_organization_out(r) for r in await query]


async def update_organization(
    actor: Principal, organization_id: int, data: OrganizationPatch
) -> OrganizationOut:
    policy.require(actor, Action.manage_organization, organization=await context(actor, organization_id))
    changes = {k: v for k, v in structs.asdict(data).items() if v is not UNSET}
    async with transaction():
        row = await Organization.select().where(Organization.id == organization_id).first()
        if row is None:
            raise NotFound("Organization")
        _check_names({**row, **changes})
        if changes:
            await Organization.update(changes).where(Organization.id == organization_id)
            await audit.record(actor.id, "organization.update", "organization", organization_id, data=changes)
    return await get_organization(organization_id)


# Organization-level roles ---------------------------------------------------------------------


async def _grants(where: Any) -> list[OrganizationGrantOut]:
    rows = (
        await RoleGrant.select(
            RoleGrant.id,
            RoleGrant.user,
            RoleGrant.user.email.as_alias("user_email"),
            RoleGrant.user.display_name.as_alias("user_name"),
            RoleGrant.role,
            RoleGrant.created_at,
        )
        .where(where)
        .order_by(RoleGrant.id)
    )
    return [OrganizationGrantOut(user_id=r.pop("user"), **r) for r in rows]


async def list_organization_roles(actor: Principal, organization_id: int) -> list[OrganizationGrantOut]:
    policy.require(actor, Action.view_organization, organization=await context(actor, organization_id))
    return await _grants(RoleGrant.organization == organization_id)


async def grant_organization_role(
    actor: Principal, organization_id: int, data: OrganizationGrantIn
) -> OrganizationGrantOut:
    """Give someone the organization's admin or organizer role. By id, only people the caller
    already knows (see :func:`backend.accounts.service.knows_user`); anyone else is invited by e-mail."""
    async with transaction():
        policy.require(actor, Action.manage_organization, organization=await context(actor, organization_id))
        if not await knows_user(actor, data.user_id):
            raise DomainError("unknown_user", "No such user", fields={"user_id": "unknown"})
        grant = RoleGrant(  # the same role again breaks role_grant_scope: 409 role_exists
            user=data.user_id, role=data.role, organization=organization_id, granted_by=actor.id
        )
        await grant.save()
        await audit.record(
            actor.id,
            "organization.role_grant",
            "role_grant",
            grant.id,
            data={"organization_id": organization_id, "user_id": data.user_id, "role": data.role},
        )
    return (await _grants(RoleGrant.id == grant.id))[0]


async def revoke_organization_role(actor: Principal, organization_id: int, grant_id: int) -> None:
    async with transaction():
        policy.require(actor, Action.manage_organization, organization=await context(actor, organization_id))
        row = (
            await RoleGrant.select(RoleGrant.user, RoleGrant.role)
            .where((RoleGrant.id == grant_id) & (RoleGrant.organization == organization_id))
            .first()
        )
        if row is None:
            raise NotFound("Role grant")
        if row["user"] == actor.id and row["role"] == policy.ORG_ADMIN and not actor.is_platform_admin:
            raise Forbidden("You cannot remove your own admin role")
        await RoleGrant.delete().where(RoleGrant.id == grant_id)
        await audit.record(
            actor.id,
            "organization.role_revoke",
            "role_grant",
            grant_id,
            data={"organization_id": organization_id, **row},
        )
