"""Every judging change writes its audit entry (``judging.<kind>``) in the transaction that makes it."""

from __future__ import annotations

from typing import Any

from backend import audit


async def judging_changed(
    actor_id: int | None, event_id: int, kind: str, target_type: str, target_id: int | None, **data: Any
) -> None:
    """Record ``kind`` (e.g. ``rubric_saved``, ``sheet_submitted``, ``stage_locked``) done to
    ``target_type`` ``target_id``. Call inside the service's transaction."""
    await audit.record(actor_id, f"judging.{kind}", target_type, target_id, event_id=event_id, data=data)
