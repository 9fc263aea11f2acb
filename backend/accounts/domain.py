"""Accounts: users, logins and sessions, API tokens and role grants."""

from __future__ import annotations

from litestar import Router

from backend.accounts.controllers import (
    AcceptInvitationController,
    AuthController,
    InvitationController,
    LoginController,
    MyAccountController,
    OrganizationInvitationController,
    PeopleController,
    RoleController,
    SignupController,
    UserController,
)
from backend.accounts.pages import AccountPageController
from backend.domain import Domain
from backend.security import LoginRateLimitMiddleware


def _admin_views() -> list:
    from piccolo_admin.endpoints import TableConfig

    from backend.accounts.tables import ApiToken, Invitation, RoleGrant, User
    from backend.admin_views import read_only

    return [
        TableConfig(
            User, visible_columns=[User.id, User.email, User.display_name, User.active, User.superuser]
        ),
        read_only(RoleGrant),  # roles and invitations follow the services' scope rules: read-only
        read_only(
            Invitation,
            [
                Invitation.id,
                Invitation.email,
                Invitation.role,
                Invitation.event,
                Invitation.organization,
                Invitation.expires_at,
                Invitation.accepted_at,
                Invitation.revoked_at,
            ],
        ),
        # a token's scopes and life never exceed its parent's: revoked through the API, not edited here
        read_only(
            ApiToken, [ApiToken.id, ApiToken.user, ApiToken.name, ApiToken.scopes, ApiToken.revoked_at]
        ),
    ]


DOMAIN = Domain(
    name="accounts",
    tables=("backend.accounts.tables",),
    routes=(
        Router(path="/", route_handlers=[LoginController], middleware=[LoginRateLimitMiddleware()]),
        AuthController,
        UserController,
        RoleController,
        InvitationController,
        OrganizationInvitationController,
        AcceptInvitationController,
        PeopleController,
        SignupController,
        MyAccountController,
        AccountPageController,
    ),
    admin_views=_admin_views,
)
