"""The app of the scanning benchmark (``bench/scanning.py``): Podium's own app plus one route mounted
only here, the baseline: the floor of one durable write per scan. It takes the same device tokens
(the same token cache and scope check) and checks the device's list in memory as the scan does,
then sends ONE single-statement conditional UPDATE of the same table, ``checkin``: the seeded
pending row of (list, ticket) becomes an admission unless it already is one."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Litestar, Request, post
from litestar.params import JSONBody

from backend import app
from backend.db import fetch_all, utcnow
from backend.errors import NotFound
from backend.guards import current, requires_login
from backend.schemas import Struct
from backend.security import TOKEN_SCOPE_OPT

_UPDATE = (
    "UPDATE checkin SET status = 'admitted', reason = NULL, slot = 0, received_at = {}"
    " WHERE checkin_list = {} AND ticket = {} AND status = 'rejected' RETURNING id"
)


class BaselineIn(Struct):
    ticket: Annotated[int, msgspec.Meta(ge=1)]
    list: Annotated[int, msgspec.Meta(ge=1)]
    nonce: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class BaselineOut(msgspec.Struct):
    status: str


@post(
    "/api/v1/bench/checkin/baseline",
    guards=[requires_login],
    status_code=200,
    opt={TOKEN_SCOPE_OPT: ("device", "write")},
)
async def baseline(request: Request, data: JSONBody[BaselineIn]) -> BaselineOut:
    """One conditional UPDATE: admit the ticket on the list unless it was admitted."""
    device = current(request).device
    if device is None or data.list not in device.lists:
        raise NotFound("Check-in list")
    rows = await fetch_all(_UPDATE, utcnow(), data.list, data.ticket)
    return BaselineOut("admitted" if rows else "rejected")


def create_app() -> Litestar:
    podium = app.create_app()
    podium.register(baseline)
    return podium
