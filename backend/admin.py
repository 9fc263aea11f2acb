"""Piccolo Admin at ``/admin``: the platform admins' back office, built once per process.

It logs in with the same accounts (``User`` extends Piccolo's ``BaseUser``); only users with the
``admin`` flag, i.e. platform admins, get in. Organizers manage their events through the API and
pages instead: Piccolo Admin has no per-row permissions, so it would show them every event.
"""

from __future__ import annotations

from functools import lru_cache

from piccolo_admin.endpoints import TableConfig, create_admin
from starlette.types import ASGIApp

from backend.accounts.tables import AdminSession, ApiToken, RoleGrant, User
from backend.audit import AuditEntry
from backend.events.tables import Event, EventSession, Stage, Track
from backend.institutions.tables import Institution
from backend.mail.tables import OutboxEmail


@lru_cache(maxsize=1)
def admin_app(production: bool, site_name: str = "Podium back office") -> ASGIApp:
    return create_admin(
        tables=[
            TableConfig(
                Event, visible_columns=[Event.id, Event.slug, Event.kind, Event.status, Event.starts_on]
            ),
            Track,
            Stage,
            EventSession,
            TableConfig(
                Institution,
                visible_columns=[
                    Institution.id,
                    Institution.name_zh,
                    Institution.name_en,
                    Institution.kind,
                    Institution.country,
                ],
            ),
            TableConfig(
                User, visible_columns=[User.id, User.email, User.display_name, User.active, User.superuser]
            ),
            RoleGrant,
            TableConfig(
                ApiToken, visible_columns=[ApiToken.id, ApiToken.user, ApiToken.name, ApiToken.revoked_at]
            ),
            TableConfig(
                AuditEntry,
                visible_columns=[
                    AuditEntry.id,
                    AuditEntry.created_at,
                    AuditEntry.actor,
                    AuditEntry.action,
                    AuditEntry.target_type,
                    AuditEntry.target_id,
                ],
            ),
            TableConfig(
                OutboxEmail,
                visible_columns=[
                    OutboxEmail.id,
                    OutboxEmail.to_address,
                    OutboxEmail.subject,
                    OutboxEmail.status,
                ],
            ),
        ],
        auth_table=User,
        session_table=AdminSession,
        site_name=site_name,
        production=production,
    )
