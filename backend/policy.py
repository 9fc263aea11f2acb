"""Who may do what: the caller as the rest of Podium sees it, and the rules that decide.

Framework-free on purpose: services, pages, jobs and guards all ask this module, so a rule is
written once and holds on every path.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    id: int
    email: str
    display_name: str
    locale: str
    is_platform_admin: bool
    via: str  # "session" or "token"
