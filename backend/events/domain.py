"""Events with their contest structure (tracks, stages) or their sessions."""

from __future__ import annotations

from backend.domain import Domain
from backend.events.controllers import EventController, SessionController, StageController, TrackController


def _admin_views() -> list:
    from piccolo_admin.endpoints import TableConfig

    from backend.events.tables import Event, EventSession, Stage, Track

    return [
        TableConfig(Event, visible_columns=[Event.id, Event.slug, Event.kind, Event.status, Event.starts_on]),
        Track,
        Stage,
        EventSession,
    ]


DOMAIN = Domain(
    name="events",
    tables=("backend.events.tables",),
    routes=(EventController, TrackController, StageController, SessionController),
    admin_views=_admin_views,
)
