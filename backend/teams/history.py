"""Every change to a team is written twice in its transaction: an audit entry (the organizers'
record, ``team.<kind>``) and a line of the team's own timeline (``TeamEvent``, shown on its page)."""

from __future__ import annotations

from typing import Any

from backend import audit
from backend.teams.tables import TeamEvent


async def team_changed(actor_id: int | None, team: dict[str, Any], kind: str, **data: Any) -> None:
    """Record ``kind`` (e.g. ``created``, ``member_confirmed``, ``approved``) for ``team`` (its row).
    Call inside the transaction that makes the change."""
    await audit.record(actor_id, f"team.{kind}", "team", team["id"], event_id=team["event"], data=data)
    await TeamEvent.insert(TeamEvent(team=team["id"], kind=kind, actor=actor_id, data=data))
