"""A saved score sheet of a live final, pushed to its room: the judge's marks to the organizers'
screen, "your sheet is in" to the judges' tablets (no marks), and the team's room result to the
organizers and the room screen once every judge of the team is in.

The push runs as a task of its own, so the judge's submission is answered without waiting for it
(the sheet is committed before listeners run; a push that fails is logged and the screens catch up
from the room's state when they reconnect)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from backend.db import fetch_one
from judging.live import events
from judging.live.service import compute_result
from judging.signals import on_sheet_saved

logger = logging.getLogger("podium.judging")
_pushing: set[asyncio.Task[None]] = set()  # running pushes, kept referenced until they finish


@on_sheet_saved
async def push_sheet(sheet: dict[str, Any]) -> None:
    """Registered at import (the live controllers import this module, so it runs in every app)."""
    if sheet.get("panel") is None or events.publisher() is None:
        return
    task = asyncio.get_running_loop().create_task(_push(sheet))
    _pushing.add(task)
    task.add_done_callback(_done)


def _done(task: asyncio.Task[None]) -> None:
    _pushing.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.error("pushing a sheet to its room failed", exc_info=task.exception())


async def _push(sheet: dict[str, Any]) -> None:
    found = await fetch_one(
        "SELECT u.display_name AS judge_name, j.live FROM podium_user u "
        "JOIN stage_judging j ON j.stage = {} WHERE u.id = {}",
        sheet["stage"],
        sheet["judge"],
    )
    if found is None or not found["live"]:
        return
    panel = sheet["panel"]
    mark = {
        "entry": sheet["stage_entry"],
        "judge": sheet["judge"],
        "judge_name": found["judge_name"],
        "total": sheet["total"],
        "marks": sheet["marks"],
        "version": sheet["version"],
        "submitted_at": sheet["submitted_at"],
    }
    events.publish(panel, "mark", mark, (events.CONTROL,))
    events.publish(
        panel, "sheet_in", {"entry": sheet["stage_entry"], "judge": sheet["judge"]}, (events.JUDGES,)
    )
    progress, result = await compute_result(sheet["stage_entry"])
    events.publish(panel, "progress", progress, (events.CONTROL,))
    if result is not None:
        result_data = {"entry": sheet["stage_entry"], **result.as_dict()}
        events.publish(panel, "result", result_data, (events.CONTROL, events.SCREEN))
