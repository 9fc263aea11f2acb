"""The results routes: ranking runs, results, publication, appeals, re-review and exports. Routes
check the login; the services ask the policy about the stage, the run, the team or the appeal."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.params import JSONBody, PathParameter
from litestar.response import Stream

from backend.guards import current, requires_login
from backend.i18n import request_locale
from backend.schemas import IdPath, IdQuery
from judging.results import exports, service
from judging.results.schemas import (
    AppealAnswerIn,
    AppealIn,
    AppealOut,
    PublicationOut,
    RankingPublishIn,
    RankingResultOut,
    RankingRunDetailOut,
    RankingRunOut,
    RereviewIn,
    RereviewJudgeIn,
    RereviewOut,
)


def _base_url(request: Request) -> str:
    return request.app.state.settings.base_url


class ResultsController(Controller):
    path = "/api/v1"
    tags = ["judging: results"]
    guards = [requires_login]

    @post("/stages/{stage_id:int}/ranking-runs", operation_id="RequestRankingRun", status_code=201)
    async def request_run(self, request: Request, stage_id: IdPath) -> RankingRunOut:
        """Queue a ranking of the stage's sheets as a job (organizers; locked, or scoring for a
        provisional run). Poll the run for its progress."""
        return await service.request_run(current(request), stage_id)

    @get("/stages/{stage_id:int}/ranking-runs", operation_id="ListRankingRuns")
    async def list_runs(self, request: Request, stage_id: IdPath) -> list[RankingRunOut]:
        """The stage's ranking runs, newest first."""
        return await service.list_runs(current(request), stage_id)

    @get("/ranking-runs/{run_id:int}", operation_id="GetRankingRun")
    async def get_run(self, request: Request, run_id: IdPath) -> RankingRunDetailOut:
        """A run's status, progress and phase; when done, its diagnostics and notes."""
        return await service.get_run(current(request), run_id)  # type: ignore[return-value]

    @get("/ranking-runs/{run_id:int}/results", operation_id="GetRankingResults")
    async def results(
        self, request: Request, run_id: IdPath, track: IdQuery = None
    ) -> list[RankingResultOut]:
        """A finished run's places, best first, inside your scope (optionally one track's)."""
        return await service.run_results(current(request), run_id, track)

    @post("/stages/{stage_id:int}/publish", operation_id="PublishRanking", status_code=200)
    async def publish(
        self, request: Request, stage_id: IdPath, data: JSONBody[RankingPublishIn]
    ) -> PublicationOut:
        """Publish a finished run of the locked stage; the objection period and appeals start."""
        return await service.publish_ranking(current(request), stage_id, data.run, _base_url(request))

    @post("/stages/{stage_id:int}/appeals", operation_id="FileAppeal", status_code=201)
    async def file_appeal(self, request: Request, stage_id: IdPath, data: JSONBody[AppealIn]) -> AppealOut:
        """The team leader's appeal against the published ranking (one per team, in the window)."""
        return await service.file_appeal(current(request), stage_id, data)

    @get("/stages/{stage_id:int}/appeals", operation_id="ListAppeals")
    async def list_appeals(self, request: Request, stage_id: IdPath) -> list[AppealOut]:
        """The stage's appeals inside your scope, the earliest answer due first, overdue flagged."""
        return await service.list_appeals(current(request), stage_id)

    @get("/appeals/{appeal_id:int}", operation_id="GetAppeal")
    async def get_appeal(self, request: Request, appeal_id: IdPath) -> AppealOut:
        """An appeal, for its team's members and the organizers who see the team."""
        return await service.get_appeal(current(request), appeal_id)

    @post("/appeals/{appeal_id:int}/answer", operation_id="AnswerAppeal", status_code=200)
    async def answer_appeal(
        self, request: Request, appeal_id: IdPath, data: JSONBody[AppealAnswerIn]
    ) -> AppealOut:
        """Uphold or dismiss an open appeal, once; the team is mailed the answer."""
        return await service.answer_appeal(current(request), appeal_id, data, _base_url(request))

    @post("/appeals/{appeal_id:int}/withdraw", operation_id="WithdrawAppeal", status_code=200)
    async def withdraw_appeal(self, request: Request, appeal_id: IdPath) -> AppealOut:
        """The leader withdraws the team's open appeal."""
        return await service.withdraw_appeal(current(request), appeal_id)

    @get("/stages/{stage_id:int}/rereview", operation_id="ListRereview")
    async def rereview_queue(self, request: Request, stage_id: IdPath) -> list[RereviewOut]:
        """Entries marked for re-review, inside your scope."""
        return await service.rereview_queue(current(request), stage_id)

    @post("/stages/{stage_id:int}/rereview", operation_id="RequestRereview", status_code=200)
    async def request_rereview(
        self, request: Request, stage_id: IdPath, data: JSONBody[RereviewIn]
    ) -> RereviewOut:
        """Mark an entry for re-review with the reason (organizers, while judges score)."""
        return await service.request_rereview(current(request), stage_id, data)

    @post("/stage-entries/{entry_id:int}/rereview-judge", operation_id="AddRereviewJudge", status_code=201)
    async def add_rereview_judge(
        self, request: Request, entry_id: IdPath, data: JSONBody[RereviewJudgeIn]
    ) -> dict:
        """Give an entry marked for re-review one more judge (conflicts of interest refused)."""
        return await service.add_rereview_judge(current(request), entry_id, data.judge)

    @get("/stages/{stage_id:int}/exports/{file:str}", operation_id="ExportStageResults")
    async def export(
        self,
        request: Request,
        stage_id: IdPath,
        file: Annotated[exports.FileName, PathParameter()],
        run: IdQuery = None,
    ) -> Stream:
        """``sheets.csv|xlsx`` (every current sheet), ``rankings.csv|xlsx`` (a run's ranking; ``run``
        defaults to the published run, else the latest finished one) or ``judges.csv|xlsx`` (judge
        statistics of that run), inside your scope. Columns: see ``judging.results.exports``."""
        kind, fmt = file.split(".")
        export = await exports.export(current(request), stage_id, kind, fmt, run, request_locale(request))  # type: ignore[arg-type]
        return Stream(
            export.chunks,
            media_type=export.media_type,
            headers={"Content-Disposition": f'attachment; filename="{export.file_name}"'},
        )
