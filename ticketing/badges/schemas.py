"""The badges API's bodies and answers (msgspec)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from litestar.params import QueryParameter

from backend.schemas import Struct

Format = Literal["a6", "label"]
FormatQuery = Annotated[Format, QueryParameter(description="a6 (105 × 148 mm) or label (4 × 3 in)")]


class BadgeRunIn(Struct, kw_only=True):
    """Render every valid ticket's badge of the event in one format."""

    format: Format = "a6"


class BadgeRunOut(Struct, kw_only=True):
    """A badge run: ``done`` of ``total`` badges rendered (``progress`` in percent); when ``status``
    is ``done``, ``download`` is the zip of the badges."""

    id: int
    event: int
    format: str
    status: Literal["queued", "running", "done", "failed"]
    total: int
    done: int
    progress: int
    error: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    download: str | None


class BadgeMailOut(Struct, kw_only=True):
    """Holders mailed the link to their badge, and valid tickets whose holder has no address."""

    mailed: int
    without_address: int
