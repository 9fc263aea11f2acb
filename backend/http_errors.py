"""The HTTP face of errors: every exception becomes ``{"code", "detail", "fields"}`` with a 4xx
status (5xx only for real server faults), in the reader's language, and the OpenAPI document lists
the error answers each operation can give.

**Messages.** ``detail`` and the messages of ``fields`` are English message ids translated with the
request's language (:func:`backend.i18n.request_locale`, as the pages choose it) through the same
catalogues as the pages (this area's are ``translations/<locale>/LC_MESSAGES/errors.po``). Services
raise :class:`backend.errors.DomainError` with a template and ``params``; :func:`error_body` fills
it in the reader's language.

**Validation.** msgspec stops at the first wrong field and words its messages for programmers
("Expected `str` of length <= 300 - at `$.name_en`"). When Litestar refuses a request's body or
parameters, :func:`input_problems` checks the decoded body again field by field against the
Struct's types and constraints (required, unknown, type, length, range, pattern, choices, dates),
so that ``fields`` names every wrong field with a message a person can act on.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import msgspec
import msgspec.inspect as mi
from babel.support import NullTranslations
from litestar import Litestar, MediaType, Request, Response
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState

from backend.errors import CODES, INVALID_INPUT, DomainError, Term, fill, problems
from backend.i18n import request_locale, translations
from backend.schemas import EARLIEST, LATEST, OUTSIDE_CALENDAR, PATTERN_MESSAGES, in_calendar

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

# What people read for Litestar's own refusals (whose details are HTTP reason phrases).
_HTTP_DETAILS = {
    400: "The request could not be read; check that the body is valid JSON",
    401: "Log in first",
    403: "You do not have permission to do this",
    404: "This address does not exist",
    405: "This address does not accept this HTTP method",
    413: "The body is larger than the server accepts",
    415: "Send the body as application/json",
    429: "Too many attempts; wait and retry",
}
_INTERNAL = "Something went wrong on our side; it has been logged"


# Messages ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """A message id with its params; with ``plural``, ``ngettext(text, plural, n)`` (``{n}`` filled)."""

    text: str
    params: dict[str, Any] = field(default_factory=dict)
    plural: str | None = None
    n: int = 0

    def render(self, t: NullTranslations) -> str:
        if self.plural is not None:
            template = t.ngettext(self.text, self.plural, self.n)
        else:
            template = t.gettext(self.text)
        return fill(template, {"n": self.n, **_translated_params(self.params, t)})


def _translated_params(params: dict[str, Any], t: NullTranslations) -> dict[str, Any]:
    return {k: t.pgettext(v.context, str(v)) if isinstance(v, Term) else v for k, v in params.items()}


def _plural(one: str, many: str, n: int) -> Message:
    return Message(one, plural=many, n=n)


def _one_of(choices: Iterable[Any]) -> Message:
    return Message("must be one of: {choices}", {"choices": ", ".join(str(c) for c in choices)})


REQUIRED = Message("is required")
UNKNOWN_FIELD = Message("is not a field of this request")
NOT_VALID = Message("is not valid")


# Field-by-field validation ---------------------------------------------------------------------

Problems = dict[str, Message]

_ALTERNATIVES = re.compile(r"^\^\(?((?:[\w-]+\|)*[\w-]+)\)?\$$")
_DATE_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _pattern_message(pattern: str) -> Message:
    if pattern in PATTERN_MESSAGES:
        return Message(PATTERN_MESSAGES[pattern])
    if match := _ALTERNATIVES.match(pattern):
        return _one_of(match.group(1).split("|"))
    return Message("has the wrong format")


def _length(value: Any, info: Any, unit: str) -> Message | None:
    if info.max_length is not None and len(value) > info.max_length:
        if unit == "characters":
            return _plural("must be at most {n} character", "must be at most {n} characters", info.max_length)
        return _plural("must have at most {n} item", "must have at most {n} items", info.max_length)
    if info.min_length is not None and len(value) < info.min_length:
        if info.min_length == 1:
            return Message("must not be empty")
        if unit == "characters":
            return _plural(
                "must be at least {n} character", "must be at least {n} characters", info.min_length
            )
        return _plural("must have at least {n} item", "must have at least {n} items", info.min_length)
    return None


def _bounds(value: float, info: Any) -> Message | None:
    low, high = info.ge, info.le
    if info.gt is not None and value <= info.gt:
        return Message("must be greater than {min}", {"min": info.gt})
    if info.lt is not None and value >= info.lt:
        return Message("must be less than {max}", {"max": info.lt})
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            return Message("must be between {min} and {max}", {"min": low, "max": high})
        if low is not None:
            return Message("must be at least {min}", {"min": low})
        return Message("must be at most {max}", {"max": high})
    if getattr(info, "multiple_of", None) and value % info.multiple_of:
        return Message("must be a multiple of {step}", {"step": info.multiple_of})
    return None


def _convert(value: Any, target: Any) -> tuple[bool, Any]:
    try:
        return True, msgspec.convert(value, target, strict=False)
    except (msgspec.ValidationError, TypeError, ValueError):
        return False, None


def _calendar(value: Any) -> Message | None:
    if in_calendar(value):
        return None
    return Message(OUTSIDE_CALENDAR, {"earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()})


def _check(value: Any, info: mi.Type, path: str, out: Problems) -> None:
    """Add to ``out`` what is wrong with ``value`` as an instance of ``info``, field by field."""

    def problem(message: Message | None) -> None:
        if message is not None:
            out[path or "body"] = message

    while isinstance(info, mi.Metadata):  # Annotated[...] with a description or Litestar's extras
        info = info.type
    if isinstance(info, mi.AnyType):
        return
    if isinstance(info, mi.UnionType):
        types = [t for t in info.types if not isinstance(t, mi.NoneType)]
        if value is None:
            if len(types) < len(info.types):
                return
            return problem(REQUIRED)
        attempts = []
        for option in types:
            found: Problems = {}
            _check(value, option, path, found)
            if not found:
                return
            attempts.append(found)
        out.update(attempts[0] if attempts else {path or "body": NOT_VALID})
        return
    if value is None and not isinstance(info, mi.NoneType):
        return problem(REQUIRED)
    if isinstance(info, mi.StructType | mi.DataclassType | mi.TypedDictType):
        return _check_fields(value, info, path, out)
    if isinstance(info, mi.StrType):
        ok, text = _convert(value, str)
        if not ok:
            return problem(Message("must be text"))
        if message := _length(text, info, "characters"):
            return problem(message)
        if info.pattern is not None and not re.search(info.pattern, text):
            return problem(_pattern_message(info.pattern))
        return
    if isinstance(info, mi.BoolType):
        return problem(None if _convert(value, bool)[0] else Message("must be true or false"))
    if isinstance(info, mi.IntType | mi.FloatType):
        whole = isinstance(info, mi.IntType)
        ok, number = _convert(value, int if whole else float)
        if not ok:
            return problem(Message("must be a whole number" if whole else "must be a number"))
        return problem(_bounds(number, info))
    if isinstance(info, mi.DecimalType):  # exact quantities (incubator support), as numbers or strings
        return problem(None if _convert(value, decimal.Decimal)[0] else Message("must be a number"))
    if isinstance(info, mi.EnumType):
        if not _convert(value, info.cls)[0]:
            problem(_one_of(member.value for member in info.cls))
        return
    if isinstance(info, mi.LiteralType):
        if value not in info.values:
            problem(_one_of(info.values))
        return
    if isinstance(info, mi.DateType):
        ok, day = _convert(value, dt.date)
        if not ok:
            if isinstance(value, str) and _DATE_SHAPE.match(value):
                return problem(Message("{value} is not a date", {"value": value}))
            return problem(Message("must be a date written YYYY-MM-DD, such as 2027-03-01"))
        return problem(_calendar(day))
    if isinstance(info, mi.DateTimeType):
        ok, moment = _convert(value, dt.datetime)
        if not ok:
            if isinstance(value, str) and _DATETIME_SHAPE.match(value):
                return problem(Message("{value} is not a date and time", {"value": value}))
            return problem(Message("must be a date and time such as 2027-03-01T09:00:00+08:00"))
        if info.tz and moment.tzinfo is None:
            return problem(Message("must give the time zone offset, such as +08:00"))
        return problem(_calendar(moment))
    if isinstance(info, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        if not isinstance(value, list | tuple):
            return problem(Message("must be a list"))
        if message := _length(value, info, "items"):
            return problem(message)
        for index, item in enumerate(value):
            _check(item, info.item_type, f"{path}[{index}]", out)
        return
    if isinstance(info, mi.DictType):
        if not isinstance(value, dict):
            return problem(Message("must be an object"))
        if message := _length(value, info, "items"):
            return problem(message)
        for key, item in value.items():
            _check(item, info.value_type, f"{path}.{key}" if path else str(key), out)
        return
    # Other types (UUID, decimal, bytes...): msgspec's own verdict, in general words.
    if not _convert(value, _python_type(info))[0]:
        problem(NOT_VALID)


_OTHER_TYPES = {
    mi.UUIDType: uuid.UUID,
    mi.DecimalType: decimal.Decimal,
    mi.TimeType: dt.time,
    mi.TimeDeltaType: dt.timedelta,
    mi.BytesType: bytes,
}


def _python_type(info: mi.Type) -> Any:
    return _OTHER_TYPES.get(type(info)) or getattr(info, "cls", Any)


def _check_fields(value: Any, info: Any, path: str, out: Problems) -> None:
    if not isinstance(value, dict):
        out[path or "body"] = Message("must be an object")
        return
    prefix = f"{path}." if path else ""
    known = {f.encode_name: f for f in info.fields}
    if getattr(info, "forbid_unknown_fields", False):
        for key in value:
            if key not in known:
                out[f"{prefix}{key}"] = UNKNOWN_FIELD
    for name, spec in known.items():
        if name not in value:
            if spec.required:
                out[f"{prefix}{name}"] = REQUIRED
            continue
        _check(value[name], spec.type, f"{prefix}{name}", out)


def value_problems(value: Any, annotation: Any, path: str = "") -> Problems:
    """Every problem of ``value`` as the (decoded, builtin) input for ``annotation``."""
    out: Problems = {}
    try:
        info = mi.type_info(annotation)
    except (TypeError, ValueError):
        return out
    _check(value, info, path, out)
    return out


def input_problems(request: Request, exc: ValidationException) -> Problems:
    """Every wrong field of the request that Litestar refused, each with a message for people.

    Litestar reports each wrong parameter, but only the first wrong field of a body; the body is
    checked again here from its decoded form (kept in the connection's state)."""
    reported: list[tuple[str, str]] = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            reported.append((str(item.get("key") or ""), str(item.get("source") or "")))
    handler = request.scope.get("route_handler")
    model = getattr(handler, "signature_model", None) if handler is not None else None
    annotations: dict[str, Any] = getattr(model, "__annotations__", {}) if model is not None else {}
    out: Problems = {}
    body_checked = False
    for key, source in reported:
        if source == "body" or key == "data" or not key:
            if body_checked:
                continue
            body_checked = True
            body = _decoded_body(request)
            if body is Empty:  # no body at all
                out["body"] = REQUIRED
            elif "data" in annotations:
                out.update(value_problems(body, annotations["data"]))
            if not out:
                out["body" if key in ("data", "") else key] = NOT_VALID
            continue
        raw = _raw_parameter(request, key, source, annotations.get(key))
        found = value_problems(raw, annotations[key], key) if key in annotations and raw is not None else {}
        out.update(found or {key: REQUIRED if raw is None else NOT_VALID})
    return out


def _decoded_body(request: Request) -> Any:
    """The body as Litestar decoded it (JSON or a form), or ``Empty`` when there was none."""
    state = ScopeState.from_scope(request.scope)
    if state.json is not Empty:
        return state.json
    if state.form is not Empty and state.form:
        return state.form
    return Empty


def _raw_parameter(request: Request, key: str, source: str, annotation: Any) -> Any:
    if source == "path" or key in request.path_params:
        return request.path_params.get(key)
    if source in ("header",):
        return request.headers.get(key)
    if source in ("cookie",):
        return request.cookies.get(key)
    many = False
    if annotation is not None:
        try:
            info = mi.type_info(annotation)
            while isinstance(info, mi.Metadata):
                info = info.type
            options = info.types if isinstance(info, mi.UnionType) else (info,)
            many = any(isinstance(t, mi.CollectionType) for t in options)
        except (TypeError, ValueError):
            pass
    if key not in request.query_params:
        return None
    return request.query_params.getall(key) if many else request.query_params.get(key)


# Error bodies ---------------------------------------------------------------------------------


def _locale(request: Request | None) -> str:
    if request is None:
        return "en"
    try:
        return request_locale(request)
    except (AttributeError, KeyError):  # an app without Podium's settings (unit tests)
        return "en"


def error_body(
    exc: Exception, request: Request | None = None, locale: str | None = None
) -> tuple[int, dict[str, Any]]:
    """Status and body for any exception, in the request's language (``locale`` overrides it);
    unknown exceptions become a logged 500."""
    t = translations(locale or _locale(request))
    if isinstance(exc, DomainError):
        fields = {
            name: fill(t.gettext(template), _translated_params(exc.params, t))
            for name, template in exc.field_templates.items()
        }
        params = {"problems": problems(fields), **_translated_params(exc.params, t)}
        return exc.status_code, {
            "code": exc.code,
            "detail": fill(t.gettext(exc.template), params),
            "fields": fields,
        }
    if isinstance(exc, ValidationException):
        found = input_problems(request, exc) if request is not None else {}
        fields = {name: message.render(t) for name, message in found.items()}
        detail = (
            fill(t.gettext(INVALID_INPUT), {"problems": problems(fields)})
            if fields
            else t.gettext(_HTTP_DETAILS[400])
        )
        return 400, {"code": "validation_error", "detail": detail, "fields": fields}
    if isinstance(exc, NotAuthorizedException):
        return 401, {"code": "not_authenticated", "detail": t.gettext(_HTTP_DETAILS[401]), "fields": {}}
    if isinstance(exc, HTTPException):
        status = exc.status_code
        code = _HTTP_CODES.get(status, "http_error" if status < 500 else "server_error")
        detail = str(exc.detail)
        # Litestar's own refusals carry the reason phrase or words for programmers
        if status in _HTTP_DETAILS and (detail in (HTTPStatus(status).phrase, "") or status in (400, 413)):
            detail = _HTTP_DETAILS[status]
        return status, {"code": code, "detail": t.gettext(detail), "fields": {}}
    logger.exception("unhandled error", exc_info=exc)
    return HTTP_500_INTERNAL_SERVER_ERROR, {
        "code": "internal_error",
        "detail": t.gettext(_INTERNAL),
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
        status, body = error_body(exc, request)
        if html_page is not None and wants_html(request):
            response = html_page(request, exc, status, body)
        else:
            response = Response(content=body, status_code=status, media_type=MediaType.JSON)
        if isinstance(exc, HTTPException) and exc.headers:
            response.headers.update(exc.headers)
        return response

    return exception_handler


def localized_error(exc: DomainError, locale: str) -> tuple[str, dict[str, str]]:
    """``(detail, fields)`` of a domain error in ``locale``: for pages that show a service's refusal
    next to a form's inputs."""
    _, body = error_body(exc, locale=locale)
    return body["detail"], body["fields"]


# OpenAPI --------------------------------------------------------------------------------------

# A route handler's ``opt`` may correct the statuses the rules below give its operation, e.g.
# ``opt={ERROR_STATUSES_OPT: {409: False}}`` for a write that cannot conflict, ``{422: True}``.
ERROR_STATUSES_OPT = "error_statuses"

_STATUS_DESCRIPTIONS = {
    400: "Invalid input: `validation_error` (`fields` names every wrong field), `bad_request`, or a "
    "rule of the operation (see the codes)",
    401: "Not logged in: `not_authenticated`, or `invalid_credentials` where a password is checked",
    403: "Not allowed: `forbidden`, `insufficient_scope` (a bearer token without the needed scope) or "
    "`csrf_failed` (a cookie-authenticated write without the CSRF token)",
    404: "`not_found`: the object does not exist, or the caller may not see it (a draft event)",
    409: "The current state or another row refuses the change (`conflict` and the codes of the "
    "operation, such as `slug_taken`, `event_locked`, `invalid_transition`)",
    410: "The one-time link is used up or expired (the codes of the operation, such as `link_used`)",
    413: "`payload_too_large`: the body is larger than 2 MiB",
    415: "`unsupported_media_type`: the body is not sent as application/json",
    422: "The input is well formed but cannot be processed",
    429: "`rate_limited`: too many attempts; the Retry-After header says when to try again",
}
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def error_statuses(method: str, operation: Operation, handler: Any) -> set[int]:
    """The 4xx statuses an operation can answer, from what it takes and how it is guarded."""
    parameters = [p for p in operation.parameters or [] if not isinstance(p, Reference)]
    has_body = operation.request_body is not None
    write = method.upper() in _WRITES
    guarded = bool(handler.resolve_guards())
    behind_login_limit = any(
        type(m).__name__ == "LoginRateLimitMiddleware"
        or getattr(m, "__name__", "") == "LoginRateLimitMiddleware"
        for m in handler.resolve_middleware()
    )
    statuses: set[int] = set()
    if parameters or has_body:
        statuses.add(400)
    if guarded or behind_login_limit:
        statuses.add(401)
    if guarded or write:
        statuses.add(403)
    if any(p.param_in == "path" for p in parameters):
        statuses.add(404)
    if write and not behind_login_limit:
        statuses.add(409)
    if has_body:
        statuses.update((413, 415))
    if behind_login_limit:
        statuses.add(429)
    for status, present in (handler.opt.get(ERROR_STATUSES_OPT) or {}).items():
        (statuses.add if present else statuses.discard)(int(status))
    return statuses


def document_errors(openapi: OpenAPI, routes: Iterable[Any]) -> None:
    """Replace Litestar's own error answers (its ValidationException schema) in every operation by
    the statuses it can really answer, each referring to ``#/components/responses/Error``."""
    for route in routes:
        path_item = (openapi.paths or {}).get(route.path_format or "/")
        if path_item is None:
            continue
        for method, (handler, _) in route.route_handler_map.items():
            operation = getattr(path_item, str(method).lower(), None)
            if not isinstance(operation, Operation):
                continue
            responses = {
                status: answer
                for status, answer in (operation.responses or {}).items()
                if not str(status).startswith(("4", "5"))
            }
            for status in sorted(error_statuses(str(method), operation, handler)):
                responses[str(status)] = Reference(
                    ref="#/components/responses/Error", description=_STATUS_DESCRIPTIONS[status]
                )
            operation.responses = responses


class _ErrorDocumentingOpenAPIPlugin(OpenAPIPlugin):
    __slots__ = ()

    def _build_openapi(self) -> OpenAPI:
        openapi = super()._build_openapi()
        document_errors(openapi, self.included_routes.values())
        return openapi


def document_error_responses(app: Litestar) -> None:
    """Make the app's OpenAPI document list the real error answers (built when first asked for)."""
    plugin = app.plugins.get(OpenAPIPlugin)
    plugin.__class__ = _ErrorDocumentingOpenAPIPlugin
    plugin._openapi = None  # rebuilt with the errors on first use


def error_response() -> OpenAPIResponse:
    """The error answer as an OpenAPI component (``#/components/responses/Error``), every
    registered code listed with its meaning."""
    return OpenAPIResponse(
        description="Every 4xx (and 5xx) answer: {code, detail, fields}",
        content={"application/json": OpenAPIMediaType(schema=_error_schema())},
    )


def codes_table() -> str:
    """The registry of codes as a Markdown table, for the document's readers."""
    rows = "\n".join(f"| `{code}` | {meaning} |" for code, meaning in CODES.items())
    return f"| code | meaning |\n|---|---|\n{rows}"


def _error_schema() -> Schema:
    return Schema(
        type=OpenAPIType.OBJECT,
        required=["code", "detail", "fields"],
        properties={
            "code": Schema(
                type=OpenAPIType.STRING,
                enum=list(CODES),
                description="A stable machine code; clients branch on it, never on `detail`. "
                "Codes are never renamed; new ones are added.\n\n" + codes_table(),
            ),
            "detail": Schema(
                type=OpenAPIType.STRING,
                description="What went wrong, for people, in the request's language (the `podium_lang` "
                "cookie, the account's language, then Accept-Language)",
            ),
            "fields": Schema(
                type=OpenAPIType.OBJECT,
                additional_properties=Schema(type=OpenAPIType.STRING),
                description="Every field at fault (body, query or path; nested as `a.b`, `a[0]`) with its "
                "problem, in the request's language",
            ),
        },
        examples=[
            {
                "code": "validation_error",
                "detail": "Invalid input: name_en: must be at most 300 characters; starts_on: 2027-02-30 is "
                "not a date",
                "fields": {
                    "name_en": "must be at most 300 characters",
                    "starts_on": "2027-02-30 is not a date",
                },
            }
        ],
    )
