"""The live final's events and where they go, without the web framework (services publish here;
:mod:`judging.live.channels` is the transport that registers itself while the app runs).

Each room has three channels, one per audience, so an audience never receives what it must not see:
``control`` (the organizers' screen: phases, every judge's marks, results), ``judges`` (the tablets:
phases and "a sheet is in", never marks) and ``screen`` (the projector: phases and results).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Protocol

CONTROL, JUDGES, SCREEN = "control", "judges", "screen"
EVERYONE = (CONTROL, JUDGES, SCREEN)


class Publisher(Protocol):
    """A running transport: ``namespace`` keeps two Podiums on one Redis server apart."""

    namespace: str

    async def wait_published(self, data: bytes | str, channels: Iterable[str]) -> None: ...


# The transports started in this process, newest last; events go out through the newest.
_running: list[Publisher] = []


def started(transport: Publisher) -> None:
    _running.append(transport)


def stopped(transport: Publisher) -> None:
    if transport in _running:
        _running.remove(transport)


def publisher() -> Publisher | None:
    """The transport events go out through, or ``None`` outside a running app (a command, a test of
    the service alone): then nothing is pushed, and screens read the state when they connect."""
    return _running[-1] if _running else None


def channel(namespace: str, panel_id: int, audience: str) -> str:
    return f"podium:{namespace}:room:{panel_id}:{audience}"


async def publish(panel_id: int, kind: str, data: dict[str, Any], audiences: Iterable[str]) -> None:
    """Send the event ``kind`` with ``data`` to the room's ``audiences``: handed to the transport (one
    Redis command) before this returns, so it is on its way before the caller answers anyone."""
    transport = publisher()
    if transport is None:
        return
    message = json.dumps({"event": kind, "data": data}, default=str, ensure_ascii=False)
    await transport.wait_published(message, [channel(transport.namespace, panel_id, a) for a in audiences])
