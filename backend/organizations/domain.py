"""Organizations: the alliances, universities, associations and companies that own events."""

from __future__ import annotations

from backend.domain import Domain
from backend.organizations.controllers import OrganizationController


def _admin_views() -> list:
    """Read-only: organizations are created and changed through their service (policy, audit)."""
    from backend.admin_views import read_only
    from backend.organizations.tables import Organization

    columns = [Organization.id, Organization.slug, Organization.kind, Organization.name_en]
    return [read_only(Organization, columns)]


DOMAIN = Domain(
    name="organizations",
    tables=("backend.organizations.tables",),
    routes=(OrganizationController,),
    admin_views=_admin_views,
)
