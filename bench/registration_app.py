"""The app of the registration benchmark (``bench/registration.py``): Podium's own app plus one
route mounted only here, the baseline. It goes through the same login, policy guard, transaction
and audit entry as the routes measured beside it, around one INSERT."""

from __future__ import annotations

from litestar import Litestar, Request, post
from litestar.params import JSONBody

from backend import app, audit
from backend.db import transaction
from backend.events.tables import Event
from backend.guards import current, may
from backend.policy import Action
from backend.schemas import IdPath
from backend.teams.schemas import JoinIn


@post("/api/v1/bench/events/{event_id:int}/rows", guards=[may(Action.register_team)])
async def baseline(request: Request, event_id: IdPath, data: JSONBody[JoinIn]) -> dict[str, int]:
    """One row (``bench_row``, made by the benchmark's seed) and its audit entry."""
    actor = current(request)
    async with transaction():
        rows = await Event.raw(
            "INSERT INTO bench_row (event, author, name) VALUES ({}, {}, {}) RETURNING id",
            event_id,
            actor.id,
            data.code,
        )
        await audit.record(actor.id, "bench.row", "bench_row", rows[0]["id"], event_id=event_id)
    return {"id": rows[0]["id"]}


def create_app() -> Litestar:
    podium = app.create_app()
    podium.register(baseline)
    return podium
