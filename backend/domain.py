"""The domain registry: each package declares what it brings, and the app, the Piccolo app, the
worker and the back office collect it from here.

A new service is one new package with a ``domain.py`` that defines ``DOMAIN``, plus its line in
:data:`INSTALLED`; nothing else central changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from typing import Any

# Where each domain's ``DOMAIN`` is declared, in the order their routes and tables are collected.
INSTALLED = (
    "backend.audit",
    "backend.accounts.domain",
    "backend.institutions.domain",
    "backend.events.domain",
    "backend.mail.domain",
    "backend.pages.domain",
)


@dataclass(frozen=True)
class Domain:
    """What one package contributes.

    ``tables`` names modules (imported by Piccolo's table finder, so migrations see every table);
    ``routes`` are Litestar controllers, routers or handlers; ``jobs`` are ``async def job(ctx, ...)``
    functions the job queues run, ``cron_jobs`` arq's periodic ones; ``admin_views`` returns the
    back-office views (tables or Piccolo Admin ``TableConfig``s), built only when the back office is.
    """

    name: str
    tables: Sequence[str] = ()
    routes: Sequence[Any] = ()
    jobs: Sequence[Callable[..., Any]] = ()
    cron_jobs: Sequence[Any] = ()
    admin_views: Callable[[], Sequence[Any]] = lambda: ()


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
