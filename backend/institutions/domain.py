"""The institutions directory."""

from __future__ import annotations

from backend.domain import Domain
from backend.institutions.controllers import InstitutionController


def _admin_views() -> list:
    from piccolo_admin.endpoints import TableConfig

    from backend.institutions.tables import Institution

    columns = [
        Institution.id,
        Institution.name_zh,
        Institution.name_en,
        Institution.kind,
        Institution.country,
    ]
    return [TableConfig(Institution, visible_columns=columns)]


DOMAIN = Domain(
    name="institutions",
    tables=("backend.institutions.tables",),
    routes=(InstitutionController,),
    admin_views=_admin_views,
)
