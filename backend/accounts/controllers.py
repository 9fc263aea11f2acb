from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.pagination import OffsetPagination
from litestar.params import JSONBody, QueryParameter

from backend.accounts import consents, erasure, invitations, profile, service, signup
from backend.accounts.schemas import (
    Accepted,
    AcceptIn,
    AcceptOut,
    ConsentsIn,
    ConsentsOut,
    EmailIn,
    EraseIn,
    InvitationIn,
    InvitationOut,
    LoginIn,
    MePatch,
    NewTokenOut,
    OrganizationInvitationIn,
    PasswordIn,
    PersonOut,
    ProfileIn,
    ProfileOut,
    ResetIn,
    RoleGrantIn,
    RoleGrantOut,
    SignupIn,
    TokenIn,
    TokenOnlyIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from backend.errors import DomainError
from backend.guards import current, may, requires_login
from backend.http_errors import ERROR_STATUSES_OPT
from backend.i18n import request_locale, translations
from backend.policy import Action
from backend.schemas import IdPath, Limit, Offset, Search
from backend.security import (
    TOKEN_SCOPE_OPT,
    LoginRateLimitMiddleware,
    end_session,
    load_principal,
    start_session,
)

PeopleLimit = Annotated[int, QueryParameter(ge=1, le=100)]


LIMITS_DOC = """The login limits (shared by every login route) answer 429 `rate_limited` with
`Retry-After` (seconds), even for the right password: after repeated failures for one e-mail address
(a lock that doubles with each further failure, up to a cap; a success ends it), and after too many
failed logins from one client address (successful logins do not count)."""

LOGIN_DOC = f"""Log in with e-mail and password; sets the session cookie, for browsers and scripts
that keep cookies (their later writes must echo the `podium_csrf` cookie in `X-Podium-CSRF`). API
clients rather get a bearer token in one call: `POST /api/v1/auth/tokens` with `email` and
`password`.

A wrong e-mail or password is 401 `invalid_credentials`. {LIMITS_DOC}"""

CREATE_TOKEN_DOC = f"""Create a bearer token for an API client or scanning device; the token is
shown once, in `token`. Send it as `Authorization: Bearer pdm_...`.

**With credentials** (`email` and `password` in the body, both or neither) this is the API login:
one call and nothing before it, no cookie, no CSRF token. A wrong e-mail or password is 401
`invalid_credentials`. {LIMITS_DOC}

    curl -X POST https://podium.example.org/api/v1/auth/tokens \\
      -H 'Content-Type: application/json' \\
      -d '{{"email": "me@example.org", "password": "...", "name": "my script", "scopes": ["read"]}}'

**Without credentials** the token is the logged-in caller's: with a session (and the CSRF header, as
every cookie-authenticated write) or with a bearer token, which can give the new token no more scopes
and no longer life than its own (403 `token_exceeds_parent`)."""


class LoginController(Controller):
    """Mounted behind the login limits (``backend.security.LoginRateLimitMiddleware``, shared with the
    login form and ``CreateToken``): per e-mail address a lockout with backoff, per client address a
    budget of failed attempts."""

    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/login",
        operation_id="Login",
        status_code=200,
        security=[],
        summary="Log in (session cookie)",
        description=LOGIN_DOC,
    )
    async def login(self, request: Request, data: JSONBody[LoginIn]) -> Response[UserOut]:
        """Log in with e-mail and password; sets the session cookie (see ``LOGIN_DOC``)."""
        user_id = await service.check_credentials(data.email, data.password)
        response = Response(await service.get_user(user_id))
        await start_session(request, response, user_id)
        return response


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/logout",
        operation_id="Logout",
        status_code=204,
        guards=[requires_login],
        opt={TOKEN_SCOPE_OPT: None},  # any token may give itself up
    )
    async def logout(self, request: Request) -> Response[None]:
        """End the current session, or revoke the bearer token used (and the tokens made from it)."""
        principal = current(request)
        response = Response(None, status_code=204)
        if principal.token_id is not None:
            await service.revoke_token(principal, principal.token_id)
        else:
            await end_session(request, response)
            await service.record_logout(principal)
        return response

    @get("/me", operation_id="Me", guards=[requires_login])
    async def me(self, request: Request) -> UserOut:
        """The logged-in user."""
        return await service.get_user(current(request).id)

    @patch("/me", operation_id="UpdateMe", guards=[requires_login])
    async def update_me(self, request: Request, data: JSONBody[MePatch]) -> UserOut:
        """Change your own name or language."""
        return await service.update_me(current(request), data)

    @post(
        "/password",
        operation_id="ChangePassword",
        status_code=204,
        guards=[requires_login],
        middleware=[LoginRateLimitMiddleware()],  # the current password is checked here
    )
    async def change_password(self, request: Request, data: JSONBody[PasswordIn]) -> Response[None]:
        """Change your password (the current one is required). Every login session of the account
        ends; when called with the session cookie, the response carries a new session for this
        browser. Bearer tokens stay valid."""
        principal = current(request)
        await service.change_password(principal, data)
        response = Response(None, status_code=204)
        if principal.via == "session":
            await start_session(request, response, principal.id)
        return response

    @get("/tokens", operation_id="ListTokens", guards=[requires_login])
    async def list_tokens(self, request: Request) -> list[TokenOut]:
        """The caller's API tokens (never the secrets)."""
        return await service.list_tokens(current(request))

    @post(
        "/tokens",
        operation_id="CreateToken",
        status_code=201,
        security=[{}, {"bearer": []}, {"session": []}],  # {}: with credentials in the body, nothing
        middleware=[LoginRateLimitMiddleware()],  # a password is checked here as well
        summary="Create an API token (also the API login: with e-mail and password)",
        description=CREATE_TOKEN_DOC,
    )
    async def create_token(self, request: Request, data: JSONBody[TokenIn]) -> NewTokenOut:
        """Create a bearer token, for the caller or for the credentials given (see ``CREATE_TOKEN_DOC``)."""
        if data.email is None and data.password is None:
            return await service.create_token(current(request), data)
        if data.email is None or data.password is None:
            missing, given = ("email", "password") if data.email is None else ("password", "email")
            raise DomainError(
                "validation_error",
                "Send both e-mail and password, or neither",
                fields={missing: f"required with {given}"},
            )
        user_id = await service.check_credentials(data.email, data.password)
        principal = await load_principal(user_id, "password")
        if principal is None:  # deactivated since the check
            raise DomainError("invalid_credentials", "The e-mail or password is wrong", status_code=401)
        return await service.create_token(principal, data)

    @delete("/tokens/{token_id:int}", operation_id="RevokeToken", guards=[requires_login])
    async def revoke_token(self, request: Request, token_id: IdPath) -> None:
        """Revoke a token at once."""
        await service.revoke_token(current(request), token_id)


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["users"]
    guards = [may(Action.manage_users)]

    @get("", operation_id="ListUsers")
    async def list_users(
        self, limit: Limit = 50, offset: Offset = 0, q: Search = None
    ) -> OffsetPagination[UserOut]:
        """All accounts, optionally filtered by e-mail or name."""
        items, total = await service.list_users(limit, offset, q)
        return OffsetPagination(items=items, limit=limit, offset=offset, total=total)

    @post("", operation_id="CreateUser")
    async def create_user(self, request: Request, data: JSONBody[UserIn]) -> UserOut:
        """Create an account."""
        return await service.create_user(current(request).id, data)

    @get("/{user_id:int}", operation_id="GetUser")
    async def get_user(self, user_id: IdPath) -> UserOut:
        """One account."""
        return await service.get_user(user_id)

    @patch("/{user_id:int}", operation_id="UpdateUser")
    async def update_user(self, request: Request, user_id: IdPath, data: JSONBody[UserPatch]) -> UserOut:
        """Change an account's name, language, activity or platform admin rights."""
        return await service.update_user(current(request), user_id, data)


class RoleController(Controller):
    path = "/api/v1/events/{event_id:int}/roles"
    tags = ["roles"]

    @get("", operation_id="ListRoles", guards=[may(Action.view_roles)])
    async def list_roles(self, request: Request, event_id: IdPath) -> list[RoleGrantOut]:
        """Everyone holding a role in the event (a scoped admin sees those inside their scope)."""
        return await service.list_grants(current(request), event_id)

    @post("", operation_id="GrantRole", guards=[may(Action.manage_roles)])
    async def grant_role(
        self, request: Request, event_id: IdPath, data: JSONBody[RoleGrantIn]
    ) -> RoleGrantOut:
        """Give a user who already takes part in one of your events a role in this one, optionally
        narrowed to a track, region or institution (never wider than your own grant)."""
        return await service.grant_role(current(request), event_id, data)

    @delete("/{grant_id:int}", operation_id="RevokeRole", guards=[may(Action.manage_roles)])
    async def revoke_role(self, request: Request, event_id: IdPath, grant_id: IdPath) -> None:
        """Take a role away."""
        await service.revoke_role(current(request), event_id, grant_id)


class InvitationController(Controller):
    path = "/api/v1/events/{event_id:int}/invitations"
    tags = ["roles"]

    @get("", operation_id="ListInvitations", guards=[may(Action.view_roles)])
    async def list_invitations(self, request: Request, event_id: IdPath) -> list[InvitationOut]:
        """The event's invitations (pending, expired, accepted, revoked), newest first; a scoped
        admin sees those inside its scope."""
        return await invitations.list_invitations(current(request), event_id)

    @post("", operation_id="CreateInvitation", guards=[may(Action.manage_roles)])
    async def create_invitation(
        self, request: Request, event_id: IdPath, data: JSONBody[InvitationIn]
    ) -> InvitationOut:
        """Offer a role to an e-mail address (with or without an account: the answer is the same).
        The address gets a link valid for 14 days. Inviting the same address to the same role and
        scope again refreshes the pending invitation (new link, new 14 days) instead of a 409."""
        return await invitations.invite(current(request), event_id, data, request.app.state.settings.base_url)

    @delete("/{invitation_id:int}", operation_id="RevokeInvitation", guards=[may(Action.manage_roles)])
    async def revoke_invitation(self, request: Request, event_id: IdPath, invitation_id: IdPath) -> None:
        """Withdraw an invitation: its link stops working (409 once accepted)."""
        await invitations.revoke_invitation(current(request), event_id, invitation_id)

    @post(
        "/{invitation_id:int}/resend",
        operation_id="ResendInvitation",
        status_code=200,
        guards=[may(Action.manage_roles)],
    )
    async def resend_invitation(
        self, request: Request, event_id: IdPath, invitation_id: IdPath
    ) -> InvitationOut:
        """Mail the invitation again with a new link valid for 14 days (the old link stops working)."""
        return await invitations.resend_invitation(
            current(request), event_id, invitation_id, request.app.state.settings.base_url
        )


class OrganizationInvitationController(Controller):
    path = "/api/v1/organizations/{organization_id:int}/invitations"
    tags = ["organizations"]
    guards = [may(Action.manage_organization)]

    @get("", operation_id="ListOrganizationInvitations")
    async def list_invitations(self, request: Request, organization_id: IdPath) -> list[InvitationOut]:
        """The organization-level invitations, newest first (its admins)."""
        return await invitations.list_organization_invitations(current(request), organization_id)

    @post("", operation_id="CreateOrganizationInvitation")
    async def create_invitation(
        self, request: Request, organization_id: IdPath, data: JSONBody[OrganizationInvitationIn]
    ) -> InvitationOut:
        """Offer ``org_admin`` or ``organizer`` in the organization (every one of its events) to an
        e-mail address, as for an event's invitations."""
        return await invitations.invite_to_organization(
            current(request), organization_id, data, request.app.state.settings.base_url
        )

    @delete("/{invitation_id:int}", operation_id="RevokeOrganizationInvitation")
    async def revoke_invitation(
        self, request: Request, organization_id: IdPath, invitation_id: IdPath
    ) -> None:
        """Withdraw an invitation: its link stops working (409 once accepted)."""
        await invitations.revoke_organization_invitation(current(request), organization_id, invitation_id)

    @post("/{invitation_id:int}/resend", operation_id="ResendOrganizationInvitation", status_code=200)
    async def resend_invitation(
        self, request: Request, organization_id: IdPath, invitation_id: IdPath
    ) -> InvitationOut:
        """Mail the invitation again with a new link valid for 14 days (the old link stops working)."""
        return await invitations.resend_organization_invitation(
            current(request), organization_id, invitation_id, request.app.state.settings.base_url
        )


class AcceptInvitationController(Controller):
    path = "/api/v1/invitations"
    tags = ["roles"]

    @post("/accept", operation_id="AcceptInvitation")
    async def accept(self, request: Request, data: JSONBody[AcceptIn]) -> AcceptOut:
        """Accept an invitation with the token of its link. Logged in: as the invited address.
        Not logged in: ``display_name`` and ``password`` create the account (an address that has
        one answers 401 ``invitation_login_required``). Accepting twice gives the same answer."""
        return await invitations.accept(request.scope.get("user"), data)


class PeopleController(Controller):
    path = "/api/v1/events/{event_id:int}/people"
    tags = ["roles"]

    @get("", operation_id="SearchPeople", guards=[may(Action.manage_roles)])
    async def search_people(
        self, request: Request, event_id: IdPath, q: Search = None, limit: PeopleLimit = 20
    ) -> list[PersonOut]:
        """People who hold a role in the events you organize (inside your scope there), by e-mail
        or name: whom you may grant a role in this event directly. Never the whole user base."""
        return await invitations.search_people(current(request), event_id, q, limit)


SENT = "If the address has an account that needs it, a message is on its way."


def _sent(request: Request) -> Accepted:
    """The one answer to every request by address, in the reader's language."""
    return Accepted(translations(request_locale(request)).gettext(SENT))


LINK_ERRORS = {404: True, 409: False, 410: True}  # link_invalid; link_used, link_expired


class SignupController(Controller):
    """Self-service accounts, for anyone: the answers never say whether an address has an account."""

    path = "/api/v1/accounts"
    tags = ["accounts"]
    security = [{}]

    @post("/signup", operation_id="SignUp", status_code=202)
    async def signup(self, request: Request, data: JSONBody[SignupIn]) -> Accepted:
        """Create an account; the address gets a confirmation link valid for 48 hours, and the
        account can log in once it is confirmed. ``terms`` must be true (400 ``terms_required``).
        A taken address gets a mail to its owner instead: the answer is the same."""
        await signup.signup(data, request.app.state.settings.base_url)
        return _sent(request)

    @post("/confirm", operation_id="ConfirmEmail", status_code=204, opt={ERROR_STATUSES_OPT: LINK_ERRORS})
    async def confirm(self, data: JSONBody[TokenOnlyIn]) -> None:
        """Confirm the address with the token of the mailed link (once: 410 ``link_used``; 410
        ``link_expired``; 404 ``link_invalid``)."""
        await signup.confirm(data.token)

    @post("/confirm/resend", operation_id="ResendConfirmation", status_code=202)
    async def resend(self, request: Request, data: JSONBody[EmailIn]) -> Accepted:
        """Mail a new confirmation link (the old one stops working); at most one a minute and five
        a day per address."""
        await signup.resend_confirmation(data.email, request.app.state.settings.base_url)
        return _sent(request)

    @post("/password-reset", operation_id="RequestPasswordReset", status_code=202)
    async def password_reset(self, request: Request, data: JSONBody[EmailIn]) -> Accepted:
        """Mail a password reset link valid for one hour (same limits as the confirmation)."""
        await signup.request_password_reset(data.email, request.app.state.settings.base_url)
        return _sent(request)

    @post(
        "/password-reset/confirm",
        operation_id="ResetPassword",
        status_code=204,
        opt={ERROR_STATUSES_OPT: LINK_ERRORS},
    )
    async def reset(self, data: JSONBody[ResetIn]) -> None:
        """Set a new password with the token of the reset link (once). Every session, API token and
        link of the account ends."""
        await signup.reset_password(data)


class MyAccountController(Controller):
    """The caller's own data: profile, consents, export and erasure."""

    path = "/api/v1/me"
    tags = ["accounts"]
    guards = [may(Action.manage_own_account)]

    @get("/profile", operation_id="GetProfile")
    async def get_profile(self, request: Request) -> ProfileOut:
        """Your profile (names, institution, study status, graduation year, date of birth, country)."""
        return await profile.get_profile(current(request))

    @put("/profile", operation_id="UpdateProfile")
    async def update_profile(self, request: Request, data: JSONBody[ProfileIn]) -> ProfileOut:
        """Replace your profile. The institution must be in the directory, the country an ISO 3166-1
        alpha-2 code."""
        return await profile.update_profile(current(request), data)

    @get("/consents", operation_id="GetConsents")
    async def get_consents(self, request: Request) -> ConsentsOut:
        """Your consents now, the versions in force, and their whole history."""
        return await consents.get_consents(current(request))

    @post("/consents", operation_id="SetConsents", status_code=200)
    async def set_consents(self, request: Request, data: JSONBody[ConsentsIn]) -> ConsentsOut:
        """Grant or withdraw each kind of sharing; the history keeps every answer."""
        return await consents.set_consents(current(request), data)

    @get("/export", operation_id="ExportMyData")
    async def export(self, request: Request) -> Response[bytes]:
        """Everything about you as a zip of JSON files, with the files you uploaded."""
        content = await erasure.export(current(request))
        return Response(
            content,
            media_type="application/zip",
            headers={"Content-Disposition": 'attachment; filename="podium-my-data.zip"'},
        )

    @post(
        "/erase",
        operation_id="EraseMyAccount",
        status_code=204,
        middleware=[LoginRateLimitMiddleware()],  # the password is checked here
        opt={ERROR_STATUSES_OPT: {409: True}},  # erasure_leads_team
    )
    async def erase(self, request: Request, data: JSONBody[EraseIn]) -> None:
        """Erase your account (the password again): it is anonymised and logged out everywhere;
        results and the audit log keep what they must, without your name or address. 409
        ``erasure_leads_team`` while you lead a team: hand it over first."""
        await erasure.erase(current(request), data.password)
