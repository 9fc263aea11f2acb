"""The results pages: the organizers' results of a stage (ranking runs with their progress, the
rankings per track, the diagnostics drawn as pictures, re-review and publication) and its appeals;
the public page of a published ranking; a team's own results with its appeal.

Forms post to these pages (they work without JavaScript) and call the same service functions as
the API; ``static/judging-results.js`` only moves the progress bar of a running ranking.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import PathParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from backend import policy
from backend.accounts.tables import User
from backend.errors import DomainError, NotFound, fill
from backend.events import service as events
from backend.events.tables import Stage
from backend.guards import current, may, requires_login
from backend.http_errors import localized_error
from backend.i18n import request_locale, translations
from backend.pages.controllers import page
from backend.policy import Action, Outcome
from backend.schemas import ID_MAX, IdPath
from backend.teams.access import team_access
from backend.workspace.controllers import _posted, event_page
from judging.access import stage_access
from judging.engine.diagnostics import Z95
from judging.results import charts, service
from judging.results.schemas import AppealAnswerIn, AppealIn, RereviewIn
from judging.rubrics import current_rubric
from judging.tables import Appeal, JudgingStatus, RankingRun, RunStatus, StageEntry, StageJudging

DONE = {
    "run": "The ranking is queued; its progress shows below.",
    "published": "The ranking is published. Teams are being mailed their places.",
    "rereview": "The entry is marked for re-review.",
    "answered": "The appeal is answered; the team is being mailed.",
    "appealed": "Your appeal is filed. The organizers answer it by the date shown.",
    "withdrawn": "Your appeal is withdrawn.",
}
FLAGS = {
    "disagree": "Judges disagree",
    "near_cutoff": "Near a cut-off",
    "too_few_judges": "Too few judges",
}
PHASES = {
    "queued": "Waiting for a worker",
    "loading": "Loading the sheets",
    "ranking": "Ranking",
    "diagnostics": "Diagnostics",
    "storing": "Storing the results",
    "done": "Done",
    "failed": "Failed",
}
APPEAL_STATE = "appeal state"  # the context of the words below (an event is "Open" too)
APPEAL_STATES = {"open": "Open", "upheld": "Upheld", "dismissed": "Dismissed", "withdrawn": "Withdrawn"}


def _redirect(path: str, done: str) -> Redirect:
    return Redirect(f"{path}?done={done}", status_code=HTTP_303_SEE_OTHER)


def _done(request: Request) -> str | None:
    return DONE.get(request.query_params.get("done", ""))


def _posted_id(posted: dict[str, Any], name: str) -> int | None:
    """A form's id field as a number, or ``None`` when it is no id (not digits, or beyond the column)."""
    value = posted.get(name, "")
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= ID_MAX:
        return None
    return int(value)


def _allowed(principal: Any, action: Action, access: Any) -> bool:
    return policy.decide(principal, action, access.event) is Outcome.allowed


def _decode(kind: type, posted: dict[str, Any]) -> Any:
    try:
        return msgspec.convert(posted, kind, strict=False)
    except msgspec.ValidationError as exc:
        raise DomainError(
            "validation_error", "Invalid input: {problems}", params={"problems": str(exc)}
        ) from None


async def _names(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = await User.select(User.id, User.display_name, User.email).where(User.id.is_in(list(user_ids)))
    return {r["id"]: r["display_name"] or r["email"] for r in rows}


async def diagnostics_view(
    run: dict[str, Any], rows: list[dict[str, Any]], locale: str
) -> list[charts.Chart]:
    """The run's diagnostics as pictures with their summaries and data tables, in ``locale``."""
    t = translations(locale)
    d = service.loads(run["diagnostics"]) or {}
    e = d.get("explanation") or {}
    labels = {r["stage_entry"]: r["label"] for r in rows}
    entries = await StageEntry.select(StageEntry.id, StageEntry.label).where(StageEntry.stage == run["stage"])
    labels.update({r["id"]: r["label"] for r in entries})
    judges = e.get("judges") or []
    graph = d.get("graph") or {}
    names = await _names({int(j["judge"]) for j in judges} | {int(j) for j in graph.get("judges") or []})
    name = lambda label: names.get(int(label), label)  # noqa: E731
    out: list[charts.Chart] = []
    yes, no = t.gettext("yes"), t.gettext("no")
    if judges:
        shown = judges[:20]
        significant = sum(1 for j in judges if j["significant"])
        out.append(
            charts.Chart(
                "leniency",
                t.gettext("Judges' leniency"),
                charts.interval_chart(
                    "leniency",
                    t.gettext("Judges' leniency"),
                    t.gettext(
                        "Points each judge adds to every score, with 95% intervals; 0 is the average judge."
                    ),
                    [(name(j["judge"]), j["leniency"], j["leniency_se"], j["significant"]) for j in shown],
                    0.0,
                    t.gettext("average judge"),
                ),
                fill(
                    t.gettext(
                        "{significant} of {judges} judges depart significantly from the average judge (marked *)."
                    ),
                    {"significant": significant, "judges": len(judges)},
                ),
                [
                    t.gettext("Judge"),
                    t.gettext("Sheets"),
                    t.gettext("Leniency"),
                    t.gettext("95% interval"),
                    t.gettext("Significant"),
                ],
                [
                    [
                        name(j["judge"]),
                        str(j["n_scores"]),
                        f"{j['leniency']:+.2f}",
                        f"± {Z95 * j['leniency_se']:.2f}",
                        yes if j["significant"] else no,
                    ]
                    for j in shown
                ],
            )
        )
        if "scale" in judges[0]:
            out.append(
                charts.Chart(
                    "scale",
                    t.gettext("Judges' scale"),
                    charts.interval_chart(
                        "scale",
                        t.gettext("Judges' scale"),
                        t.gettext(
                            "How widely each judge spreads the entries, with 95% intervals; 1 is the average judge."
                        ),
                        [(name(j["judge"]), j["scale"], j["scale_se"], j["significant"]) for j in shown],
                        1.0,
                        t.gettext("average judge"),
                    ),
                    t.gettext(
                        "A scale above 1 spreads the entries more widely than the average judge, below 1 less."
                    ),
                    [t.gettext("Judge"), t.gettext("Scale"), t.gettext("95% interval")],
                    [[name(j["judge"]), f"{j['scale']:.3f}", f"± {Z95 * j['scale_se']:.3f}"] for j in shown],
                )
            )
    if graph:
        sizes = graph.get("component_entries") or []
        lam = graph.get("connectivity") or 0.0
        group = t.gettext("Group {n}")
        out.append(
            charts.Chart(
                "components",
                t.gettext("Entries per connected group of judges"),
                charts.bar_chart(
                    "components",
                    t.gettext("Entries per connected group of judges"),
                    t.gettext(
                        "Judges of different groups never scored a common entry, so they cannot be compared."
                    ),
                    [(fill(group, {"n": i + 1}), float(n)) for i, n in enumerate(sizes)],
                ),
                fill(
                    t.gettext(
                        "The judge–entry graph has {groups} connected group(s); its algebraic connectivity λ₂ is {lam} (0: split, near 1: well linked)."
                    ),
                    {"groups": len(sizes), "lam": f"{lam:.3f}"},
                ),
                [t.gettext("Group"), t.gettext("Entries"), t.gettext("Judges")],
                [
                    [
                        fill(group, {"n": i + 1}),
                        str(n),
                        str((graph.get("component_judges") or [0] * len(sizes))[i]),
                    ]
                    for i, n in enumerate(sizes)
                ],
            )
        )
        if graph.get("shared"):
            judge_names = [name(j) for j in graph["judges"]]
            out.append(
                charts.Chart(
                    "shared",
                    t.gettext("Entries each pair of judges both scored"),
                    charts.heat_map(
                        "shared",
                        t.gettext("Entries each pair of judges both scored"),
                        t.gettext(
                            "Darker cells: more entries in common. Empty rows or blocks show judges poorly linked to the others."
                        ),
                        judge_names,
                        graph["shared"],
                    ),
                    t.gettext(
                        "Each cell counts the entries both judges scored; the links let the engine compare judges."
                    ),
                    [t.gettext("Judge"), *judge_names],
                    [[judge_names[i], *(str(c) for c in row)] for i, row in enumerate(graph["shared"])],
                )
            )
    spread = d.get("spread") or []
    if spread:
        rubric = await current_rubric(run["stage"])
        criteria = service.loads(rubric["criteria"]) if rubric else []
        top = sum(float(c["weight"]) * float(c["max"]) for c in criteria) or max(r["max"] for r in spread)
        low = sum(float(c["weight"]) * float(c["min"]) for c in criteria)
        out.append(
            charts.Chart(
                "spread",
                t.gettext("Entries whose judges disagree most"),
                charts.spread_chart(
                    "spread",
                    t.gettext("Entries whose judges disagree most"),
                    t.gettext(
                        "Each dot is one judge's total; * marks entries the engine flags as disagreeing beyond the noise."
                    ),
                    [(labels.get(r["entry"], str(r["entry"])), r["totals"], r["disagree"]) for r in spread],
                    low,
                    top,
                ),
                fill(
                    t.gettext(
                        "{flagged} entries are flagged: their judges disagree far more than the noise of one score explains."
                    ),
                    {"flagged": len(e.get("rereview") or [])},
                ),
                [
                    t.gettext("Entry"),
                    t.gettext("Lowest total"),
                    t.gettext("Highest total"),
                    t.gettext("SD"),
                    t.gettext("Judges disagree"),
                ],
                [
                    [
                        labels.get(r["entry"], str(r["entry"])),
                        f"{r['min']:.2f}",
                        f"{r['max']:.2f}",
                        f"{r['sd']:.2f}",
                        yes if r["disagree"] else no,
                    ]
                    for r in spread
                ],
            )
        )
    by_rank = sorted((r for r in rows if r["rank"] and r["score"] is not None), key=lambda r: r["rank"])
    for cut in e.get("cutoffs") or []:
        k = cut["top"]
        if not cut["within_noise"] or k >= len(by_rank):
            continue
        line = (by_rank[k - 1]["score"] + by_rank[k]["score"]) / 2
        inside = [
            (labels.get(int(x["entry"]), x["entry"]), x["score"], x["se"], (x["rank"] or 0) > k)
            for x in cut["entries"]
        ]
        key = f"cutoff-{k}"
        out.append(
            charts.Chart(
                key,
                fill(t.gettext("Top {k}: entries within the noise of the cut-off"), {"k": k}),
                charts.interval_chart(
                    key,
                    fill(t.gettext("Top {k}: entries within the noise of the cut-off"), {"k": k}),
                    t.gettext(
                        "Each entry's score with its 95% interval; the dashed line is the cut-off. * marks entries below it."
                    ),
                    inside,
                    line,
                    t.gettext("cut-off"),
                ),
                fill(
                    t.gettext(
                        "{n} entries' intervals straddle the top-{k} cut-off: their order around it is largely luck."
                    ),
                    {"n": len(inside), "k": k},
                ),
                [t.gettext("Entry"), t.gettext("Rank"), t.gettext("Score"), t.gettext("95% interval")],
                [
                    [str(label), str(x["rank"]), f"{x['score']:.2f}", f"± {Z95 * (x['se'] or 0):.2f}"]
                    for (label, *_), x in zip(inside, cut["entries"], strict=True)
                ],
            )
        )
    return out


class ResultsPages(Controller):
    path = "/workspace/events/{event_id:int}/judging/stages/{stage_id:int}"
    include_in_schema = False

    async def _access(self, request: Request, event_id: int, stage_id: int) -> Any:
        access = await stage_access(current(request), stage_id, Action.view_judging)
        if access.stage["event"] != event_id:
            raise NotFound("Stage")
        return access

    async def _results(
        self, request: Request, event_id: int, stage_id: int, problem: str = "", status_code: int = 200
    ) -> Template:
        principal, locale = current(request), request_locale(request)
        access = await self._access(request, event_id, stage_id)
        configure = _allowed(principal, Action.configure_judging, access)
        runs = (
            await RankingRun.select()
            .where(RankingRun.stage == stage_id)
            .order_by(RankingRun.id, ascending=False)
            .limit(10)
        )
        wanted = request.query_params.get("run", "")
        run = next((r for r in runs if str(r["id"]) == wanted), None) or (runs[0] if runs else None)
        rows, tracks, pictures = [], {}, []
        if run and run["status"] == RunStatus.done.value:
            all_rows = await service.result_rows(run["id"])
            rows = service.visible_rows(principal, access, all_rows)
            for r in rows:
                tracks.setdefault(r["track_code"], []).append(r)
            for group in tracks.values():
                group.sort(key=lambda r: (r["track_rank"] == 0, r["track_rank"], r["label"]))
            pictures = await diagnostics_view(run, all_rows, locale) if len(rows) == len(all_rows) else []
        explanation = (service.loads(run["diagnostics"]) or {}).get("explanation") if run else None
        judging = access.judging
        publishable = (
            configure
            and run is not None
            and judging["status"] == JudgingStatus.locked.value
            and run["status"] == RunStatus.done.value
            and not (service.loads(run["diagnostics"]) or {}).get("provisional")
            and (judging["locked_at"] is None or run["requested_at"] >= judging["locked_at"])
        )
        rereview = [r for r in rows if "disagree" in (r["flag"] or "")]
        return await event_page(
            request,
            "judging/results/results.html.jinja",
            event_id,
            "judging",
            status_code,
            stage=access.stage,
            judging=judging,
            current="results",
            configure=configure,
            runs=[service.run_out(r) for r in runs],
            run=service.run_out(run, detail=True) if run else None,
            tracks=sorted(tracks.items()),
            pictures=pictures,
            scoped=bool(rows) and len(pictures) == 0 and run is not None,
            explanation=explanation,
            publishable=publishable,
            rereview=rereview,
            queue=await service.rereview_queue(principal, stage_id),
            flags={k: translations(locale).gettext(v) for k, v in FLAGS.items()},
            phases={k: translations(locale).gettext(v) for k, v in PHASES.items()},
            z95=Z95,
            problem=problem,
            stage_done=_done(request),
        )

    @get("/results", guards=[may(Action.view_judging)])
    async def results(self, request: Request, event_id: IdPath, stage_id: IdPath) -> Template:
        """The stage's rankings per track, the diagnostics as pictures, runs, re-review, publication."""
        return await self._results(request, event_id, stage_id)

    async def _act(self, request: Request, event_id: int, stage_id: int, action: Any, done: str) -> Response:
        await self._access(request, event_id, stage_id)
        try:
            result = await action(await _posted(request))
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            detail, fields = localized_error(exc, request_locale(request))
            problem = "; ".join([detail, *fields.values()]) if fields else detail
            return await self._results(request, event_id, stage_id, problem, exc.status_code)
        where = f"/workspace/events/{event_id}/judging/stages/{stage_id}/results"
        if isinstance(result, int):
            return Redirect(f"{where}?run={result}&done={done}", status_code=HTTP_303_SEE_OTHER)
        return _redirect(where, done)

    @post("/results/run", guards=[may(Action.view_judging)])
    async def run(self, request: Request, event_id: IdPath, stage_id: IdPath) -> Response:
        principal = current(request)

        async def act(posted: dict[str, Any]) -> int:
            return (await service.request_run(principal, stage_id)).id

        return await self._act(request, event_id, stage_id, act, "run")

    @post("/results/publish", guards=[may(Action.view_judging)])
    async def publish(self, request: Request, event_id: IdPath, stage_id: IdPath) -> Response:
        principal, base = current(request), request.app.state.settings.base_url

        async def act(posted: dict[str, Any]) -> None:
            run_id = _posted_id(posted, "run")
            if run_id is None:
                raise DomainError(
                    "validation_error", "Invalid input: {problems}", fields={"run": "Choose a ranking run"}
                )
            await service.publish_ranking(principal, stage_id, run_id, base)

        return await self._act(request, event_id, stage_id, act, "published")

    @post("/results/rereview", guards=[may(Action.view_judging)])
    async def rereview(self, request: Request, event_id: IdPath, stage_id: IdPath) -> Response:
        principal = current(request)

        async def act(posted: dict[str, Any]) -> None:
            await service.request_rereview(principal, stage_id, _decode(RereviewIn, posted))

        return await self._act(request, event_id, stage_id, act, "rereview")

    async def _appeals(
        self, request: Request, event_id: int, stage_id: int, problem: str = "", status_code: int = 200
    ) -> Template:
        principal = current(request)
        access = await self._access(request, event_id, stage_id)
        t = translations(request_locale(request))
        return await event_page(
            request,
            "judging/results/appeals.html.jinja",
            event_id,
            "judging",
            status_code,
            stage=access.stage,
            judging=access.judging,
            current="appeals",
            configure=_allowed(principal, Action.configure_judging, access),
            appeals=await service.list_appeals(principal, stage_id),
            states={k: t.pgettext(APPEAL_STATE, v) for k, v in APPEAL_STATES.items()},
            problem=problem,
            stage_done=_done(request),
        )

    @get("/appeals", guards=[may(Action.view_judging)])
    async def appeals(self, request: Request, event_id: IdPath, stage_id: IdPath) -> Template:
        """The stage's appeals, the earliest answer due first, with the answer forms."""
        return await self._appeals(request, event_id, stage_id)

    @post("/appeals/{appeal_id:int}/answer", guards=[may(Action.view_judging)])
    async def answer(
        self, request: Request, event_id: IdPath, stage_id: IdPath, appeal_id: IdPath
    ) -> Response:
        await self._access(request, event_id, stage_id)
        appeal = await service.get_appeal(current(request), appeal_id)
        if appeal.stage != stage_id:
            raise NotFound("Appeal")
        try:
            data = _decode(AppealAnswerIn, await _posted(request))
            await service.answer_appeal(
                current(request), appeal_id, data, request.app.state.settings.base_url
            )
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            detail, fields = localized_error(exc, request_locale(request))
            problem = "; ".join([detail, *fields.values()]) if fields else detail
            return await self._appeals(request, event_id, stage_id, problem, exc.status_code)
        return _redirect(f"/workspace/events/{event_id}/judging/stages/{stage_id}/appeals", "answered")


class PublicResultsPages(Controller):
    include_in_schema = False

    @get("/events/{event:str}/stages/{stage_id:int}/results")
    async def public(
        self, request: Request, event: Annotated[str, PathParameter(max_length=100)], stage_id: IdPath
    ) -> Template:
        """A published ranking: the teams in rank order per track, the objection period and how to
        appeal. Before publication there is no such page."""
        found = await events.find_event(request.user, event)
        stage = await Stage.select().where((Stage.id == stage_id) & (Stage.event == found.id)).first()
        judging = await StageJudging.select().where(StageJudging.stage == stage_id).first() if stage else None
        if stage is None or judging is None or judging["status"] != JudgingStatus.published.value:
            raise NotFound("Stage")
        tracks: dict[str, list[dict[str, Any]]] = {}
        for r in await service.published_results(stage_id):
            if r["rank"]:
                tracks.setdefault(r["track_code"], []).append(r)
        for group in tracks.values():
            group.sort(key=lambda r: (r["track_rank"], r["label"]))
        return page(
            request,
            "judging/results/public.html.jinja",
            event=found,
            stage=stage,
            judging=judging,
            tracks=sorted(tracks.items()),
        )

    @get("/teams/{team_id:int}/results", guards=[requires_login])
    async def team(self, request: Request, team_id: IdPath) -> Template:
        """A team's places in each published stage and its appeal (the leader files it here), for its
        members and the organizers who see the team."""
        return await self._team(request, team_id)

    async def _team(
        self, request: Request, team_id: int, problem: str = "", status_code: int = 200, text: str = ""
    ) -> Template:
        principal = current(request)
        access = await team_access(principal, team_id, Action.view_team)
        leader = principal.id == access.team.leader_id
        entries = await StageEntry.select(StageEntry.stage).where(StageEntry.team == team_id)
        stages = []
        for e in entries:
            judging = await StageJudging.select().where(StageJudging.stage == e["stage"]).first()
            if judging is None or judging["status"] != JudgingStatus.published.value:
                continue
            stage = await Stage.select().where(Stage.id == e["stage"]).first()
            place = next(
                (r for r in await service.published_results(e["stage"]) if r["team"] == team_id), None
            )
            appeals = await _team_appeals(principal, e["stage"], team_id)
            stages.append(
                {
                    "stage": stage,
                    "judging": judging,
                    "place": place,
                    "appeal": appeals[0] if appeals else None,
                }
            )
        event = await events.get_event(principal, access.row["event"])
        t = translations(request_locale(request))
        return page(
            request,
            "judging/results/team.html.jinja",
            status_code=status_code,
            team=access.row,
            event=event,
            stages=stages,
            leader=leader,
            states={k: t.pgettext(APPEAL_STATE, v) for k, v in APPEAL_STATES.items()},
            flags={k: t.gettext(v) for k, v in FLAGS.items()},
            problem=problem,
            text=text,
            done=_done(request),
        )

    @post("/teams/{team_id:int}/results/appeal", guards=[requires_login])
    async def appeal(self, request: Request, team_id: IdPath) -> Response:
        posted = await _posted(request)
        try:
            stage_id = _posted_id(posted, "stage")
            if stage_id is None:
                raise NotFound("Stage")
            data = _decode(AppealIn, {"team": team_id, "text": posted.get("text", "")})
            await service.file_appeal(current(request), stage_id, data)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            detail, fields = localized_error(exc, request_locale(request))
            problem = "; ".join([detail, *fields.values()]) if fields else detail
            return await self._team(request, team_id, problem, exc.status_code, posted.get("text", ""))
        return _redirect(f"/teams/{team_id}/results", "appealed")

    @post("/teams/{team_id:int}/results/appeals/{appeal_id:int}/withdraw", guards=[requires_login])
    async def withdraw(self, request: Request, team_id: IdPath, appeal_id: IdPath) -> Response:
        appeal = await service.get_appeal(current(request), appeal_id)
        if appeal.team != team_id:
            raise NotFound("Appeal")
        try:
            await service.withdraw_appeal(current(request), appeal_id)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            return await self._team(
                request, team_id, localized_error(exc, request_locale(request))[0], exc.status_code
            )
        return _redirect(f"/teams/{team_id}/results", "withdrawn")


async def _team_appeals(principal: Any, stage_id: int, team_id: int) -> list[Any]:
    rows = await Appeal.select(Appeal.id).where((Appeal.stage == stage_id) & (Appeal.team == team_id))
    return [await service.get_appeal(principal, r["id"]) for r in rows]
