"""The self-service account pages: sign-up, e-mail confirmation (and sending the link again),
password reset, and the account page's profile, consents and erasure forms. Each form answers a
refused field in place (400, the field named and described) and never says whether an address has
an account."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from msgspec import Struct

from backend.accounts import consents, erasure, profile, signup
from backend.accounts.schemas import ConsentsIn, ProfileIn, ResetIn, SignupIn
from backend.accounts.sections import SHARING_LABELS
from backend.errors import DomainError
from backend.guards import current, requires_login
from backend.i18n import request_locale
from backend.pages.controllers import PASSWORD_RULE, FormBody, TokenPath, me_page, page
from backend.security import LoginRateLimitMiddleware, end_session

# A refused field's message on the pages (English message ids).
FIELD_MESSAGES = {
    "email": "Enter a valid e-mail address.",
    "password": PASSWORD_RULE,
    "password_again": "The two passwords differ.",
    "name_native": "Enter your name.",
    "name_latin": "Enter your name in Latin letters, as in your passport.",
    "locale": "Choose one of the languages.",
    "terms": "Accept the terms of use to sign up.",
    "graduation_year": "Enter a year such as 2026.",
    "birth_date": "Enter a date such as 2003-09-01.",
    "study_status": "Choose one of the options.",
    "institution_id": "Choose an institution from the list.",
    "country": "Choose a country from the list.",
}
SENT = "If the address has an account that needs it, a message with a link is on its way. Check your mail (and the spam folder)."
CHECKED = "on"


def field_errors(struct: type[Struct], values: dict[str, Any]) -> dict[str, str]:
    """Each field of ``values`` that ``struct`` would refuse, with its page message (all at once,
    where the API stops at the first)."""
    errors = {}
    for field in msgspec.structs.fields(struct):
        if field.name in values:
            try:
                msgspec.convert(values[field.name], field.type, strict=False)
            except msgspec.ValidationError:
                errors[field.name] = FIELD_MESSAGES.get(field.name, "is not valid")
    return errors


def message(request: Request, title: str, text: str, status_code: int = 200, **links: str) -> Template:
    return page(
        request,
        "account/message.html.jinja",
        status_code,
        status=status_code,
        title=title,
        text=text,
        links=links,
    )


class SignupForm(Struct):
    email: str = ""
    password: str = ""
    password_again: str = ""
    name_native: str = ""
    name_latin: str = ""
    locale: str = ""
    terms: str = ""
    share_sponsors: str = ""
    share_employers: str = ""
    share_incubators: str = ""


class EmailForm(Struct):
    email: str = ""


class NewPasswordForm(Struct):
    password: str = ""
    password_again: str = ""


class DetailsForm(Struct):
    name_native: str = ""
    name_latin: str = ""
    institution_id: str = ""
    study_status: str = "other"
    graduation_year: str = ""
    birth_date: str = ""
    country: str = ""


class ConsentsForm(Struct):
    share_sponsors: str = ""
    share_employers: str = ""
    share_incubators: str = ""


class EraseForm(Struct):
    password: str = ""


_LINK_ERRORS = {
    "link_invalid": "This link is not valid. It may have been replaced by a newer one: use the link in the latest message.",
    "link_used": "This link has already been used.",
    "link_expired": "This link has expired.",
}


class AccountPageController(Controller):
    include_in_schema = False

    # Sign-up and confirmation ---------------------------------------------------------------------

    @get("/signup")
    async def signup_form(self, request: Request) -> Response:
        """The sign-up form (the account page when already logged in)."""
        if request.scope.get("user") is not None:
            return Redirect("/me", status_code=HTTP_303_SEE_OTHER)
        return self._signup(request)

    def _signup(self, request: Request, status_code: int = 200, **form: Any) -> Template:
        return page(
            request,
            "account/signup.html.jinja",
            status_code,
            values=form.get("values", {}),
            errors=form.get("errors", {}),
            versions={k.value: v for k, v in consents.VERSIONS.items()},
            sharing=[(k.value, label) for k, label in SHARING_LABELS.items()],
        )

    @post("/signup")
    async def signup(self, request: Request, data: Annotated[SignupForm, FormBody]) -> Response:
        """Create the account and mail the confirmation link (or the "you have an account" mail)."""
        values = {
            "email": data.email.strip(),
            "password": data.password,
            "name_native": data.name_native.strip(),
            "name_latin": data.name_latin.strip(),
            "locale": data.locale or request_locale(request),
            "terms": data.terms == CHECKED,
            "share_sponsors": data.share_sponsors == CHECKED,
            "share_employers": data.share_employers == CHECKED,
            "share_incubators": data.share_incubators == CHECKED,
        }
        errors = field_errors(SignupIn, values)
        if not values["terms"]:
            errors["terms"] = FIELD_MESSAGES["terms"]
        if data.password != data.password_again and "password" not in errors:
            errors["password_again"] = FIELD_MESSAGES["password_again"]
        if errors:
            shown = {k: v for k, v in values.items() if k != "password"}
            return self._signup(request, 400, values=shown, errors=errors)
        await signup.signup(msgspec.convert(values, SignupIn), request.app.state.settings.base_url)
        return message(request, "Check your mail", SENT, status_code=200)

    @get("/confirm/{token:str}")
    async def confirm_form(self, request: Request, token: TokenPath) -> Template:
        """The confirmation link: a button, so that a mail scanner opening the link uses nothing."""
        return page(request, "account/confirm.html.jinja", token=token)

    @post("/confirm/{token:str}")
    async def confirm(self, request: Request, token: TokenPath) -> Template:
        """Confirm the address; then the account can log in."""
        try:
            await signup.confirm(token)
        except DomainError as exc:
            return message(
                request,
                "Confirm your e-mail address",
                _LINK_ERRORS[exc.code],
                exc.status_code,
                again="/confirm",
            )
        return message(request, "E-mail address confirmed", "You can log in now.", login="/login")

    @get("/confirm")
    async def resend_form(self, request: Request, email: FromQuery[str] = "") -> Template:
        """Have the confirmation link sent again."""
        return self._email_form(request, "resend", email[:255])

    def _email_form(
        self, request: Request, purpose: str, email: str, status_code: int = 200, error: str = ""
    ) -> Template:
        return page(
            request, "account/email_form.html.jinja", status_code, purpose=purpose, email=email, error=error
        )

    @post("/confirm")
    async def resend(self, request: Request, data: Annotated[EmailForm, FormBody]) -> Template:
        if not _valid_email(data.email):
            return self._email_form(request, "resend", data.email[:255], 400, FIELD_MESSAGES["email"])
        await signup.resend_confirmation(data.email, request.app.state.settings.base_url)
        return message(request, "Check your mail", SENT)

    # Password reset ---------------------------------------------------------------------------

    @get("/password-reset")
    async def reset_request_form(self, request: Request) -> Template:
        """Ask for a password reset link."""
        return self._email_form(request, "reset", "")

    @post("/password-reset")
    async def reset_request(self, request: Request, data: Annotated[EmailForm, FormBody]) -> Template:
        if not _valid_email(data.email):
            return self._email_form(request, "reset", data.email[:255], 400, FIELD_MESSAGES["email"])
        await signup.request_password_reset(data.email, request.app.state.settings.base_url)
        return message(request, "Check your mail", SENT)

    @get("/password-reset/{token:str}")
    async def reset_form(self, request: Request, token: TokenPath) -> Template:
        """Choose a new password with the mailed link."""
        return page(request, "account/new_password.html.jinja", token=token, errors={})

    @post("/password-reset/{token:str}")
    async def reset(
        self, request: Request, token: TokenPath, data: Annotated[NewPasswordForm, FormBody]
    ) -> Response:
        errors = field_errors(ResetIn, {"password": data.password})
        if not errors and data.password != data.password_again:
            errors["password_again"] = FIELD_MESSAGES["password_again"]
        if errors:
            return page(request, "account/new_password.html.jinja", 400, token=token, errors=errors)
        try:
            await signup.reset_password(ResetIn(token=token, password=data.password))
        except DomainError as exc:
            return message(
                request,
                "Reset your password",
                _LINK_ERRORS[exc.code],
                exc.status_code,
                again="/password-reset",
            )
        response = message(
            request,
            "Password changed",
            "Your password was changed and every session of the account has ended. Log in with the new password.",
            login="/login",
        )
        await end_session(request, response)
        return response

    # The account page's sections --------------------------------------------------------------

    @post("/me/details", guards=[requires_login])
    async def details(self, request: Request, data: Annotated[DetailsForm, FormBody]) -> Response:
        """Save the profile."""
        values: dict[str, Any] = {
            "name_native": data.name_native.strip(),
            "name_latin": data.name_latin.strip(),
            "institution_id": data.institution_id or None,
            "study_status": data.study_status,
            "graduation_year": data.graduation_year.strip() or None,
            "birth_date": data.birth_date.strip() or None,
            "country": data.country,
        }
        errors = field_errors(ProfileIn, values)
        if not errors:
            try:
                await profile.update_profile(
                    current(request), msgspec.convert(values, ProfileIn, strict=False)
                )
            except DomainError as exc:
                errors = {field: FIELD_MESSAGES.get(field, "is not valid") for field in exc.fields}
        if errors:
            form = {"values": msgspec.structs.asdict(data), "errors": errors}
            return await me_page(request, 400, details=form)
        return Redirect("/me?done=details#details-title", status_code=HTTP_303_SEE_OTHER)

    @post("/me/consents", guards=[requires_login])
    async def set_consents(self, request: Request, data: Annotated[ConsentsForm, FormBody]) -> Response:
        """Grant or withdraw each kind of sharing (an unticked box withdraws)."""
        answers = {
            kind: getattr(data, kind) == CHECKED
            for kind in ("share_sponsors", "share_employers", "share_incubators")
        }
        await consents.set_consents(current(request), ConsentsIn(**answers))
        return Redirect("/me?done=consents#consents-title", status_code=HTTP_303_SEE_OTHER)

    @post("/me/erase", guards=[requires_login], middleware=[LoginRateLimitMiddleware()])
    async def erase(self, request: Request, data: Annotated[EraseForm, FormBody]) -> Response:
        """Erase the account (the password again); the session ends with it."""
        try:
            await erasure.erase(current(request), data.password[:128])
        except DomainError as exc:
            error = (
                "You lead a team: hand the leadership over (or withdraw the team) first."
                if exc.code == "erasure_leads_team"
                else "The password is wrong."
            )
            return await me_page(request, exc.status_code, erase={"error": error})
        response = message(
            request,
            "Account erased",
            "Your account was erased. Results you took part in stay, without your name.",
        )
        await end_session(request, response)
        return response


def _valid_email(value: str) -> bool:
    return not field_errors(SignupIn, {"email": value.strip()})
