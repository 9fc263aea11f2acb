"""The append-only audit log: who did what to which record, written in the same transaction.

Who acted is snapshotted when the entry is written (id, e-mail, client address, channel), so the
entry keeps saying who it was after the account changes or is deleted. The snapshot comes from
:data:`current_actor`, which the web layer sets per request (``backend.request_context``), the back
office per write (``backend.admin``) and the command line per command (``backend.cli``); services
keep calling :func:`record` with just the actor's id.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from piccolo.columns import JSON, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import User
from backend.domain import Domain


class AuditEntry(Table):
    """One audited change. Append-only: the database refuses UPDATE and DELETE of these rows
    (triggers, see the migration ``append-only audit log``) and the back office shows them read-only.
    TRUNCATE stays possible on purpose: the test suite resets the database with it, and only the
    schema's owner may run it.

    ``actor_id`` is a plain integer, not a foreign key, so deleting the user changes nothing here.
    ``channel`` is how the actor came in: ``session``, ``token`` (then ``token_id``), ``admin`` (the
    back office) or ``cli``; empty for anonymous requests and background jobs. ``client_address`` is
    the caller's IP address (for the command line, the host it ran on).
    """

    actor_id = Integer(null=True, default=None, index=True)
    actor_email = Varchar(length=255, null=True, default=None)
    client_address = Varchar(length=100, null=True, default=None)
    channel = Varchar(length=20, null=True, default=None)
    token_id = Integer(null=True, default=None)
    action = Varchar(length=60, index=True)
    target_type = Varchar(length=40)
    target_id = Integer(null=True, default=None)
    event_id = Integer(null=True, default=None, index=True)
    data = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())


@dataclass(frozen=True)
class Actor:
    """Who is acting in the current request or command, as the audit log records it."""

    id: int | None = None
    email: str | None = None
    client_address: str | None = None
    channel: str | None = None
    token_id: int | None = None


current_actor: ContextVar[Actor | None] = ContextVar("podium_audit_actor", default=None)


@contextlib.contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    """Entries written inside the block carry ``actor``'s snapshot."""
    token = current_actor.set(actor)
    try:
        yield
    finally:
        current_actor.reset(token)


async def record(
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: int | None,
    *,
    event_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Append one entry; call inside the service's transaction so it commits with the change.

    The client address and channel come from :data:`current_actor`; so does the e-mail when the
    context is about the same actor, otherwise (a login, a job) it is read from the account.
    """
    context = current_actor.get() or Actor()
    email = context.email if context.id == actor_id else None
    if actor_id is not None and email is None:
        row = await User.select(User.email).where(User.id == actor_id).first()
        email = row["email"] if row else None
    await AuditEntry.insert(
        AuditEntry(
            actor_id=actor_id,
            actor_email=email,
            client_address=context.client_address,
            channel=context.channel,
            token_id=context.token_id if context.id == actor_id else None,
            action=action,
            target_type=target_type,
            target_id=target_id,
            event_id=event_id,
            data=data or {},
        )
    )


async def list_entries(event_id: int, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """An event's entries, newest first, and how many there are: the event's audit trail. The caller
    checks who may read it (``Action.view_audit``)."""
    rows = (
        await AuditEntry.select()
        .where(AuditEntry.event_id == event_id)
        .order_by(AuditEntry.id, ascending=False)
        .limit(limit)
        .offset(offset)
        .output(load_json=True)
    )
    return rows, await AuditEntry.count().where(AuditEntry.event_id == event_id)


def _admin_views() -> list[Any]:
    from backend.admin_views import read_only

    columns = [
        AuditEntry.id,
        AuditEntry.created_at,
        AuditEntry.actor_id,
        AuditEntry.actor_email,
        AuditEntry.action,
        AuditEntry.target_type,
        AuditEntry.target_id,
    ]
    return [read_only(AuditEntry, columns)]


DOMAIN = Domain(name="audit", tables=("backend.audit",), admin_views=_admin_views)
