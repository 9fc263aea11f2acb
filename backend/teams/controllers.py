"""The participants' team routes, the contests' registration rules and the organizations' past
winners. Routes check the login (or the event's action) first; the services check the team."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.params import JSONBody, PathParameter

from backend.guards import current, may, requires_login
from backend.policy import Action
from backend.schemas import IdPath
from backend.teams import service
from backend.teams.rules import RulesIn
from backend.teams.schemas import (
    JoinIn,
    LeaderIn,
    PastWinnerIn,
    PastWinnerOut,
    RulesOut,
    SeatInviteIn,
    SeatOut,
    TeamAcceptIn,
    TeamDetailOut,
    TeamIn,
    TeamInvitationOut,
    TeamOut,
    TeamPatch,
)

TokenPath = Annotated[str, PathParameter(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.-]+$")]


def _base_url(request: Request) -> str:
    return request.app.state.settings.base_url


# A function, not a controller: the organizers' controller has this path, and Litestar cannot merge
# two controllers' handlers of one path (each brings its own OPTIONS handler).
@post(
    "/api/v1/events/{event_id:int}/teams",
    operation_id="CreateTeam",
    tags=["teams"],
    guards=[may(Action.register_team)],
)
async def create_team(request: Request, event_id: IdPath, data: JSONBody[TeamIn]) -> TeamOut:
    """Register a team in a track of an open contest; you become its leader. The contest's rules
    apply (registration window, name limits, one team per person per track, eligibility); each
    refusal names its rule and limit."""
    return await service.create_team(current(request), event_id, data)


class TeamController(Controller):
    path = "/api/v1/teams"
    tags = ["teams"]
    guards = [requires_login]

    @get("/mine", operation_id="MyTeams")
    async def my_teams(self, request: Request) -> list[TeamOut]:
        """The teams in which you hold a seat, have an invitation or asked to join."""
        return await service.my_teams(current(request))

    @post("/join", operation_id="JoinTeam", status_code=201)
    async def join(self, request: Request, data: JSONBody[JoinIn]) -> SeatOut:
        """Ask to join the team of a join code; its leader approves or refuses."""
        return await service.join_by_code(current(request), data)

    @get("/{team_id:int}", operation_id="GetTeam")
    async def get_team(self, request: Request, team_id: IdPath) -> TeamDetailOut:
        """The team, its seats, what keeps it from being complete, and its timeline (its people and
        the organizers whose scope covers it; to anyone else it does not exist)."""
        return await service.get_team(current(request), team_id)

    @patch("/{team_id:int}", operation_id="UpdateTeam")
    async def update_team(self, request: Request, team_id: IdPath, data: JSONBody[TeamPatch]) -> TeamOut:
        """Rename the team or its entry (the leader), within the contest's limits."""
        return await service.update_team(current(request), team_id, data)

    @post("/{team_id:int}/seats", operation_id="InviteToTeam", status_code=201)
    async def invite(self, request: Request, team_id: IdPath, data: JSONBody[SeatInviteIn]) -> SeatOut:
        """Invite a member or an advisor by e-mail (the leader); the link is valid for 14 days and
        the seat is held until answered."""
        return await service.invite(current(request), team_id, data, _base_url(request))

    @delete("/{team_id:int}/seats/{seat_id:int}", operation_id="RemoveSeat")
    async def remove_seat(self, request: Request, team_id: IdPath, seat_id: IdPath) -> None:
        """Remove a member or advisor, revoke an invitation or drop a join request (the leader)."""
        await service.remove_seat(current(request), team_id, seat_id)

    @post("/{team_id:int}/seats/{seat_id:int}/approve", operation_id="ApproveJoinRequest", status_code=200)
    async def approve(self, request: Request, team_id: IdPath, seat_id: IdPath) -> SeatOut:
        """Let a person who asked with the join code into the team (if the rules still allow)."""
        return await service.answer_request(current(request), team_id, seat_id, approve=True)

    @post("/{team_id:int}/seats/{seat_id:int}/refuse", operation_id="RefuseJoinRequest", status_code=200)
    async def refuse(self, request: Request, team_id: IdPath, seat_id: IdPath) -> SeatOut:
        """Turn a join request down."""
        return await service.answer_request(current(request), team_id, seat_id, approve=False)

    @post("/{team_id:int}/leader", operation_id="HandOverTeam", status_code=200)
    async def hand_over(self, request: Request, team_id: IdPath, data: JSONBody[LeaderIn]) -> TeamOut:
        """Make a confirmed member the leader; you become a member."""
        return await service.hand_over(current(request), team_id, data)

    @post("/{team_id:int}/join-code", operation_id="RotateJoinCode", status_code=200)
    async def rotate_code(self, request: Request, team_id: IdPath) -> TeamOut:
        """A new join code; the old one stops working."""
        return await service.rotate_code(current(request), team_id)

    @post("/{team_id:int}/leave", operation_id="LeaveTeam", status_code=204)
    async def leave(self, request: Request, team_id: IdPath) -> None:
        """Leave the team (the leader hands over first)."""
        await service.leave(current(request), team_id)

    @post("/{team_id:int}/withdraw", operation_id="WithdrawTeam", status_code=200)
    async def withdraw(self, request: Request, team_id: IdPath) -> TeamOut:
        """Withdraw the team from the contest: final, and every seat is freed."""
        return await service.withdraw(current(request), team_id)


class TeamInvitationController(Controller):
    """The link of a team invitation is its holder's credential: no login is needed to look at it
    or decline it, and accepting it without a login creates the account."""

    path = "/api/v1/team-invitations/{token:str}"
    tags = ["teams"]

    @get("", operation_id="GetTeamInvitation", security=[])
    async def view(self, token: TokenPath) -> TeamInvitationOut:
        """What the invitation is for, and whether it can still be accepted."""
        return await service.view_invitation(token)

    @post("/accept", operation_id="AcceptTeamInvitation", status_code=200)
    async def accept(
        self, request: Request, token: TokenPath, data: JSONBody[TeamAcceptIn | None] = None
    ) -> SeatOut:
        """Take the seat. Logged in: as the invited address. Not logged in: ``display_name`` and
        ``password`` create the account (an address that has one answers 401
        ``invitation_login_required``). The account is created confirmed and kept even when the
        contest's rules refuse the person for now: 409 ``profile_incomplete`` names the profile's
        fields to fill in (``PUT /api/v1/me/profile``, logged in), the invitation stays pending and
        the same link accepts afterwards. Accepting twice gives the same answer."""
        return await service.accept_invitation(request.scope.get("user"), token, data)

    @post("/decline", operation_id="DeclineTeamInvitation", status_code=200)
    async def decline(self, request: Request, token: TokenPath) -> SeatOut:
        """Say no: the seat is freed."""
        return await service.decline_invitation(request.scope.get("user"), token)


class RegistrationRulesController(Controller):
    path = "/api/v1/events/{event_id:int}"
    tags = ["teams"]

    @get(
        "/registration-rules",
        operation_id="GetRegistrationRules",
        guards=[may(Action.view_event)],
        security=[],
    )
    async def get_rules(self, event_id: IdPath) -> RulesOut:
        """The contest's declared registration rules (defaults apply to keys it leaves out)."""
        return await service.get_rules(event_id, None)

    @put("/registration-rules", operation_id="SetRegistrationRules", guards=[may(Action.edit_structure)])
    async def set_rules(self, request: Request, event_id: IdPath, data: JSONBody[RulesIn]) -> RulesOut:
        """Replace the contest's registration rules (the event's organizers)."""
        return await service.set_rules(current(request), event_id, None, data)

    @get(
        "/tracks/{track_id:int}/registration-rules",
        operation_id="GetTrackRegistrationRules",
        guards=[may(Action.view_event)],
        security=[],
    )
    async def get_track_rules(self, event_id: IdPath, track_id: IdPath) -> RulesOut:
        """The track's overrides and the rules in force in it (contest, overrides, the track's sizes)."""
        return await service.get_rules(event_id, track_id)

    @put(
        "/tracks/{track_id:int}/registration-rules",
        operation_id="SetTrackRegistrationRules",
        guards=[may(Action.edit_structure)],
    )
    async def set_track_rules(
        self, request: Request, event_id: IdPath, track_id: IdPath, data: JSONBody[RulesIn]
    ) -> RulesOut:
        """Replace the track's overrides of the contest's rules (the event's organizers)."""
        return await service.set_rules(current(request), event_id, track_id, data)


class PastWinnerController(Controller):
    path = "/api/v1/organizations/{organization_id:int}/past-winners"
    tags = ["organizations"]

    @get("", operation_id="ListPastWinners", guards=[may(Action.view_organization)])
    async def list_winners(self, organization_id: IdPath) -> list[PastWinnerOut]:
        """The organization's past winners, for the contests that exclude them."""
        return await service.list_winners(organization_id)

    @post("", operation_id="AddPastWinner", guards=[may(Action.manage_organization)])
    async def add_winner(
        self, request: Request, organization_id: IdPath, data: JSONBody[PastWinnerIn]
    ) -> PastWinnerOut:
        """Record a prize won at an earlier edition (the organization's admins)."""
        return await service.add_winner(current(request), organization_id, data)
