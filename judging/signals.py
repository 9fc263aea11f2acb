"""What happens after a score sheet is stored, for the parts of judging that react to it (the live
final's screens), without the scoring service knowing them: listeners register here at import, and
scoring calls :func:`sheet_saved` after its transaction commits."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger("podium.judging")

SheetListener = Callable[[dict[str, Any]], Awaitable[None]]
_listeners: list[SheetListener] = []


def on_sheet_saved(listener: SheetListener) -> SheetListener:
    """Register ``listener`` (usable as a decorator). It receives the saved sheet as a dict: ``sheet``,
    ``assignment``, ``stage``, ``stage_entry``, ``panel`` (or ``None``), ``judge``, ``version``,
    ``marks``, ``total``, ``submitted_at`` (ISO text)."""
    _listeners.append(listener)
    return listener


async def sheet_saved(sheet: dict[str, Any]) -> None:
    """Tell every listener; a failing listener is logged, never raised (the sheet is committed)."""
    for listener in _listeners:
        try:
            await listener(sheet)
        except Exception:
            logger.exception("a sheet listener failed for sheet %s", sheet.get("sheet"))
