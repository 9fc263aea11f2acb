"""API tokens as strings: how they look, how they are stored, how their scopes are written.

Framework-free, so the accounts service (which issues tokens) and the authentication middleware
(which checks them) share one definition.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from contextvars import ContextVar

TOKEN_PREFIX = "pdm_"  # noqa: S105 - a marker, not a secret


def token_digest(token: str) -> str:
    """What is stored in place of a token: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_token() -> tuple[str, str]:
    """A fresh bearer token and the digest that is stored in its place."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_digest(token)


def parse_scopes(value: str) -> frozenset[str]:
    """A token's scopes as stored (space-separated, e.g. ``"read write"``)."""
    return frozenset(value.split())


ForgetUser = Callable[[int], None]

forget_cached_credentials: ContextVar[ForgetUser | None] = ContextVar(
    "podium_forget_cached_credentials", default=None
)
"""Set for each request by the web layer (``backend.request_context``): drops what the serving
process has cached about a user's bearer tokens (``backend.security.PrincipalCache.forget_user``).
Services that revoke tokens or change a user call it after their commit (``backend.db.on_commit``),
so the very next request to this process is checked against the database; the other processes learn
it from the database's ``podium_auth`` notification."""
