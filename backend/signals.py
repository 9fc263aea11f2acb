"""What happened in one domain, for the domains that react to it, without the first knowing them:
listeners register here at import (``@listen("team_approved")``), and a service calls
:func:`after_commit` inside its transaction, so they hear of the change only once it is committed.

Signals, with their keyword arguments:

- ``team_approved``: ``event_id``, ``team_id``: a team's registration is complete and accepted (an
  organizer approved it);
- ``role_granted``: ``event_id``, ``user_id``, ``role``: someone holds a role in an event (granted
  directly or by accepting an invitation).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from backend.db import on_commit

logger = logging.getLogger("podium.signals")

Listener = Callable[..., Awaitable[Any]]
_listeners: dict[str, list[Listener]] = {}


def listen(signal: str) -> Callable[[Listener], Listener]:
    """Register the decorated ``async def listener(**data)`` for ``signal``."""

    def register(listener: Listener) -> Listener:
        if listener not in _listeners.setdefault(signal, []):
            _listeners[signal].append(listener)
        return listener

    return register


async def send(signal: str, **data: Any) -> None:
    """Tell every listener of ``signal`` now; a failing listener is logged, never raised (the change
    it reacts to is committed, and each listener has its own safety net)."""
    for listener in _listeners.get(signal, ()):
        try:
            await listener(**data)
        except Exception:
            logger.exception("a listener of %s failed for %r", signal, data)


def after_commit(signal: str, **data: Any) -> None:
    """Send ``signal`` once the current transaction commits (not at all when it rolls back)."""
    on_commit(functools.partial(send, signal, **data))
