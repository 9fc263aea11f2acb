"""Who may scan where: scanning devices' own bearer tokens, and the check every scanning endpoint
makes for a device or a person.

A device token (``pdv_`` and 43 random characters; only its SHA-256 is kept) resolves to a
:class:`backend.policy.Principal` with ``id`` 0, the single scope ``device`` and a
:class:`backend.policy.DeviceIdentity`, so it reaches nothing but the routes marked for that scope,
and there only its own event's lists. On PostgreSQL resolved devices are kept in the app's token cache
(``backend.security.PrincipalCache``): the triggers of migration 2026-11-29T03:00:00 drop an entry
when its device is revoked, changed or deleted or its lists change, and the devices service also drops
it in its own process right after committing (:func:`forget_device`), so a revoked token is refused at
once. ``last_seen_at`` is written at most once a minute, like an API token's last use.
"""

from __future__ import annotations

import datetime as dt
import secrets

from backend.db import fetch_all, fetch_one
from backend.errors import NotFound
from backend.policy import (
    Action,
    DeviceIdentity,
    EventContext,
    Principal,
    decide,
    event_context,
    refuse_unless_allowed,
)
from backend.security import LAST_USE_RESOLUTION, Bearer, PrincipalCache, cached_bearer

DEVICE_TOKEN_PREFIX = "pdv_"  # noqa: S105 - a marker, not a secret

_DEVICE_SQL = (
    "SELECT id, event, name, gate, last_seen_at FROM checkin_device"
    " WHERE token_hash = {} AND revoked_at IS NULL"
)
_LISTS_SQL = "SELECT checkin_list FROM checkin_device_list WHERE device = {}"


def new_device_token() -> str:
    return DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)


async def _record_contact(device_id: int, now: dt.datetime) -> None:
    await fetch_all(
        "UPDATE checkin_device SET last_seen_at = {} WHERE id = {}"
        " AND (last_seen_at IS NULL OR last_seen_at < {})",
        now,
        device_id,
        now - LAST_USE_RESOLUTION,
    )


async def _load_device(digest: str, now: dt.datetime) -> Bearer | None:
    row = await fetch_one(_DEVICE_SQL, digest)
    if row is None:
        return None
    lists = frozenset(r["checkin_list"] for r in await fetch_all(_LISTS_SQL, row["id"]))
    principal = Principal(
        id=0,
        email="",
        display_name=row["name"],
        locale="zh",
        is_platform_admin=False,
        via="device",
        scopes=frozenset({"device"}),
        device=DeviceIdentity(row["id"], row["event"], lists, row["gate"]),
    )
    return principal, row["last_seen_at"], None


async def _device_seen(principal: Principal, now: dt.datetime) -> None:
    await _record_contact(principal.device.device_id, now)  # type: ignore[union-attr]


async def device_for_token(token: str, cache: PrincipalCache | None = None) -> Principal | None:
    """The device behind a live device token, as a caller: from ``cache`` when it holds it, else by
    two small queries (then cached)."""
    if len(token) > 100:
        return None
    return await cached_bearer(token, cache, _load_device, _device_seen)


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
