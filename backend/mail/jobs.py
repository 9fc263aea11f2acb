"""Mail jobs: plain ``async def f(ctx, ...)`` functions that both job queues run."""

from __future__ import annotations

from typing import Any

from backend.mail import service

FLUSH_EVERY = 5  # seconds; with service.LEASE, a crashed worker's claims are taken over within 15 s


async def deliver_email(ctx: dict[str, Any], outbox_id: int) -> str:
    return await service.deliver(ctx["settings"], outbox_id)


async def flush_outbox(ctx: dict[str, Any]) -> dict[str, int]:
    """Deliver what is due: a failed send after its back-off, a row whose job was lost, a crashed
    worker's claim after its lease ran out."""
    counts: dict[str, int] = {}
    for outbox_id in await service.pending_ids():
        outcome = await service.deliver(ctx["settings"], outbox_id)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
