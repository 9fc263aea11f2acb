"""Every incubator change writes its audit entry (``incubator.<kind>``) in the transaction that makes
it; the programme's id is in the entry's data (``programme``), so a programme's trail is one filter."""

from __future__ import annotations

from typing import Any

from backend import audit


async def incubator_changed(
    actor_id: int | None, programme_id: int, kind: str, target_type: str, target_id: int | None, **data: Any
) -> None:
    """Record ``kind`` (``cohort_created``, ``meeting_logged``, ``report_submitted`` ...) done to
    ``target_type`` ``target_id``. Call inside the service's transaction. Never put a mentor's private
    notes or a startup's figures in ``data``: the audit trail is read by more people than they are."""
    await audit.record(
        actor_id, f"incubator.{kind}", target_type, target_id, data={"programme": programme_id, **data}
    )
