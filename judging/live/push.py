"""A saved score sheet of a live final, pushed to its room: the judge's marks to the organizers'
screen, "your sheet is in" to the judges' tablets (no marks), and the team's progress and room
result to the organizers (and the result to the room screen) once every judge of the team is in.

The mark goes out before the judge's submission is answered (one read for the judge's name and the
stage's kind, one Redis command), so it is on the organizers' screen about when the judge's tablet
says "sent". The room result needs the team's other sheets, so it is computed by a task of its own
and the answer does not wait for it. Failures are logged, never raised: the sheet is committed, and
screens catch up from the room's state when they reconnect."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from backend.db import fetch_one
from judging.live import events
from judging.live.service import compute_result
from judging.signals import on_sheet_saved

logger = logging.getLogger("podium.judging")
_pushing: set[asyncio.Task[None]] = set()  # running result pushes, kept referenced until they finish


@on_sheet_saved
async def push_sheet(sheet: dict[str, Any]) -> None:
    """Registered at import (the live controllers import this module, so it runs in every app)."""
    if sheet.get("panel") is None or events.publisher() is None:
        return
    panel, entry, judge = sheet["panel"], sheet["stage_entry"], sheet["judge"]
    found = await fetch_one(
        "SELECT u.display_name, j.live FROM podium_user u JOIN stage_judging j ON j.stage = {} WHERE u.id = {}",
        sheet["stage"],
        judge,
    )
    if found is None or not found["live"]:
        return
    mark = {
        "entry": entry,
        "judge": judge,
        "judge_name": found["display_name"],
        "total": sheet["total"],
        "marks": sheet["marks"],
        "version": sheet["version"],
        "submitted_at": sheet["submitted_at"],
    }
    await events.publish(panel, "mark", mark, (events.CONTROL,))
    await events.publish(panel, "sheet_in", {"entry": entry, "judge": judge}, (events.JUDGES,))
    task = asyncio.get_running_loop().create_task(_push_result(panel, entry))
    _pushing.add(task)
    task.add_done_callback(_done)


def _done(task: asyncio.Task[None]) -> None:
    _pushing.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.error("pushing a room result failed", exc_info=task.exception())


async def _push_result(panel: int, entry: int) -> None:
    progress, result = await compute_result(entry)
    await events.publish(panel, "progress", progress, (events.CONTROL,))
    if result is not None:
        await events.publish(
            panel, "result", {"entry": entry, **result.as_dict()}, (events.CONTROL, events.SCREEN)
        )
