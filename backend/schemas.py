"""Field types shared by the API schemas of every domain."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import PathParameter, QueryParameter

# Printable text: no control characters (PostgreSQL rejects NUL, and nobody means them).
_PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=_PRINTABLE)]
OptionalName = Annotated[str, msgspec.Meta(max_length=300, pattern=_PRINTABLE)]
Email = Annotated[
    str,
    msgspec.Meta(
        min_length=3, max_length=255, pattern=r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$"
    ),
]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=128, pattern=_PRINTABLE)]
Locale = Annotated[str, msgspec.Meta(pattern=r"^(zh|en|ru)$")]
CountryCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]
Slug = Annotated[str, msgspec.Meta(min_length=2, max_length=80, pattern=r"^[a-z0-9][a-z0-9-]*$")]
PositiveInt = Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)]
SmallCount = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]

IdPath = Annotated[int, PathParameter(ge=1, le=2_147_483_647)]
Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Offset = Annotated[int, QueryParameter(ge=0, le=10_000_000)]
Search = Annotated[str | None, QueryParameter(max_length=100)]


class Struct(msgspec.Struct, forbid_unknown_fields=True):
    """Base for request bodies: unknown fields are an error, not silently ignored."""
