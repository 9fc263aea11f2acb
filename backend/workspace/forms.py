"""HTML forms to the services' input structs, every wrong field reported at once.

A form posts strings. :func:`decode` reads them as the struct's fields (empty optional inputs are
left out or ``None``; ``<input type="datetime-local">`` values are read in the event's time zone),
checks them field by field with the API's own checker (:func:`backend.http_errors.value_problems`,
the same messages as the API's ``fields``), then builds the struct.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from backend.http_errors import Message, Problems, value_problems

T = typing.TypeVar("T", bound=msgspec.Struct)


@dataclass
class FormErrors(Exception):
    """The posted fields that are wrong, each with its message (rendered in the reader's language)."""

    fields: Problems = field(default_factory=dict)


def _plain(tp: Any) -> tuple[Any, bool]:
    """The type inside ``Annotated[...]`` and ``X | None``, and whether ``None`` is allowed."""
    if typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        inner = [a for a in args if a not in (type(None), msgspec.UnsetType)]
        plain, _ = _plain(inner[0])
        return plain, type(None) in args
    return tp, False


def local_datetime(value: str, time_zone: str) -> dt.datetime:
    """``2027-03-01T18:00`` (an ``<input type="datetime-local">``) as an aware time in ``time_zone``."""
    return dt.datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(time_zone))


def datetime_local_value(value: dt.datetime | None, time_zone: str) -> str:
    """An aware time as the value of an ``<input type="datetime-local">`` in ``time_zone``."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%dT%H:%M")


def decode(struct: type[T], form: dict[str, str], *, time_zone: str = "UTC", partial: bool = False) -> T:
    """The struct for the posted ``form``, or :class:`FormErrors` naming every field at fault.

    Inputs the struct does not have are ignored; with ``partial`` (patch structs), fields absent from
    the form stay unset."""
    values: dict[str, Any] = {}
    for info in msgspec.structs.fields(struct):
        name = info.encode_name
        if name not in form:
            if not partial and info.required:
                values[name] = None  # reported as required
            continue
        raw = form[name]
        tp, optional = _plain(info.type)
        if tp is str:
            values[name] = raw
            continue
        raw = raw.strip()
        if raw == "":
            if optional or info.required:
                values[name] = None
            continue  # the struct's default
        if tp is dt.datetime:
            try:
                values[name] = local_datetime(raw, time_zone).isoformat()
            except ValueError:
                values[name] = raw  # reported as not a date and time
            continue
        values[name] = raw
    problems = value_problems(values, struct)
    if problems:
        raise FormErrors(problems)
    try:
        return msgspec.convert(values, struct, strict=False)
    except msgspec.ValidationError:  # what the checker let through and msgspec did not
        raise FormErrors({name: Message("is not valid") for name in values}) from None
