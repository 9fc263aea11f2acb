"""Domain errors with stable machine codes, and the handlers that turn every failure into
``{"code", "detail", "fields"}`` with a 4xx status (5xx only for real server faults).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Schema
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

logger = logging.getLogger("podium")

# Every stable error code a client can receive, with its meaning. Clients branch on these strings,
# so a code is added here (one line) before it is raised, and never renamed. Listed in OpenAPI.
CODES: dict[str, str] = {
    # Protocol level: any endpoint
    "bad_request": "The request is malformed (unreadable body, bad path or header)",
    "validation_error": "A field of the body, query or path is invalid; `fields` names each",
    "not_authenticated": "Log in or send a valid bearer token",
    "invalid_credentials": "The e-mail or password is wrong",
    "forbidden": "The caller may not do this",
    "csrf_failed": "A cookie-authenticated write lacks a valid CSRF token",
    "not_found": "The object or route does not exist (or is not visible to the caller)",
    "method_not_allowed": "The route does not accept this HTTP method",
    "conflict": "The request conflicts with the current state",
    "payload_too_large": "The body is larger than the server accepts",
    "unsupported_media_type": "The body must be application/json (or a form, for pages)",
    "rate_limited": "Too many attempts; wait and retry",
    "http_error": "Another client error without a more specific code",
    "server_error": "The server could not answer (e.g. a dependency is down)",
    "internal_error": "An unexpected fault on the server; it has been logged",
    # Accounts and roles
    "email_taken": "An account with this e-mail exists",
    "cannot_demote_self": "A platform admin cannot remove their own admin rights",
    "cannot_deactivate_self": "A user cannot deactivate their own account",
    "unknown_user": "The referenced user does not exist",
    "unknown_track": "The referenced track is not part of this event",
    "unknown_institution": "The referenced institution does not exist",
    "role_exists": "The user already holds this role with this scope",
    "insufficient_scope": "The bearer token lacks the scope this operation needs (read, write or device)",
    "token_exceeds_parent": "A token cannot make a token with more scopes or a longer life than its own",
    # Institutions
    "invalid_csv": "A row of an imported CSV file is wrong (the detail names the line)",
    # Events and their structure
    "name_required": "Give a name in at least one language",
    "invalid_time_zone": "The time zone is not an IANA zone name such as Asia/Shanghai",
    "invalid_dates": "The event ends before it starts",
    "slug_taken": "Another event uses this slug",
    "event_locked": "The event's status no longer allows set-up changes",
    "event_published": "This part can only be removed while the event is a draft",
    "invalid_transition": "The event's status does not allow this status change",
    "incomplete_structure": "A contest needs at least one track and one stage before it opens",
    "wrong_event_kind": "The operation does not apply to this kind of event",
    "invalid_team_size": "team_min is above team_max",
    "track_code_taken": "The event has a track with this code",
    "naive_datetime": "A date-time lacks its time zone offset",
    "invalid_deadlines": "Deadlines are out of order",
    "invalid_stage_order": "The stage's level cannot follow the previous stage's level",
    "invalid_times": "The session ends before it starts",
    "outside_event_dates": "The session falls outside the event's dates",
}


class DomainError(Exception):
    """A rule was broken. ``code`` is stable for clients (one of :data:`CODES`); ``fields`` maps
    field names to messages."""

    status_code = 400

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        status_code: int | None = None,
        fields: dict[str, str] | None = None,
    ) -> None:
        if code not in CODES:
            raise ValueError(f"unregistered error code {code!r}: add it to backend.errors.CODES")
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.fields = fields or {}
        if status_code is not None:
            self.status_code = status_code


class NotFound(DomainError):
    status_code = 404

    def __init__(self, what: str) -> None:
        super().__init__("not_found", f"{what} not found")


class Conflict(DomainError):
    status_code = 409


class Forbidden(DomainError):
    status_code = 403

    def __init__(self, detail: str = "You do not have permission to do this") -> None:
        super().__init__("forbidden", detail)


class CsrfFailed(DomainError):
    """A cookie-authenticated write without a valid CSRF token (raised by the CSRF middleware)."""

    status_code = 403

    def __init__(self) -> None:
        super().__init__("csrf_failed", "The form or request lacks a valid CSRF token")


_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}

# msgspec reports a missing or unknown field at the object that holds it and names the field only
# in its message text (its ValidationError has no structured path); this is the one place reading it.
_FIELD_IN_MESSAGE = re.compile(r"^Object (?:missing required|contains unknown) field `([^`]+)`")


def _validation_fields(exc: ValidationException) -> dict[str, str]:
    """Map each problem to the field at fault, from the ``key`` Litestar gives each error."""
    fields: dict[str, str] = {}
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if isinstance(item, dict):
            message = str(item.get("message", "invalid value"))
            key = str(item.get("key") or item.get("source") or "body")
            if match := _FIELD_IN_MESSAGE.match(message):
                key = match.group(1) if key == "data" else f"{key}.{match.group(1)}"
            elif key == "data":
                key = "body"
            fields[key] = message
    return fields


def error_body(exc: Exception) -> tuple[int, dict[str, Any]]:
    """Status and body for any exception; unknown exceptions become a logged 500."""
    if isinstance(exc, DomainError):
        return exc.status_code, {"code": exc.code, "detail": exc.detail, "fields": exc.fields}
    if isinstance(exc, ValidationException):
        fields = _validation_fields(exc)
        detail = "; ".join(f"{k}: {v}" for k, v in fields.items()) or str(exc.detail)
        return 400, {"code": "validation_error", "detail": detail, "fields": fields}
    if isinstance(exc, NotAuthorizedException):
        return 401, {"code": "not_authenticated", "detail": "Log in first", "fields": {}}
    if isinstance(exc, HTTPException):
        status = exc.status_code
        code = _HTTP_CODES.get(status, "http_error" if status < 500 else "server_error")
        return status, {"code": code, "detail": str(exc.detail), "fields": {}}
    logger.exception("unhandled error", exc_info=exc)
    return HTTP_500_INTERNAL_SERVER_ERROR, {
        "code": "internal_error",
        "detail": "Something went wrong on our side; it has been logged",
        "fields": {},
    }


def wants_html(request: Request) -> bool:
    """Pages get an HTML error page; the API and scripts get JSON."""
    if request.url.path.startswith(("/api/", "/schema", "/healthz")):
        return False
    return "text/html" in request.headers.get("accept", "")


HtmlErrorPage = Callable[[Request, Exception, int, dict[str, Any]], Response]


def exception_handler_for(html_page: HtmlErrorPage | None = None) -> Callable[[Request, Exception], Response]:
    """The app's one exception handler. Browsers asking for a page get ``html_page(request, exc,
    status, body)`` (the page layer provides it); everyone else gets the JSON body."""

    def exception_handler(request: Request, exc: Exception) -> Response:
        status, body = error_body(exc)
        if html_page is not None and wants_html(request):
            response = html_page(request, exc, status, body)
        else:
            response = Response(content=body, status_code=status, media_type=MediaType.JSON)
        if isinstance(exc, HTTPException) and exc.headers:
            response.headers.update(exc.headers)
        return response

    return exception_handler


def error_response() -> OpenAPIResponse:
    """The error answer as an OpenAPI component (``#/components/responses/Error``), every
    registered code listed with its meaning."""
    return OpenAPIResponse(
        description="Every 4xx (and 5xx) answer: {code, detail, fields}",
        content={"application/json": OpenAPIMediaType(schema=_error_schema())},
    )


def _error_schema() -> Schema:
    return Schema(
        type=OpenAPIType.OBJECT,
        required=["code", "detail", "fields"],
        properties={
            "code": Schema(
                type=OpenAPIType.STRING,
                description="A stable machine code; clients branch on it, never on `detail`.",
                one_of=[Schema(const=code, description=meaning) for code, meaning in CODES.items()],
            ),
            "detail": Schema(type=OpenAPIType.STRING, description="What went wrong, for people"),
            "fields": Schema(
                type=OpenAPIType.OBJECT,
                additional_properties=Schema(type=OpenAPIType.STRING),
                description="The problem with each field at fault (body, query or path), by field name",
            ),
        },
    )
