"""Loading a team as the policy sees it: what every team operation asks first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend import policy
from backend.errors import NotFound
from backend.policy import Action, EventContext, Principal, Scope, TeamContext
from backend.teams.tables import SeatState, Team, TeamMember


@dataclass(frozen=True)
class TeamAccess:
    """A team's row with the caller's standing: the event's context and the team's."""

    row: dict[str, Any]
    event: EventContext
    team: TeamContext


def team_scope(row: dict[str, Any]) -> Scope:
    """Where a team sits in its event, as organizers' grants are scoped."""
    return Scope(track_id=row["track"], region=row["region"] or None, institution_id=row["institution"])


async def team_access(
    principal: Principal | None, team_id: int, action: Action = Action.view_team
) -> TeamAccess:
    """The team, if ``principal`` may do ``action`` to it; else the policy's refusal (404 when the team
    is hidden from the caller, 403 when visible but not theirs to change)."""
    row = await Team.select().where(Team.id == team_id).first()
    event = await policy.event_context(principal, row["event"]) if row else None
    if row is None or event is None or principal is None:
        raise NotFound("Team")
    members = await TeamMember.select(TeamMember.user).where(
        (TeamMember.team == team_id)
        & (TeamMember.state == SeatState.confirmed.value)
        & TeamMember.user.is_not_null()
    )
    team = TeamContext(
        team_id=team_id,
        scope=team_scope(row),
        leader_id=row["leader"],
        member_ids=frozenset(m["user"] for m in members),
    )
    policy.require(principal, action, event, team=team)
    return TeamAccess(row, event, team)
