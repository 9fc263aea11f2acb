from __future__ import annotations

import datetime as dt
import posixpath
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlsplit
from zoneinfo import ZoneInfo

import msgspec
from babel.dates import format_date, format_datetime, format_skeleton, get_datetime_format
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException
from litestar.params import Body, FromQuery, PathParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from msgspec import Struct

from backend.accounts import invitations
from backend.accounts import service as accounts
from backend.accounts.invitations import ROLE_NAMES
from backend.accounts.schemas import AcceptIn, MePatch, PasswordIn
from backend.accounts.sections import me_sections
from backend.errors import DomainError
from backend.events import service as events
from backend.guards import current, requires_login
from backend.i18n import (
    HTML_LANG,
    LANG_COOKIE,
    LANGUAGE_NAMES,
    LOCALES,
    localized,
    localized_language,
    request_locale,
    translations,
)
from backend.schemas import is_printable
from backend.security import LoginRateLimitMiddleware, end_session, start_session


def same_site(target: str | None) -> str:
    """Only same-site paths: never redirect to another site.

    Browsers read ``\\`` as ``/`` and drop tabs and newlines anywhere in a URL (``/\\t/evil`` is
    ``//evil``), and a newline would end the Location header: such targets are refused.
    """
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(c < " " or c == "\x7f" for c in target)
    ):
        return "/"
    return target


def safe_next(target: str | None) -> str:
    """Where a login may go: a same-site path other than the login form itself, however spelled
    (``/login/``, ``/./login``, ``/%6Cogin`` all reach the form)."""
    target = same_site(target)
    if posixpath.normpath(unquote(urlsplit(target).path)).lstrip("/") == "login":
        return "/"
    return target


def login_url(next: str | None) -> str:
    """The login form, coming back to ``next`` afterwards (when that is a safe target)."""
    next = safe_next(next)
    return "/login" if next == "/" else f"/login?next={quote(next, safe='/')}"


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> Template:
    """Render a page with the request's language and the helpers every template uses."""
    locale = request_locale(request)
    t = translations(locale)
    fallback = request.app.state.settings.content_fallback
    context.update(
        _=t.gettext,
        locale=locale,
        html_lang=HTML_LANG[locale],
        languages=[(code, LANGUAGE_NAMES[code]) for code in LOCALES],
        user=request.scope.get("user"),
        path=request.url.path,
        localized=lambda row, field: localized(row, field, locale, fallback),
        content_lang=lambda row, field: content_lang(row, field, locale, fallback),
        date=lambda d: format_date(d, format="medium", locale=locale if locale != "zh" else "zh_Hans_CN"),
        time_range=lambda start, end, tz: time_range(
            start, end, tz, locale if locale != "zh" else "zh_Hans_CN"
        ),
        datetime=lambda d, tz="UTC": format_datetime(
            d, format="short", tzinfo=tz, locale=locale if locale != "zh" else "zh_Hans_CN"
        ),
    )
    # where this page is, for the language switch and the login link to come back to
    context.setdefault("here", request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return Template(template_name=name, context=context, status_code=status_code)


def content_lang(row: object, field: str, locale: str, fallback: Sequence[str]) -> str:
    """The ``lang`` attribute of a text shown in another language than the page's (the fallback
    found no text in the reader's), else "": screen readers then pronounce it right."""
    shown = localized_language(row, field, locale, fallback)
    return HTML_LANG[shown] if shown not in (None, locale) else ""


def time_range(start: dt.datetime, end: dt.datetime, time_zone: str, locale: str) -> dict[str, str]:
    """A span of time as the reader writes it, in ``time_zone`` and 24-hour time: ``start``
    ("Aug 24, 2027, 09:00"), ``end`` (only the time, "10:30", when it ends the same day) and the
    ``separator`` between them ("–", spaced when the end has its own date)."""
    tz = ZoneInfo(time_zone)
    first, last = start.astimezone(tz), end.astimezone(tz)

    def clock(moment: dt.datetime) -> str:
        return format_skeleton("Hm", moment, tzinfo=tz, locale=locale)

    def full(moment: dt.datetime) -> str:
        day = format_date(moment.date(), format="medium", locale=locale)
        return get_datetime_format("medium", locale=locale).replace("{1}", day).replace("{0}", clock(moment))

    if first.date() == last.date():
        return {"start": full(first), "separator": "–", "end": clock(last)}
    return {"start": full(first), "separator": " – ", "end": full(last)}


def error_page(request: Request, exc: Exception, status: int, error: dict[str, Any]) -> Response:
    """How a page request fails: to the login form when not logged in, else an error page in the
    reader's language (wired into the app's exception handler by ``backend.app``)."""
    if isinstance(exc, NotAuthorizedException):
        return Redirect(login_url(request.url.path), status_code=HTTP_303_SEE_OTHER)
    return page(request, "error.html.jinja", status_code=status, status=status, error=error)


async def me_page(request: Request, status_code: int = 200, **forms: Any) -> Template:
    """The account page; ``forms`` holds a refused form's values and errors, shown in place."""
    principal = current(request)
    by_role: dict[str, list[dict[str, Any]]] = {}
    for grant in await accounts.my_grants(principal):
        by_role.setdefault(grant["role"], []).append(grant["event"])
    return page(
        request,
        "me.html.jinja",
        status_code=status_code,
        account=await accounts.get_user(principal.id),
        roles=[(role, by_role[role]) for role in ME_ROLE_ORDER if role in by_role],
        organizations=await accounts.my_organization_grants(principal),
        done=ME_DONE.get(request.query_params.get("done", "")),
        profile=forms.get("profile", {}),
        password=forms.get("password", {}),
        **await me_sections(
            principal, request_locale(request), forms, request.query_params.get("institution_q", "")
        ),
    )


class LoginForm(Struct):
    email: str = ""
    password: str = ""
    next: str = "/"


class LanguageForm(Struct):
    lang: str = ""
    next: str = "/"


class ProfileForm(Struct):
    display_name: str = ""
    locale: str = ""


class PasswordForm(Struct):
    current_password: str = ""
    new_password: str = ""
    new_password_again: str = ""


class AcceptForm(Struct):
    display_name: str = ""
    password: str = ""
    password_again: str = ""


# /me lists the roles in this order; the confirmations after its forms (``?done=<key>``).
ME_ROLE_ORDER = ("organizer", "judge", "mentor", "team_member", "exhibitor", "checkin_staff")
ME_DONE = {
    "profile": "Your name and language were saved.",
    "password": "Your password was changed. Your other sessions have ended.",
    "invitation": "You accepted the invitation. The event is listed below.",
    "details": "Your profile was saved.",
    "consents": "Your choices about sharing were saved.",
}
PASSWORD_RULE = "Use 8 to 128 characters."  # noqa: S105 - a message, not a password
LOGIN_UNCONFIRMED = "Your e-mail address is not confirmed yet: open the link in the message we sent you."


FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)
TokenPath = Annotated[str, PathParameter(max_length=200)]


class LoginPageController(Controller):
    """Mounted behind the login rate limit (see ``backend.app``)."""

    include_in_schema = False

    @get("/login")
    async def login_form(self, request: Request, next: FromQuery[str | None] = None) -> Template:
        """The login form."""
        target = safe_next(next)
        return page(request, "login.html.jinja", next=target, here=login_url(target), email="", error=None)

    @post("/login", status_code=200)
    async def login(self, request: Request, data: Annotated[LoginForm, FormBody]) -> Response:
        """Check the form; on success start a session and go where the user was heading."""
        try:
            if (
                len(data.email) > 255
                or len(data.password) > 128
                or not is_printable(data.email + data.password)
            ):
                raise DomainError("invalid_credentials", "too long or unprintable", status_code=401)
            user_id = await accounts.check_credentials(data.email, data.password)
        except DomainError as exc:
            target = safe_next(data.next)
            unconfirmed = exc.code == "email_unconfirmed"
            return page(
                request,
                "login.html.jinja",
                status_code=exc.status_code if unconfirmed else 400,
                next=target,
                here=login_url(target),
                email=data.email[:255],
                error=LOGIN_UNCONFIRMED if unconfirmed else "The e-mail or password is wrong.",
                resend_link=f"/confirm?email={quote(data.email[:255])}" if unconfirmed else None,
            )
        response: Response = Redirect(safe_next(data.next), status_code=HTTP_303_SEE_OTHER)
        await start_session(request, response, user_id)
        return response


class PageController(Controller):
    include_in_schema = False

    @get("/")
    async def home(self, request: Request) -> Template:
        """The public front page: events that are open or running."""
        items, _ = await events.list_events(request.user, 50, 0, None, None)
        return page(request, "home.html.jinja", events=[e for e in items if e.status != "archived"])

    @post("/logout", guards=[requires_login])
    async def logout(self, request: Request) -> Response:
        """End the session and return to the front page."""
        response: Response = Redirect("/", status_code=HTTP_303_SEE_OTHER)
        await end_session(request, response)
        await accounts.record_logout(current(request))
        return response

    @post("/language")
    async def language(self, request: Request, data: Annotated[LanguageForm, FormBody]) -> Response:
        """Remember the chosen language (cookie, and the account when logged in)."""
        response: Response = Redirect(same_site(data.next), status_code=HTTP_303_SEE_OTHER)
        if data.lang in LOCALES:
            response.set_cookie(LANG_COOKIE, data.lang, max_age=365 * 24 * 3600, samesite="lax", path="/")
            user = request.scope.get("user")
            if user is not None:
                await accounts.set_locale(user, data.lang)
        return response

    @get("/events/{event:str}")
    async def event(self, request: Request, event: Annotated[str, PathParameter()]) -> Template:
        """An event's public page, by id (``/events/12``) or slug (``/events/cbec-2027``): dates,
        venue and description, tracks and stages, or its sessions, in the reader's language."""
        found = await events.find_event(request.user, event)
        return page(
            request,
            "event.html.jinja",
            event=found,
            tracks=await events.list_tracks(found.id),
            stages=await events.list_stages(found.id),
            sessions=await events.list_sessions(found.id),
        )

    @get("/me", guards=[requires_login])
    async def me(self, request: Request) -> Template:
        """The account page: your events by role with the next thing to do, and your settings."""
        return await me_page(request)

    @post("/me/profile", guards=[requires_login])
    async def update_profile(self, request: Request, data: Annotated[ProfileForm, FormBody]) -> Response:
        """Change your name and language (the language also becomes this browser's choice)."""
        try:
            patch = msgspec.convert(
                {"display_name": data.display_name.strip(), "locale": data.locale}, MePatch
            )
            await accounts.update_me(current(request), patch)
        except (msgspec.ValidationError, DomainError) as exc:
            field = "locale" if "locale" in str(exc) else "display_name"
            message = "Choose one of the languages." if field == "locale" else "Enter your name."
            form = {"values": {"display_name": data.display_name}, "errors": {field: message}}
            return await me_page(request, status_code=400, profile=form)
        response: Response = Redirect("/me?done=profile", status_code=HTTP_303_SEE_OTHER)
        response.set_cookie(LANG_COOKIE, data.locale, max_age=365 * 24 * 3600, samesite="lax", path="/")
        return response

    @post("/me/password", guards=[requires_login], middleware=[LoginRateLimitMiddleware()])
    async def change_password(self, request: Request, data: Annotated[PasswordForm, FormBody]) -> Response:
        """Change your password: every other session of the account ends, this one goes on."""
        errors = {}
        if data.new_password != data.new_password_again:
            errors["new_password_again"] = "The two new passwords differ."  # noqa: S105
        try:
            change = msgspec.convert(
                {"current_password": data.current_password, "new_password": data.new_password}, PasswordIn
            )
        except msgspec.ValidationError as exc:
            field = "current_password" if "current_password" in str(exc) else "new_password"
            errors.setdefault(
                field, PASSWORD_RULE if field == "new_password" else "Enter your current password."
            )
        principal = current(request)
        if not errors:
            try:
                await accounts.change_password(principal, change)
            except DomainError:
                errors["current_password"] = "The current password is wrong."  # noqa: S105
        if errors:
            return await me_page(request, status_code=400, password={"errors": errors})
        response: Response = Redirect("/me?done=password", status_code=HTTP_303_SEE_OTHER)
        await start_session(request, response, principal.id)
        return response

    # Invitations ----------------------------------------------------------------------------------

    @get("/invitations/{token:str}")
    async def invitation(self, request: Request, token: TokenPath) -> Template:
        """An invitation's link: accept it (logged in as the invited address), log in first, or
        create the account; a clear page for links that are unknown, used, withdrawn or expired."""
        return await self._invitation(request, token)

    async def _invitation(
        self,
        request: Request,
        token: str,
        status_code: int = 200,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
    ) -> Template:
        found = await invitations.view(token)
        user = request.scope.get("user")
        if found is None:
            state, status_code = "unknown", 404
        elif found.status == "accepted" and user is not None and found.accepted_by == user.id:
            state = "accepted_by_you"
        elif user is not None and user.email.lower() != found.email:
            state, status_code = "wrong_account", 403
        elif found.status != "pending":
            state, status_code = found.status, 410
        elif user is not None:
            state = "accept"
        elif found.has_account:
            state = "log_in"
        else:
            state = "create_account"
        return page(
            request,
            "invitation.html.jinja",
            status_code=status_code,
            state=state,
            invitation=found,
            token=token,
            login_link=login_url(f"/invitations/{token}"),
            errors=errors or {},
            values=values or {},
            role_name=ROLE_NAMES,
        )

    @post("/invitations/{token:str}")
    async def accept_invitation(
        self, request: Request, token: TokenPath, data: Annotated[AcceptForm, FormBody]
    ) -> Response:
        """Accept: logged in as the invited address, or with a name and password for a new account
        (which is logged in at once)."""
        user = request.scope.get("user")
        errors: dict[str, str] = {}
        if user is None:
            if not data.display_name.strip():
                errors["display_name"] = "Enter your name."
            if not 8 <= len(data.password) <= 128 or not is_printable(data.password):
                errors["password"] = PASSWORD_RULE
            elif data.password != data.password_again:
                errors["password_again"] = "The two passwords differ."  # noqa: S105
        if errors:
            return await self._invitation(request, token, 400, errors, {"display_name": data.display_name})
        try:
            accepted = await invitations.accept(
                user,
                AcceptIn(
                    token=token[:200],
                    display_name=data.display_name.strip()[:200] or None if user is None else None,
                    password=data.password or None if user is None else None,
                ),
            )
        except DomainError as exc:
            if exc.code == "validation_error":
                return await self._invitation(
                    request,
                    token,
                    400,
                    {"display_name": "Enter your name."},
                    {"display_name": data.display_name},
                )
            return await self._invitation(request, token, exc.status_code)
        response: Response = Redirect("/me?done=invitation", status_code=HTTP_303_SEE_OTHER)
        if accepted.new_account:
            await start_session(request, response, accepted.user_id)
        return response
