"""Litestar guards: every route declares what it needs, and :mod:`backend.policy` decides.

A guard turns the policy's outcome into HTTP: 401 to log in, 404 when the object does not exist
for the caller (a draft they may not see), 403 when they see it but may not do this.
"""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from backend.errors import NotFound
from backend.policy import (
    Action,
    EventContext,
    Outcome,
    Principal,
    Scope,
    decide,
    event_context,
    organization_context,
    refuse_unless_allowed,
)


def current(connection: ASGIConnection) -> Principal:
    """The logged-in caller, or 401."""
    user = connection.scope.get("user")
    if user is None:
        raise NotAuthorizedException("Log in first")
    return user


async def authorize(
    principal: Principal | None,
    action: Action,
    event_id: int | None = None,
    target: Scope | None = None,
    organization_id: int | None = None,
) -> EventContext | None:
    """Check ``action`` for the caller (in the event, on ``target``, or in the organization) and
    return the event's context."""
    organization = None
    if organization_id is not None:
        if principal is None:
            raise NotAuthorizedException("Log in first")
        organization = await organization_context(principal, organization_id)
        if organization is None:
            raise NotFound("Organization")
    event = None
    if event_id is not None:
        event = await event_context(principal, event_id)
        if event is None:
            if principal is None and action is not Action.view_event:
                raise NotAuthorizedException("Log in first")
            raise NotFound("Event")
    outcome = decide(principal, action, event, target, organization)
    if outcome is Outcome.unauthenticated:
        raise NotAuthorizedException("Log in first")
    refuse_unless_allowed(outcome, action)
    return event


def requires_login(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    current(connection)


def may(action: Action, *, track_param: str | None = None) -> Guard:
    """A guard for ``action``, in the event of the ``event_id`` path parameter (or the organization of
    ``organization_id``) when the route has one;
    ``track_param`` names a path parameter whose track is the target (for scoped admins)."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        event_id = connection.path_params.get("event_id")
        target = None
        if track_param is not None:
            target = Scope(track_id=connection.path_params.get(track_param))
        await authorize(
            connection.scope.get("user"),
            action,
            event_id,
            target,
            connection.path_params.get("organization_id"),
        )

    guard.__name__ = f"may_{action.value}"
    return guard
