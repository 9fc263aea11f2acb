"""The domain registry: each package declares what it brings, and the app, the Piccolo app, the
worker and the back office collect it from here.

A new service is one new package with a ``domain.py`` that defines ``DOMAIN``, plus its line in
:data:`INSTALLED`; nothing else central changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from typing import Any

# Where each domain's ``DOMAIN`` is declared, in the order their routes and tables are collected.
INSTALLED = (
    "backend.audit",
    "backend.accounts.domain",
    "backend.institutions.domain",
    "backend.organizations.domain",
    "backend.events.domain",
    "backend.teams.domain",
    "judging.domain",
    "ticketing.domain",
    "incubator.domain",
    "backend.mail.domain",
    "backend.pages.domain",
    "backend.workspace.domain",
)


@dataclass(frozen=True)
class WorkspaceSection:
    """A section of an event's workspace (``/workspace/events/{event_id}/...``), listed in the event's
    sub-navigation for callers the policy allows ``action`` (a ``backend.policy.Action`` value).

    ``path_template`` is formatted with ``event_id``; ``title`` is an English message id, translated
    when rendered; ``kinds`` limits the section to some event kinds (empty: every kind). Sections are
    shown in ``order``, then in the order of :data:`INSTALLED`.
    """

    key: str
    title: str
    path_template: str
    action: str
    order: int = 100
    kinds: tuple[str, ...] = ()

    def path(self, event_id: int) -> str:
        return self.path_template.format(event_id=event_id)


@dataclass(frozen=True)
class NavLink:
    """A link of the site's header, shown to platform admins and to the signed-in people for whom
    ``shown(user_id)`` (one small query) is true. ``title`` is an English message id."""

    title: str
    href: str
    shown: Callable[[int], Awaitable[bool]]


@dataclass(frozen=True)
class Domain:
    """What one package contributes.

    ``tables`` names modules (imported by Piccolo's table finder, so migrations see every table);
    ``routes`` are Litestar controllers, routers or handlers; ``jobs`` are ``async def job(ctx, ...)``
    functions the job queues run, ``cron_jobs`` arq's periodic ones; ``admin_views`` returns the
    back-office views (tables or Piccolo Admin ``TableConfig``s), built only when the back office is;
    ``workspace_sections`` are the package's sections of the organizer's event workspace;
    ``nav_links`` are the package's links in the site's header (its own area, for its people);
    ``bearer_tokens`` maps a token prefix to ``async resolve(token, cache) -> Principal | None`` for
    bearer tokens that are not API tokens (scanning devices' own tokens), with ``cache`` the app's
    ``backend.security.PrincipalCache`` or ``None``.
    """

    name: str
    tables: Sequence[str] = ()
    routes: Sequence[Any] = ()
    jobs: Sequence[Callable[..., Any]] = ()
    cron_jobs: Sequence[Any] = ()
    admin_views: Callable[[], Sequence[Any]] = lambda: ()
    workspace_sections: Sequence[WorkspaceSection] = ()
    bearer_tokens: Sequence[tuple[str, Callable[..., Any]]] = ()
    nav_links: Sequence[NavLink] = ()


@cache
def installed() -> tuple[Domain, ...]:
    return tuple(import_module(path).DOMAIN for path in INSTALLED)


def table_modules() -> list[str]:
    """Every table module, for the one Piccolo app."""
    return [module for domain in installed() for module in domain.tables]


def routes() -> list[Any]:
    return [route for domain in installed() for route in domain.routes]


def jobs() -> list[Callable[..., Any]]:
    return [job for domain in installed() for job in domain.jobs]


def cron_jobs() -> list[Any]:
    return [job for domain in installed() for job in domain.cron_jobs]


def bearer_token_resolvers() -> dict[str, Callable[..., Any]]:
    """Token prefix → resolver, for the bearer tokens the domains bring (see ``Domain``)."""
    return {prefix: resolve for domain in installed() for prefix, resolve in domain.bearer_tokens}


def nav_links() -> list[NavLink]:
    return [link for domain in installed() for link in domain.nav_links]


def workspace_sections() -> list[WorkspaceSection]:
    """Every installed domain's sections of the event workspace, in display order."""
    sections = [section for domain in installed() for section in domain.workspace_sections]
    return sorted(sections, key=lambda section: section.order)  # stable: INSTALLED order among equals
