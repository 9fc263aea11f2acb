"""What the ``podium`` commands share: a progress counter and running a command's coroutine with the
database open. Apart from ``backend.cli`` so the services' own commands (``ticketing.commands``) can
use them without importing the command line that registers them."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from backend.settings import get_settings


class Progress:
    """A one-line progress counter on stderr for long commands."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.shown = label, total, -1

    def __call__(self, done: int) -> None:
        percent = 100 * done // max(self.total, 1)
        step = 1 if sys.stderr.isatty() else 25  # a log file gets a few lines, a terminal a live counter
        if percent // step != self.shown // step or done >= self.total:
            self.shown = percent
            end = "\n" if done >= self.total or step > 1 else ""
            print(f"\r{self.label}: {done}/{self.total} ({percent}%)", end=end, file=sys.stderr, flush=True)


def run_async(factory: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """Run a command's coroutine with the database pool open; what it audits is marked as the
    command line's doing."""
    from backend.audit import Actor, acting_as
    from backend.db import connection_pool
    from backend.piccolo_app import use_database

    use_database(get_settings())

    async def main() -> int:
        async with connection_pool(get_settings()):
            with acting_as(Actor(channel="cli", client_address=socket.gethostname()[:100])):
                return await factory()

    return run(main())


def run(coroutine: Coroutine[Any, Any, int]) -> int:
    """Run a coroutine to its end; asyncio is imported here, by the commands that need an event loop
    (``podium rank`` and ``podium assign`` start faster without it)."""
    import asyncio

    return asyncio.run(coroutine)
