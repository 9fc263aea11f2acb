"""The accounts the incubator's forms name by e-mail (a mentor, a programme role, a founder)."""

from __future__ import annotations

from typing import Any

from backend.db import fetch_one


async def account_by_email(email: str) -> dict[str, Any] | None:
    """The ``id``, ``email`` and ``display_name`` of the account with this address (stored in lower
    case, so the address is trimmed and lowered first), or ``None`` when no account has it."""
    return await fetch_one(
        "SELECT id, email, display_name FROM podium_user WHERE email = {}", email.strip().lower()
    )
