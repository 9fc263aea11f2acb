"""Tickets issued without an organizer: the listeners of registrations and role grants, and the
periodic job that issues whatever they missed (a failed listener, a change made outside the
services). Both insert ``ON CONFLICT DO NOTHING`` against the unique indexes, so they may overlap."""

from __future__ import annotations

from typing import Any

from arq.cron import cron

from backend import signals
from ticketing.tickets import service


@signals.listen("team_approved")
async def team_approved(event_id: int, team_id: int) -> None:
    await service.issue_for_team(event_id, team_id)


@signals.listen("role_granted")
async def role_granted(event_id: int, user_id: int, role: str) -> None:
    await service.issue_for_role(event_id, user_id, role)


async def issue_missing_tickets(ctx: dict[str, Any]) -> dict[str, int]:
    """Every open or running event's automatic ticket types, made complete."""
    return await service.auto_issue_everywhere()


MISSING_TICKETS = cron(issue_missing_tickets, minute={7, 37}, run_at_startup=True)  # twice an hour
