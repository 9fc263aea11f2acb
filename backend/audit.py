"""The append-only audit log: who did what to which record, written in the same transaction."""

from __future__ import annotations

from typing import Any

from piccolo.columns import JSON, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table


class AuditEntry(Table):
    actor = ForeignKey(
        LazyTableReference("User", module_path="backend.accounts.tables"),
        null=True,
        default=None,
        on_delete=OnDelete.set_null,
    )
    action = Varchar(length=60, index=True)
    target_type = Varchar(length=40)
    target_id = Integer(null=True, default=None)
    event_id = Integer(null=True, default=None, index=True)
    data = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())


async def record(
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: int | None,
    *,
    event_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Append one entry; call inside the service's transaction so it commits with the change."""
    await AuditEntry.insert(
        AuditEntry(
            actor=actor_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            event_id=event_id,
            data=data or {},
        )
    )
