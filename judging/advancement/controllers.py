"""Advancement, prizes and certificates over HTTP: thin routes over ``judging.advancement.service``,
which asks the policy about the stage, the team and the caller's scope."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Request, Response, get, post, put
from litestar.params import JSONBody, PathParameter, QueryParameter

from backend.guards import current, requires_login
from backend.i18n import request_locale
from backend.schemas import IdPath
from judging.advancement import service
from judging.advancement.documents import certificate_pdf
from judging.advancement.schemas import (
    AwardsOut,
    CertificateOut,
    CertificatesOut,
    ReasonIn,
    RecommendationOut,
    RecommendationsOut,
    RecommendedOut,
    RecommendIn,
    RulesIn,
    RulesOut,
    TierOut,
    TiersIn,
)

SERIAL_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
Serial = Annotated[str, PathParameter(min_length=1, max_length=32, pattern=SERIAL_PATTERN)]
PdfName = Annotated[str, PathParameter(min_length=5, max_length=36, pattern=r"^[A-Za-z0-9_-]{1,32}\.pdf$")]
Lang = Annotated[Literal["zh", "en", "ru"] | None, QueryParameter()]


def _base_url(request: Request) -> str:
    return request.app.state.settings.base_url


class AdvancementController(Controller):
    path = "/api/v1/stages/{stage_id:int}"
    tags = ["judging: advancement"]
    guards = [requires_login]

    @get("/advancement-rules", operation_id="GetAdvancementRules")
    async def get_rules(self, request: Request, stage_id: IdPath) -> RulesOut:
        """The quotas for advancing from this stage (the group maxima they give) and the next stage."""
        return await service.get_rules(current(request), stage_id)

    @put("/advancement-rules", operation_id="SetAdvancementRules")
    async def set_rules(self, request: Request, stage_id: IdPath, data: JSONBody[RulesIn]) -> RulesOut:
        """Set the quotas (total, per region, group ratio, per institution) and the next stage."""
        return await service.set_rules(current(request), stage_id, data)

    @get("/recommendations", operation_id="ListRecommendations")
    async def list_recommendations(self, request: Request, stage_id: IdPath) -> RecommendationsOut:
        """Recommendations, quota usage and your candidates in the cut-off order, with their ties."""
        return await service.list_recommendations(current(request), stage_id)

    @post("/recommendations", operation_id="RecommendTeams", status_code=201)
    async def recommend(
        self, request: Request, stage_id: IdPath, data: JSONBody[RecommendIn]
    ) -> RecommendedOut:
        """Recommend entries of your scope in rank order, within the quotas: all of them or none."""
        return await service.recommend(current(request), stage_id, data)

    @post("/recommendations/accept", operation_id="AcceptRecommendations", status_code=200)
    async def accept(self, request: Request, stage_id: IdPath) -> list[RecommendationOut]:
        """Accept every recommended team into the next stage."""
        return await service.accept_recommendations(current(request), stage_id)

    @get("/prize-tiers", operation_id="GetPrizeTiers")
    async def get_tiers(self, request: Request, stage_id: IdPath) -> list[TierOut]:
        """The stage's prize tiers in order."""
        return await service.get_tiers(current(request), stage_id)

    @put("/prize-tiers", operation_id="SetPrizeTiers")
    async def set_tiers(self, request: Request, stage_id: IdPath, data: JSONBody[TiersIn]) -> list[TierOut]:
        """Replace the prize tiers (by code; a tier already given stays)."""
        return await service.set_tiers(current(request), stage_id, data)

    @get("/awards", operation_id="ListAwards")
    async def list_awards(self, request: Request, stage_id: IdPath) -> AwardsOut:
        """The stage's awards and the ties that crossed a tier's end."""
        return await service.list_awards(current(request), stage_id)

    @post("/awards", operation_id="GiveAwards", status_code=200)
    async def give_awards(self, request: Request, stage_id: IdPath) -> AwardsOut:
        """Give the prize tiers in the published order (a rerun changes nothing already given)."""
        return await service.give_awards(current(request), stage_id)

    @get("/certificates", operation_id="ListCertificates")
    async def list_certificates(self, request: Request, stage_id: IdPath) -> CertificatesOut:
        """The certificates of the stage's awards."""
        return await service.list_certificates(current(request), stage_id, _base_url(request))

    @post("/certificates", operation_id="IssueCertificates", status_code=200)
    async def issue_certificates(self, request: Request, stage_id: IdPath) -> CertificatesOut:
        """A certificate for each confirmed member and advisor of each awarded team (once each)."""
        return await service.issue_certificates(current(request), stage_id, _base_url(request))


class RecommendationController(Controller):
    path = "/api/v1/recommendations/{recommendation_id:int}"
    tags = ["judging: advancement"]
    guards = [requires_login]

    @post("/withdraw", operation_id="WithdrawRecommendation", status_code=200)
    async def withdraw(self, request: Request, recommendation_id: IdPath) -> RecommendationOut:
        """Take your recommendation back (or, as an organizer, anyone's) while it is not decided."""
        return await service.withdraw_recommendation(current(request), recommendation_id)

    @post("/refuse", operation_id="RefuseRecommendation", status_code=200)
    async def refuse(
        self, request: Request, recommendation_id: IdPath, data: JSONBody[ReasonIn]
    ) -> RecommendationOut:
        """Turn a recommendation down, saying why."""
        return await service.refuse_recommendation(current(request), recommendation_id, data.reason)


class CertificateController(Controller):
    path = "/api/v1/certificates"
    tags = ["judging: certificates"]
    guards = [requires_login]

    @get("/{document:str}", operation_id="GetCertificatePdf", media_type="application/pdf")
    async def pdf(self, request: Request, document: PdfName, lang: Lang = None) -> Response[bytes]:
        """The certificate as PDF (``<serial>.pdf``) in zh, en or ru: for its holder, the team and
        the organizers whose scope covers it."""
        serial = document.removesuffix(".pdf")
        row = await service.certificate_for(current(request), serial)
        language = lang or request_locale(request)
        content = certificate_pdf(row, language, service.verify_url(_base_url(request), serial))
        return Response(
            content,
            media_type="application/pdf",
            headers={"content-disposition": f'inline; filename="certificate-{serial}-{language}.pdf"'},
        )

    @post("/{serial:str}/revoke", operation_id="RevokeCertificate", status_code=200)
    async def revoke(self, request: Request, serial: Serial, data: JSONBody[ReasonIn]) -> CertificateOut:
        """Revoke a certificate; its verification page says so from now on."""
        return await service.revoke_certificate(current(request), serial, data.reason, _base_url(request))
