"""Mail jobs: plain ``async def f(ctx, ...)`` functions that both job queues run."""

from __future__ import annotations

from typing import Any

from backend.mail import service


async def deliver_email(ctx: dict[str, Any], outbox_id: int) -> str:
    return await service.deliver(ctx["settings"], outbox_id)


async def flush_outbox(ctx: dict[str, Any]) -> dict[str, int]:
    """Retry what is still queued (a failed send, a lost job, a crashed worker's claim)."""
    counts: dict[str, int] = {}
    for outbox_id in await service.pending_ids():
        outcome = await service.deliver(ctx["settings"], outbox_id)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
