from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec


class AuditEntryOut(msgspec.Struct):
    """One entry of an event's audit trail: who (a snapshot taken when it was written), from where
    (client address and channel: session, token, admin or cli), when, and what."""

    id: int
    created_at: dt.datetime
    actor_id: int | None
    actor_email: str | None
    client_address: str | None
    channel: str | None
    token_id: int | None
    action: str
    target_type: str
    target_id: int | None
    event_id: int | None
    data: dict[str, Any]
