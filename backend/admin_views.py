"""Helpers for the back-office views that domains declare (``Domain.admin_views``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from piccolo.table import Table
from piccolo_admin.endpoints import TableConfig
from piccolo_api.crud.endpoints import PiccoloCRUD
from piccolo_api.crud.validators import Validators
from starlette.exceptions import HTTPException
from starlette.requests import Request


def _refuse_write(piccolo_crud: PiccoloCRUD, request: Request) -> None:
    raise HTTPException(status_code=405, detail="This log is append-only: it cannot be changed here.")


def read_only(table: type[Table], visible_columns: Sequence[Any]) -> TableConfig:
    """A view that lists and shows rows but refuses every create, edit and delete (405)."""
    refuse = [_refuse_write]
    return TableConfig(
        table,
        visible_columns=list(visible_columns),
        validators=Validators(
            post_single=refuse,
            put_single=refuse,
            patch_single=refuse,
            delete_single=refuse,
            delete_all=refuse,
        ),
    )
