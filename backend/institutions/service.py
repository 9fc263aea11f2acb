"""The institutions directory: lookups, edits and the idempotent CSV import."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from backend import audit
from backend.db import transaction
from backend.errors import DomainError, NotFound
from backend.institutions.schemas import InstitutionIn, InstitutionOut
from backend.institutions.tables import Institution, InstitutionKind
from backend.schemas import contains, has_visible_text

CSV_COLUMNS = ("name_zh", "name_en", "kind", "country", "region")
PICKER_LIMIT = 20  # how many matches an institution picker offers
_OUT_COLUMNS = [
    Institution.id,
    Institution.kind,
    Institution.country,
    Institution.name_zh,
    Institution.name_en,
    Institution.region,
]


def _check_names(data: InstitutionIn) -> None:
    if not (has_visible_text(data.name_zh) or has_visible_text(data.name_en)):
        raise DomainError(
            "name_required", "Give a Chinese or an English name", fields={"name_en": "required"}
        )


def search_term(text: str | None) -> str:
    """What a search box's text searches for: without control and format characters (zero-width
    spaces, bidi marks) and outer spaces, at most 100 characters; "" searches for nothing."""
    kept = "".join(c for c in text or "" if unicodedata.category(c) not in ("Cc", "Cf"))
    return kept.strip()[:100]


async def list_institutions(
    limit: int, offset: int, country: str | None, kind: InstitutionKind | None, query: str | None
) -> tuple[list[InstitutionOut], int]:
    where: Any = Institution.id > 0
    if country:
        where = where & (Institution.country == country.upper())
    if kind is not None:
        where = where & (Institution.kind == kind.value)
    if query := search_term(query):
        where = where & contains(query, Institution.name_en, Institution.name_zh)
    rows = (
        await Institution.select(*_OUT_COLUMNS)
        .where(where)
        .order_by(Institution.country)
        .order_by(Institution.name_en)
        .limit(limit)
        .offset(offset)
    )
    return [InstitutionOut(**r) for r in rows], await Institution.count().where(where)


async def picker_choices(query: str, chosen_id: int | None) -> tuple[list[InstitutionOut], int]:
    """What an institution picker lists: the chosen institution first, then up to
    :data:`PICKER_LIMIT` others whose name matches ``query`` (none without one), and how many match."""
    chosen = await Institution.select(*_OUT_COLUMNS).where(Institution.id == (chosen_id or 0)).first()
    found, total = (
        await list_institutions(PICKER_LIMIT, 0, None, None, query) if search_term(query) else ([], 0)
    )
    head = [InstitutionOut(**chosen)] if chosen else []
    return head + [i for i in found if not chosen or i.id != chosen["id"]], total


async def get_institution(institution_id: int) -> InstitutionOut:
    row = await Institution.select(*_OUT_COLUMNS).where(Institution.id == institution_id).first()
    if row is None:
        raise NotFound("Institution")
    return InstitutionOut(**row)


async def create_institution(actor_id: int, data: InstitutionIn) -> InstitutionOut:
    _check_names(data)
    async with transaction():
        row = Institution(**{**msgspec.structs.asdict(data), "kind": data.kind.value})
        await row.save()
        await audit.record(
            actor_id, "institution.create", "institution", row.id, data={"name_en": data.name_en}
        )
    return await get_institution(row.id)


async def update_institution(actor_id: int, institution_id: int, data: InstitutionIn) -> InstitutionOut:
    _check_names(data)
    values = {**msgspec.structs.asdict(data), "kind": data.kind.value}
    async with transaction():
        updated = (
            await Institution.update(values).where(Institution.id == institution_id).returning(Institution.id)
        )
        if not updated:
            raise NotFound("Institution")
        await audit.record(actor_id, "institution.update", "institution", institution_id, data=values)
    return await get_institution(institution_id)


class CsvRowError(DomainError):
    """A CSV row is wrong; ``line`` is the file's line number (header = 1)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__("invalid_csv", f"line {line}: {message}")
        self.line = line


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def parse_csv(text: str) -> list[InstitutionIn]:
    """Validate every row first, so a bad file changes nothing."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("kind", "country") if c not in (reader.fieldnames or [])]
    if not reader.fieldnames:
        raise CsvRowError(1, "the file is empty")
    if missing or not {"name_zh", "name_en"} & set(reader.fieldnames):
        need = missing or ["name_zh or name_en"]
        raise CsvRowError(1, f"missing column(s): {', '.join(need)} (expected {','.join(CSV_COLUMNS)})")
    items: list[InstitutionIn] = []
    for row in reader:
        line = reader.line_num
        values = {k: (row.get(k) or "").strip() for k in CSV_COLUMNS}
        values["country"] = values["country"].upper()
        try:
            item = msgspec.convert(values, InstitutionIn)
            _check_names(item)
        except msgspec.ValidationError as exc:
            raise CsvRowError(line, str(exc)) from None
        except DomainError as exc:
            raise CsvRowError(line, exc.detail) from None
        items.append(item)
    if not items:
        raise CsvRowError(2, "the file has a header but no rows")
    return items


async def import_institutions(
    items: list[InstitutionIn], actor_id: int | None = None, progress: Callable[[int], None] | None = None
) -> ImportResult:
    """Insert new institutions and update changed ones, matched on country + English name (or
    Chinese name when there is no English one). Running the same file twice changes nothing."""
    result = ImportResult()
    async with transaction():
        existing = {
            (r["country"], r["name_en"] or "", r["name_zh"] or ""): r
            for r in await Institution.select(*_OUT_COLUMNS)
        }
        by_en = {(c, en): r for (c, en, _), r in existing.items() if en}
        by_zh = {(c, zh): r for (c, _, zh), r in existing.items() if zh}
        for i, item in enumerate(items, 1):
            values = {**msgspec.structs.asdict(item), "kind": item.kind.value}
            match = (
                by_en.get((item.country, item.name_en))
                if item.name_en
                else by_zh.get((item.country, item.name_zh))
            )
            if match is None:
                row = Institution(**values)
                await row.save()
                (by_en if item.name_en else by_zh)[(item.country, item.name_en or item.name_zh)] = {
                    **values,
                    "id": row.id,
                }
                result.created += 1
            elif any(match[k] != v for k, v in values.items()):
                await Institution.update(values).where(Institution.id == match["id"])
                result.updated += 1
            else:
                result.unchanged += 1
            if progress is not None:
                progress(i)
        await audit.record(actor_id, "institution.import", "institution", None, data=vars(result))
    return result
