"""Helpers for the back-office views that domains declare (``Domain.admin_views``).

A domain shows a table in one of two ways:

- a plain table or a ``TableConfig``: editable by platform admins, every write audited
  (:class:`backend.admin.AuditedAdmin`);
- :func:`read_only`: listed and shown, never written. For the tables whose rows must follow the
  services' rules (events and their structure, role grants, organizations, invitations) and for
  append-only ones (the audit log): a change there belongs to the API and the pages, where the
  policy, the validation and the audit entry of that change apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from piccolo.table import Table
from piccolo_admin.endpoints import TableConfig
from piccolo_api.crud.endpoints import PiccoloCRUD
from piccolo_api.crud.validators import Validators
from starlette.exceptions import HTTPException
from starlette.requests import Request

READ_ONLY_DETAIL = (
    "This table is read-only in the back office: its rows follow Podium's rules, so change them "
    "through the API or the workspace pages."
)


def _refuse_write(piccolo_crud: PiccoloCRUD, request: Request) -> None:
    raise HTTPException(status_code=405, detail=READ_ONLY_DETAIL)


@dataclass
class ReadOnlyTable(TableConfig):
    """A view that lists and shows rows but refuses every create, edit and delete (405).

    The back office refuses those writes before Piccolo Admin sees them (``backend.admin``); the
    validators here refuse them again should the view ever be served without that check.
    """


def read_only(table: type[Table], visible_columns: Sequence[Any] | None = None) -> ReadOnlyTable:
    """A read-only view of ``table`` showing ``visible_columns`` (all of them when ``None``)."""
    refuse = [_refuse_write]
    return ReadOnlyTable(
        table,
        visible_columns=list(visible_columns) if visible_columns is not None else None,
        validators=Validators(
            post_single=refuse,
            put_single=refuse,
            patch_single=refuse,
            delete_single=refuse,
            delete_all=refuse,
        ),
    )


def read_only_tables(views: Sequence[type[Table] | TableConfig]) -> frozenset[str]:
    """The names of the tables that ``views`` show read-only."""
    return frozenset(v.table_class._meta.tablename for v in views if isinstance(v, ReadOnlyTable))
