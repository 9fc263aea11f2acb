"""Field types and rules shared by the API schemas of every domain.

A string that lands in a table column takes its length from that column (:func:`column_text`), so
a schema and its column cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Annotated, Any
from zoneinfo import available_timezones

import msgspec
from litestar import Request
from litestar.params import PathParameter, QueryParameter
from litestar.types import ASGIApp, Receive, Scope, Send
from piccolo.columns import Column, Varchar
from piccolo.columns.combination import WhereRaw

from backend.errors import INVALID_INPUT, DomainError

# Characters nobody sees: ASCII and C1 controls, Unicode separators and spaces, format characters
# (zero-width space and joiners, bidi marks, BOM...) and the blank letters (Hangul fillers, braille
# blank). Basic Multilingual Plane only, so the class is also valid in the OpenAPI document.
_INVISIBLE = (
    r"\s\x00-\x1f\x7f-\xa0\xad\u034f\u061c\u115f\u1160\u1680\u180b-\u180f\u2000-\u200f\u2028-\u202f"
    r"\u205f-\u206f\u2800\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\u0600-\u0605\u06dd\u070f"
    r"\u0890\u0891\u08e2"
)
# Control characters other than tab and line breaks: PostgreSQL rejects NUL, and nobody means them.
_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
PRINTABLE = rf"^[^{_CONTROL}]*$"
# Printable and at least one visible character: what a required name must be.
_VISIBLE = rf"^[^{_CONTROL}]*[^{_INVISIBLE}][^{_CONTROL}]*$"
_VISIBLE_CHAR = re.compile(rf"[^{_INVISIBLE}]")
_CONTROL_CHAR = re.compile(rf"[{_CONTROL}]")
EMAIL_PATTERN = r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
# A name in Latin letters (with their accented forms), as on passports and certificates.
LATIN_NAME_PATTERN = "^[A-Za-z\u00c0-\u024f][A-Za-z\u00c0-\u024f .'-]*$"

# What a person is told when a text does not match a schema's pattern (an English message id,
# translated like every error message). A schema with a new pattern adds a line here, or people read
# "has the wrong format"; a pattern of alternatives such as ``^(zh|en|ru)$`` needs none ("must be one
# of: zh, en, ru"). tests/integration/test_error_messages.py checks every pattern in the API has one.
PATTERN_MESSAGES: dict[str, str] = {
    PRINTABLE: "must not contain control characters",
    _VISIBLE: "must contain visible text, not only spaces or control characters",
    EMAIL_PATTERN: "is not a valid e-mail address",
    SLUG_PATTERN: "may contain only lower-case letters, digits and hyphens, and must not start with a hyphen",
    r"^[A-Za-z0-9_+\-/]+$": "is not a time zone name such as Asia/Shanghai",
    r"^[A-Za-z0-9_.-]+$": "may contain only letters, digits and the characters . _ -",
    r"^[A-Z]{2}$": "must be a two-letter country code in capitals, such as CN",
    r"^[A-Za-z]{2}$": "must be a two-letter country code, such as CN",
    LATIN_NAME_PATTERN: "must be written in Latin letters, such as Wang Xiaoming",
    r"^([A-Z]{2})?$": "must be a two-letter country code in capitals, such as CN, or empty",
    r"^[a-z-]+$": "may contain only lower-case letters and hyphens",
    r"^[A-Za-z0-9_-]{1,32}$": "is not a certificate's serial (up to 32 letters, digits, _ and -)",
    r"^[A-Za-z0-9_-]{1,32}\.pdf$": "is not a certificate's file name (its serial, then .pdf)",
    r"^#[0-9A-Fa-f]{6}$": "must be a colour such as #1f6feb",
}


def is_printable(value: str) -> bool:
    """Whether ``value`` is free of control characters other than tab and line breaks."""
    return _CONTROL_CHAR.search(value) is None


def has_visible_text(value: str) -> bool:
    """Whether ``value`` shows anything: a name of only spaces or zero-width characters is empty."""
    return _VISIBLE_CHAR.search(value) is not None


def column_text(
    column: Varchar, *, required: bool = False, pattern: str | None = None, min_length: int = 0
) -> Any:
    """The API type of a string stored in ``column``: at most the column's length, printable (or
    matching ``pattern``), and with ``required`` at least one visible character."""
    return Annotated[
        str,
        msgspec.Meta(
            min_length=max(min_length, 1 if required else 0),
            max_length=column.length,
            pattern=pattern or (_VISIBLE if required else PRINTABLE),
        ),
    ]


# The calendar the API accepts: wide enough for any real event, far enough from year 1 and 9999
# that no time zone offset or UTC conversion overflows.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2999, 12, 31)


@functools.cache
def _iana_zones() -> frozenset[str]:
    # The system's zone folder also holds files that are not zones of the IANA database.
    return frozenset(available_timezones() - {"Factory", "localtime", "posixrules"})


def is_time_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone such as ``Asia/Shanghai`` (or a link like ``UTC``)."""
    return name in _iana_zones()


def contains(term: str, *columns: Column) -> WhereRaw:
    """Case-insensitive "any of ``columns`` contains ``term``", where ``%`` and ``_`` are literal."""
    pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    operator = "ILIKE" if columns[0]._meta.engine_type in ("postgres", "cockroach") else "LIKE"
    sql = " OR ".join(
        f"{c._meta.get_full_name(with_alias=False)} {operator} {{}} ESCAPE '\\'" for c in columns
    )
    return WhereRaw(f"({sql})", *[pattern] * len(columns))


Password = Annotated[str, msgspec.Meta(min_length=8, max_length=128, pattern=PRINTABLE)]
ID_MAX = 2_147_483_647  # the largest id an integer column holds
PositiveInt = Annotated[int, msgspec.Meta(ge=1, le=ID_MAX)]
SmallCount = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]

IdPath = Annotated[int, PathParameter(ge=1, le=ID_MAX)]
Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Offset = Annotated[int, QueryParameter(ge=0, le=10_000_000)]
IdQuery = Annotated[int | None, QueryParameter(ge=1, le=ID_MAX)]  # an optional filter by id
Search = Annotated[str | None, QueryParameter(max_length=100, pattern=PRINTABLE)]


def email_type(*columns: Varchar) -> Any:
    """An e-mail address that fits every column it is stored in."""
    return Annotated[
        str,
        msgspec.Meta(
            min_length=3,
            max_length=min(c.length for c in columns),
            pattern=EMAIL_PATTERN,
        ),
    ]


OUTSIDE_CALENDAR = "must lie between {earliest} and {latest}"


def in_calendar(value: Any) -> bool:
    """Whether a date or date-time lies in the supported calendar (anything else passes)."""
    if isinstance(value, dt.datetime):
        return EARLIEST <= value.date() <= LATEST
    if isinstance(value, dt.date):
        return EARLIEST <= value <= LATEST
    return True


def _check_calendar(struct: msgspec.Struct) -> None:
    """Every date of ``struct`` outside the calendar, reported at once."""
    outside = [name for name in struct.__struct_fields__ if not in_calendar(getattr(struct, name))]
    if outside:
        raise DomainError(
            "validation_error",
            INVALID_INPUT,
            fields=dict.fromkeys(outside, OUTSIDE_CALENDAR),
            params={"earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()},
        )


class PathIntegersInRange:
    """An integer path parameter no integer column can hold is a 400 before any guard runs (guards
    read ``path_params`` before the handler's own validation, and would pass it to the database)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        for name, value in (scope.get("path_params") or {}).items():
            if isinstance(value, int) and not -ID_MAX - 1 <= value <= ID_MAX:
                raise DomainError(
                    "validation_error",
                    INVALID_INPUT,
                    fields={name: "must be at most {max}"},
                    params={"max": ID_MAX},
                )
        await self.app(scope, receive, send)


class JsonRequest(Request):
    """The app's request: a JSON body must say it is JSON (else 415), and JSON nested too deeply to
    decode is a 400, before any handler runs."""

    async def json(self) -> Any:
        media_type, _ = self.content_type
        if await self.body() and not (media_type == "application/json" or media_type.endswith("+json")):
            raise DomainError(
                "unsupported_media_type",
                "Send the body as application/json, not {media_type}",
                status_code=415,
                params={"media_type": media_type or "-"},
            )
        try:
            return await super().json()
        except RecursionError:
            raise DomainError(
                "bad_request", "The JSON body is nested too deeply", fields={"body": "is nested too deeply"}
            ) from None


class Struct(msgspec.Struct, forbid_unknown_fields=True):
    """Base for request bodies: unknown fields are an error, not silently ignored; dates and times
    must lie in the supported calendar (checked at decoding, before any handler runs)."""

    def __post_init__(self) -> None:
        _check_calendar(self)
