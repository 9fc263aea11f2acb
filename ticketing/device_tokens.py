"""Scanning devices' own bearer tokens, resolved for the authentication middleware
(``Domain.bearer_tokens``).

A device token (``pdv_`` and 43 random characters; only its SHA-256 is kept) resolves to a
:class:`backend.policy.Principal` with ``id`` 0, the single scope ``device`` and a
:class:`backend.policy.DeviceIdentity`, so it reaches nothing but the routes marked for that scope,
and there only its own event's lists (:func:`ticketing.access.scan_access`). On PostgreSQL resolved
devices are kept in the app's token cache (``backend.security.PrincipalCache``): the triggers of
migration 2026-11-29T03:00:00 drop an entry when its device is revoked, changed or deleted or its lists
change, and the devices service also drops it in its own process right after committing
(:func:`ticketing.access.forget_device`), so a revoked token is refused at once. ``last_seen_at`` is
written at most once a minute, like an API token's last use.
"""

from __future__ import annotations

import datetime as dt

from backend.db import fetch_all, fetch_one
from backend.policy import DeviceIdentity, Principal
from backend.security import LAST_USE_RESOLUTION, Bearer, PrincipalCache, cached_bearer

_DEVICE_SQL = (
    "SELECT id, event, name, gate, last_seen_at FROM checkin_device"
    " WHERE token_hash = {} AND revoked_at IS NULL"
)
_LISTS_SQL = "SELECT checkin_list FROM checkin_device_list WHERE device = {}"


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
