from __future__ import annotations

from litestar import Controller, Request, delete, get, patch, post
from litestar.pagination import OffsetPagination
from litestar.params import JSONBody

from backend.events import service as events
from backend.events.schemas import EventOut
from backend.guards import current, may, requires_login
from backend.organizations import service
from backend.organizations.schemas import (
    OrganizationGrantIn,
    OrganizationGrantOut,
    OrganizationIn,
    OrganizationOut,
    OrganizationPatch,
)
from backend.policy import Action
from backend.schemas import IdPath, Limit, Offset


class OrganizationController(Controller):
    path = "/api/v1/organizations"
    tags = ["organizations"]

    @get("", operation_id="ListOrganizations", guards=[requires_login])
    async def list_organizations(self, request: Request) -> list[OrganizationOut]:
        """The organizations in which the caller holds a role (every one for platform admins)."""
        return await service.list_organizations(current(request))

    @post("", operation_id="CreateOrganization", guards=[may(Action.create_organization)])
    async def create_organization(self, request: Request, data: JSONBody[OrganizationIn]) -> OrganizationOut:
        """Create an organization (platform admins); then give it an admin with its roles."""
        return await service.create_organization(current(request), data)

    @get("/{organization_id:int}", operation_id="GetOrganization")
    async def get_organization(self, organization_id: IdPath) -> OrganizationOut:
        """One organization (public: its name appears on its events)."""
        return await service.get_organization(organization_id)

    @patch(
        "/{organization_id:int}", operation_id="UpdateOrganization", guards=[may(Action.manage_organization)]
    )
    async def update_organization(
        self, request: Request, organization_id: IdPath, data: JSONBody[OrganizationPatch]
    ) -> OrganizationOut:
        """Rename an organization or change its kind (its admins)."""
        return await service.update_organization(current(request), organization_id, data)

    @get("/{organization_id:int}/events", operation_id="ListOrganizationEvents")
    async def list_events(
        self, request: Request, organization_id: IdPath, limit: Limit = 50, offset: Offset = 0
    ) -> OffsetPagination[EventOut]:
        """The organization's events: published ones for everyone, drafts too for its organizers."""
        await service.get_organization(organization_id)
        items, total = await events.list_events(
            request.user, limit, offset, None, None, organization_id=organization_id
        )
        return OffsetPagination(items=items, limit=limit, offset=offset, total=total)

    @get(
        "/{organization_id:int}/roles",
        operation_id="ListOrganizationRoles",
        guards=[may(Action.view_organization)],
    )
    async def list_roles(self, request: Request, organization_id: IdPath) -> list[OrganizationGrantOut]:
        """The organization's admins and organizers."""
        return await service.list_organization_roles(current(request), organization_id)

    @post(
        "/{organization_id:int}/roles",
        operation_id="GrantOrganizationRole",
        guards=[may(Action.manage_organization)],
    )
    async def grant_role(
        self, request: Request, organization_id: IdPath, data: JSONBody[OrganizationGrantIn]
    ) -> OrganizationGrantOut:
        """Make someone an admin or organizer of every event of the organization."""
        return await service.grant_organization_role(current(request), organization_id, data)

    @delete(
        "/{organization_id:int}/roles/{grant_id:int}",
        operation_id="RevokeOrganizationRole",
        guards=[may(Action.manage_organization)],
    )
    async def revoke_role(self, request: Request, organization_id: IdPath, grant_id: IdPath) -> None:
        """Take an organization-level role away."""
        await service.revoke_organization_role(current(request), organization_id, grant_id)
