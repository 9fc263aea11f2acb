"""Events with their contest structure (tracks, stages) or their sessions."""

from __future__ import annotations

from backend.domain import Domain
from backend.events.controllers import EventController, SessionController, StageController, TrackController


def _admin_views() -> list:
    """Read-only: events and their structure change through the services (policy, rules, audit)."""
    from backend.admin_views import read_only
    from backend.events.tables import Event, EventSession, Stage, Track

    return [
        read_only(Event, [Event.id, Event.slug, Event.kind, Event.status, Event.starts_on]),
        read_only(Track),
        read_only(Stage),
        read_only(EventSession),
    ]


DOMAIN = Domain(
    name="events",
    tables=("backend.events.tables",),
    routes=(EventController, TrackController, StageController, SessionController),
    admin_views=_admin_views,
)
