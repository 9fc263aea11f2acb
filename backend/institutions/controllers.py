from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post, put
from litestar.pagination import OffsetPagination
from litestar.params import FromQuery, JSONBody, QueryParameter

from backend.guards import current, may
from backend.institutions import service
from backend.institutions.schemas import InstitutionIn, InstitutionOut
from backend.institutions.tables import InstitutionKind
from backend.policy import Action
from backend.schemas import IdPath, Limit, Offset, Search


class InstitutionController(Controller):
    path = "/api/v1/institutions"
    tags = ["institutions"]

    @get("", operation_id="ListInstitutions")
    async def list_institutions(
        self,
        limit: Limit = 50,
        offset: Offset = 0,
        country: Annotated[str | None, QueryParameter(pattern=r"^[A-Za-z]{2}$")] = None,
        kind: FromQuery[InstitutionKind | None] = None,
        q: Search = None,
    ) -> OffsetPagination[InstitutionOut]:
        """The public directory, filtered by country, kind or a name fragment."""
        items, total = await service.list_institutions(limit, offset, country, kind, q)
        return OffsetPagination(items=items, limit=limit, offset=offset, total=total)

    @get("/{institution_id:int}", operation_id="GetInstitution")
    async def get_institution(self, institution_id: IdPath) -> InstitutionOut:
        """One institution."""
        return await service.get_institution(institution_id)

    @post("", operation_id="CreateInstitution", guards=[may(Action.manage_directory)])
    async def create_institution(self, request: Request, data: JSONBody[InstitutionIn]) -> InstitutionOut:
        """Add an institution to the directory."""
        return await service.create_institution(current(request).id, data)

    @put("/{institution_id:int}", operation_id="UpdateInstitution", guards=[may(Action.manage_directory)])
    async def update_institution(
        self, request: Request, institution_id: IdPath, data: JSONBody[InstitutionIn]
    ) -> InstitutionOut:
        """Replace an institution's names, kind, country and region."""
        return await service.update_institution(current(request).id, institution_id, data)
