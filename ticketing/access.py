"""Who may scan where: the check every scanning endpoint makes for a device or a person, and what
a scan records of who made it. Free of the HTTP layer (services import it); a device's token is
resolved by :mod:`ticketing.device_tokens`.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from backend.errors import NotFound
from backend.policy import (
    Action,
    EventContext,
    Principal,
    decide,
    event_context,
    refuse_unless_allowed,
)

if TYPE_CHECKING:
    from backend.security import PrincipalCache

DEVICE_TOKEN_PREFIX = "pdv_"  # noqa: S105 - a marker, not a secret


def new_device_token() -> str:
    return DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)


def forget_device(cache: PrincipalCache | None, token_hash: str) -> None:
    """Drop a device from this process's token cache (after its revocation or change commits)."""
    if cache is not None:
        cache.forget(token_hash)


async def scan_access(principal: Principal, event_id: int, list_id: int) -> EventContext | None:
    """Refuse unless ``principal`` may scan on the list ``list_id`` of the event ``event_id``: a device
    on one of its own lists, or a person the policy allows ``scan_tickets`` in the event. A list
    outside a device's reach does not exist for it (404); a person is refused as the policy says.
    Returns the event's context for a person, ``None`` for a device."""
    device = principal.device
    if device is not None:
        if device.event_id != event_id or list_id not in device.lists:
            raise NotFound("Check-in list")
        return None
    event = await event_context(principal, event_id)
    if event is None:
        raise NotFound("Check-in list")
    refuse_unless_allowed(decide(principal, Action.scan_tickets, event), Action.scan_tickets)
    return event


def actor_of(principal: Principal) -> str:
    """Who scanned, as the check-in log's ``actor``: ``d<device id>`` or ``u<user id>``."""
    return f"d{principal.device.device_id}" if principal.device is not None else f"u{principal.id}"


def gate_of(principal: Principal, fallback: str) -> str:
    """The gate an admission shows: the device's, else ``fallback`` (the list's name)."""
    return (principal.device.gate if principal.device is not None else "") or fallback
