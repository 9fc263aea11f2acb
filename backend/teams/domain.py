"""Team registration: its tables, routes, jobs and section of the organizer's workspace."""

from __future__ import annotations

from backend.domain import Domain

DOMAIN = Domain(
    name="teams",
    tables=("backend.teams.tables",),
)
