from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.pagination import OffsetPagination
from litestar.params import FromQuery, JSONBody, PathParameter

from backend.events import service
from backend.events.schemas import (
    EventIn,
    EventOut,
    EventPatch,
    SessionIn,
    SessionOut,
    StageIn,
    StageOut,
    TrackIn,
    TrackOut,
)
from backend.events.tables import Event, EventKind, EventStatus
from backend.guards import current, may, requires_login
from backend.policy import Action
from backend.schemas import SLUG_PATTERN, IdPath, IdQuery, Limit, Offset

SlugPath = Annotated[str, PathParameter(min_length=2, max_length=Event.slug.length, pattern=SLUG_PATTERN)]


class EventController(Controller):
    path = "/api/v1/events"
    tags = ["events"]

    @get("", operation_id="ListEvents")
    async def list_events(
        self,
        request: Request,
        limit: Limit = 50,
        offset: Offset = 0,
        kind: FromQuery[EventKind | None] = None,
        status: FromQuery[EventStatus | None] = None,
        organization_id: IdQuery = None,
    ) -> OffsetPagination[EventOut]:
        """Published events, plus the drafts the caller organizes; optionally one organization's."""
        items, total = await service.list_events(
            request.user, limit, offset, kind, status, organization_id=organization_id
        )
        return OffsetPagination(items=items, limit=limit, offset=offset, total=total)

    @post("", operation_id="CreateEvent", guards=[requires_login])
    async def create_event(self, request: Request, data: JSONBody[EventIn]) -> EventOut:
        """Create a draft event in an organization (its admins, platform admins). Give its name,
        edition, venue and description in any of zh, en and ru (`name_zh`, `venue_en`...; the name in
        at least one); the slug needs a letter or a hyphen, as digits alone are read as an id."""
        return await service.create_event(current(request), data)

    @get("/{event_id:int}", operation_id="GetEvent")
    async def get_event(self, request: Request, event_id: IdPath) -> EventOut:
        """One event (a draft only for its organizers). Its texts come in every language given
        (`name_zh`, `name_en`, `name_ru`, and so for edition, venue and description): show the
        reader's, else the first given in the order en, zh, ru (the site's `PODIUM_CONTENT_FALLBACK`)."""
        return await service.get_event(request.user, event_id)

    @get("/by-slug/{slug:str}", operation_id="GetEventBySlug")
    async def get_event_by_slug(self, request: Request, slug: SlugPath) -> EventOut:
        """One event by its slug, the short name in its links (`/events/{slug}`); a draft only for
        its organizers, as by id."""
        return await service.get_event_by_slug(request.user, slug)

    @patch("/{event_id:int}", operation_id="UpdateEvent", guards=[may(Action.edit_event)])
    async def update_event(self, request: Request, event_id: IdPath, data: JSONBody[EventPatch]) -> EventOut:
        """Change names, editions, venues and descriptions (each in zh, en, ru), dates or time zone;
        the fields left out keep their values, an empty text removes that language's."""
        return await service.update_event(current(request), event_id, data)

    @post("/{event_id:int}/open", operation_id="OpenEvent", guards=[may(Action.run_event)], status_code=200)
    async def open_event(self, request: Request, event_id: IdPath) -> EventOut:
        """Publish a draft: draft → open."""
        return await service.open_event(current(request), event_id)

    @post("/{event_id:int}/start", operation_id="StartEvent", guards=[may(Action.run_event)], status_code=200)
    async def start_event(self, request: Request, event_id: IdPath) -> EventOut:
        """open → running."""
        return await service.start_event(current(request), event_id)

    @post("/{event_id:int}/close", operation_id="CloseEvent", guards=[may(Action.run_event)], status_code=200)
    async def close_event(self, request: Request, event_id: IdPath) -> EventOut:
        """running → closed."""
        return await service.close_event(current(request), event_id)

    @post(
        "/{event_id:int}/archive",
        operation_id="ArchiveEvent",
        guards=[may(Action.archive_event)],
        status_code=200,
    )
    async def archive_event(self, request: Request, event_id: IdPath) -> EventOut:
        """closed → archived (the organization's admins, platform admins)."""
        return await service.archive_event(current(request), event_id)


class TrackController(Controller):
    path = "/api/v1/events/{event_id:int}/tracks"
    tags = ["contest structure"]

    @get("", operation_id="ListTracks", guards=[may(Action.view_event)])
    async def list_tracks(self, event_id: IdPath) -> list[TrackOut]:
        """The contest's tracks."""
        return await service.list_tracks(event_id)

    @post("", operation_id="CreateTrack", guards=[may(Action.edit_structure)])
    async def create_track(self, request: Request, event_id: IdPath, data: JSONBody[TrackIn]) -> TrackOut:
        """Add a track with its team-size and advisor limits."""
        return await service.create_track(current(request), event_id, data)

    @put(
        "/{track_id:int}",
        operation_id="UpdateTrack",
        guards=[may(Action.edit_track, track_param="track_id")],
    )
    async def update_track(
        self, request: Request, event_id: IdPath, track_id: IdPath, data: JSONBody[TrackIn]
    ) -> TrackOut:
        """Replace a track's settings."""
        return await service.update_track(current(request), event_id, track_id, data)

    @delete("/{track_id:int}", operation_id="DeleteTrack", guards=[may(Action.edit_structure)])
    async def delete_track(self, request: Request, event_id: IdPath, track_id: IdPath) -> None:
        """Remove a track (drafts only)."""
        await service.delete_track(current(request), event_id, track_id)


class StageController(Controller):
    path = "/api/v1/events/{event_id:int}/stages"
    tags = ["contest structure"]

    @get("", operation_id="ListStages", guards=[may(Action.view_event)])
    async def list_stages(self, event_id: IdPath) -> list[StageOut]:
        """The contest's stages in order."""
        return await service.list_stages(event_id)

    @post("", operation_id="CreateStage", guards=[may(Action.edit_structure)])
    async def create_stage(self, request: Request, event_id: IdPath, data: JSONBody[StageIn]) -> StageOut:
        """Append a stage (school → province → national, or online review → final)."""
        return await service.create_stage(current(request), event_id, data)

    @put("/{stage_id:int}", operation_id="UpdateStage", guards=[may(Action.edit_structure)])
    async def update_stage(
        self, request: Request, event_id: IdPath, stage_id: IdPath, data: JSONBody[StageIn]
    ) -> StageOut:
        """Replace a stage's level, names and deadlines."""
        return await service.update_stage(current(request), event_id, stage_id, data)

    @delete("/{stage_id:int}", operation_id="DeleteStage", guards=[may(Action.edit_structure)])
    async def delete_stage(self, request: Request, event_id: IdPath, stage_id: IdPath) -> None:
        """Remove a stage (drafts only); later stages move up."""
        await service.delete_stage(current(request), event_id, stage_id)


class SessionController(Controller):
    path = "/api/v1/events/{event_id:int}/sessions"
    tags = ["sessions"]

    @get("", operation_id="ListSessions", guards=[may(Action.view_event)])
    async def list_sessions(self, event_id: IdPath) -> list[SessionOut]:
        """The agenda of a forum, fair or training."""
        return await service.list_sessions(event_id)

    @post("", operation_id="CreateSession", guards=[may(Action.edit_structure)])
    async def create_session(
        self, request: Request, event_id: IdPath, data: JSONBody[SessionIn]
    ) -> SessionOut:
        """Add a session with room, times and capacity."""
        return await service.create_session(current(request), event_id, data)

    @put("/{session_id:int}", operation_id="UpdateSession", guards=[may(Action.edit_structure)])
    async def update_session(
        self, request: Request, event_id: IdPath, session_id: IdPath, data: JSONBody[SessionIn]
    ) -> SessionOut:
        """Replace a session."""
        return await service.update_session(current(request), event_id, session_id, data)

    @delete("/{session_id:int}", operation_id="DeleteSession", guards=[may(Action.edit_structure)])
    async def delete_session(self, request: Request, event_id: IdPath, session_id: IdPath) -> None:
        """Remove a session."""
        await service.delete_session(current(request), event_id, session_id)
