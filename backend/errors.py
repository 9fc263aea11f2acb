"""Domain errors with stable machine codes, and the handlers that turn every failure into
``{"code", "detail", "fields"}`` with a 4xx status (5xx only for real server faults).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

logger = logging.getLogger("podium")

CSRF_FAILED_DETAIL = "CSRF token verification failed"

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


_FIELD_IN_MESSAGE = (
    re.compile(r"at `\$\.([^`]+)`"),
    re.compile(r"(?:unknown|missing required) field `([^`]+)`"),
)


def _validation_fields(exc: ValidationException) -> dict[str, str]:
    """Map each problem to the field at fault; msgspec names body fields inside its message."""
    fields: dict[str, str] = {}
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if isinstance(item, dict):
            message = str(item.get("message", "invalid value"))
            key = str(item.get("key") or item.get("source") or "body")
            if key == "data":
                match = next((m for p in _FIELD_IN_MESSAGE if (m := p.search(message))), None)
                key = match.group(1) if match else "body"
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
    if isinstance(exc, PermissionDeniedException) and exc.detail == CSRF_FAILED_DETAIL:
        return 403, {
            "code": "csrf_failed",
            "detail": "The form or request lacks a valid CSRF token",
            "fields": {},
        }
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


def exception_handler(request: Request, exc: Exception) -> Response:
    status, body = error_body(exc)
    headers = {}
    if isinstance(exc, HTTPException) and exc.headers:
        headers.update(exc.headers)
    if wants_html(request):
        if isinstance(exc, NotAuthorizedException):
            return Response(
                content=b"", status_code=303, headers={"Location": f"/login?next={request.url.path}"}
            )
        from backend.pages.controllers import page  # the page layer imports this module

        response = page(request, "error.html.jinja", status_code=status, status=status, error=body)
        response.headers.update(headers)
        return response
    return Response(content=body, status_code=status, media_type=MediaType.JSON, headers=headers)
