"""The HTTP face of errors: every exception becomes ``{"code", "detail", "fields"}`` with a 4xx
status (5xx only for real server faults), and the registry of codes is listed in OpenAPI."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Schema
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from backend.errors import CODES, DomainError

logger = logging.getLogger("podium")

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
