"""The transport of a live final's events (:mod:`judging.live.events`) across app processes:
Litestar's channels with the Redis Pub/Sub backend when Redis is configured (every process
subscribes to the rooms its screens watch, so a mark submitted to one process reaches a screen served
by another), the memory backend otherwise (the embedded default: one process). Redis Pub/Sub channels
ignore the database number, so the names carry it: two Podiums sharing one Redis server on different
databases never hear each other.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from litestar.response import ServerSentEventMessage
from redis.asyncio import Redis

from backend.settings import Settings
from judging.live import events

KEEPALIVE_SECONDS = 15.0  # a comment line this often keeps proxies from closing an idle stream


class RoomChannels(ChannelsPlugin):
    """The app's channels plugin; while the app runs, :func:`judging.live.events.publish` sends
    through it. Each start gets a new backend from ``new_backend``: a backend keeps asyncio objects
    of the event loop it ran in, and an app may be started again in another loop (the tests start
    one app per test)."""

    def __init__(self, new_backend: Callable[[], Any], namespace: str) -> None:
        super().__init__(
            backend=new_backend(), arbitrary_channels_allowed=True, create_ws_route_handlers=False
        )
        self.namespace = namespace
        self._new_backend = new_backend

    async def __aenter__(self) -> ChannelsPlugin:
        self._backend = self._new_backend()
        started = await super().__aenter__()
        events.started(self)
        return started

    async def __aexit__(self, *exc: Any) -> None:
        events.stopped(self)
        await super().__aexit__(*exc)

    def room(self, panel_id: int, audience: str) -> str:
        return events.channel(self.namespace, panel_id, audience)


def room_channels(settings: Settings, redis: Redis | None) -> RoomChannels:
    """The plugin ``create_app`` installs: Redis Pub/Sub with ``redis``, else in memory."""
    if redis is None:
        return RoomChannels(MemoryChannelsBackend, "local")
    database = urlsplit(settings.redis_url).path.strip("/") or "0"
    return RoomChannels(lambda: RedisChannelsPubSubBackend(redis=redis), f"db{database}")


Keep = Callable[[str, dict[str, Any]], dict[str, Any] | None]


async def stream(
    plugin: ChannelsPlugin,
    names: list[str],
    first: Callable[[], Awaitable[list[tuple[str, dict[str, Any]]]]],
    keep: Keep | None = None,
) -> AsyncIterator[ServerSentEventMessage]:
    """Server-Sent Events for one screen: ``first()``'s events (the room's state, read after
    subscribing so nothing falls between), then every event of ``names`` that ``keep(kind, data)``
    lets through (it returns the data to send, or ``None``), with a keep-alive comment when the room
    is quiet. A closed room has nothing more to say: the stream ends after its ``closed`` phase."""
    subscriber = await plugin.subscribe(names)
    pending: asyncio.Future[bytes] | None = None
    try:
        for kind, data in await first():
            yield _message(kind, data)
            if _closes(kind, data):
                return
        events = subscriber.iter_events()
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(events))
            done, _ = await asyncio.wait({pending}, timeout=KEEPALIVE_SECONDS)
            if not done:
                yield ServerSentEventMessage(comment="keep-alive")
                continue
            payload = json.loads(pending.result())
            pending = None
            data = payload["data"] if keep is None else keep(payload["event"], payload["data"])
            if data is not None:
                yield _message(payload["event"], data)
                if _closes(payload["event"], data):
                    return
    finally:
        if pending is not None:
            pending.cancel()
        await plugin.unsubscribe(subscriber)


def _closes(kind: str, data: dict[str, Any]) -> bool:
    return kind in ("state", "phase") and data.get("phase") == "closed"


def _message(kind: str, data: dict[str, Any]) -> ServerSentEventMessage:
    return ServerSentEventMessage(event=kind, data=json.dumps(data, default=str, ensure_ascii=False))
