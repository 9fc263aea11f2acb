"""Organizations: the alliances, universities, associations and companies that own events."""

from __future__ import annotations

from backend.domain import Domain
from backend.organizations.controllers import OrganizationController


def _admin_views() -> list:
    from piccolo_admin.endpoints import TableConfig

    from backend.organizations.tables import Organization

    columns = [Organization.id, Organization.slug, Organization.kind, Organization.name_en]
    return [TableConfig(Organization, visible_columns=columns)]


DOMAIN = Domain(
    name="organizations",
    tables=("backend.organizations.tables",),
    routes=(OrganizationController,),
    admin_views=_admin_views,
)
