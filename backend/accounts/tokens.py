"""API tokens as strings: how they look, how they are stored, how their scopes are written.

Framework-free, so the accounts service (which issues tokens) and the authentication middleware
(which checks them) share one definition.
"""

from __future__ import annotations

import hashlib
import secrets

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
