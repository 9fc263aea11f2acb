"""A team's materials for a stage: business plan and slides (PDF files), a video link, a summary.

Every submission is a new version (1, 2, 3... per team, stage and kind), numbered under a lock on the
team's row, with the unique index ``material_version`` behind it. A file is checked from its content
(a PDF's header and trailer), never from its name or the type the client claims, and refused the
moment it grows past its kind's limit. The stage's submission deadline closes them. A submission
that fails leaves nothing behind: no row, and its stored file is deleted.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import anyio
import msgspec
from piccolo.query.functions.aggregate import Max

from backend.db import locked_row, transaction, utcnow
from backend.errors import INVALID_INPUT, Conflict, DomainError, FieldChecks, NotFound
from backend.events.tables import Event, Stage
from backend.policy import Action, Principal
from backend.schemas import has_visible_text, is_printable
from backend.teams.access import TeamAccess, team_access
from backend.teams.history import team_changed
from backend.teams.storage import Stored, TooLarge, storage
from backend.teams.tables import Material, MaterialKind, Team, TeamStatus

logger = logging.getLogger("podium.teams.materials")

MiB = 1024 * 1024
PDF = "application/pdf"
# The kinds that are files, with their largest size in bytes.
FILE_LIMITS: dict[MaterialKind, int] = {MaterialKind.business_plan: 20 * MiB, MaterialKind.slides: 20 * MiB}
SUMMARY_MAX = 5000  # characters
URL_MAX = 2000  # characters
FILE_NAME_MAX = 200  # characters, the extension included

_PDF_HEADER = re.compile(rb"%PDF-[12]\.\d")
_PDF_TRAILER = re.compile(rb"startxref\s+(\d+)\s+%%EOF")
_TAIL = 1024  # a PDF's trailer lies in its last 1024 bytes


class MaterialOut(msgspec.Struct):
    """One version of one material. Files have ``file_name``, ``content_type``, ``size``, ``sha256``
    and ``download_url``; a video link has ``url``, a summary ``text``."""

    id: int
    team_id: int
    stage_id: int
    kind: MaterialKind
    version: int
    created_at: dt.datetime
    uploaded_by_id: int | None
    file_name: str | None = None
    content_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    download_url: str | None = None
    url: str | None = None
    text: str | None = None


class MaterialsOut(msgspec.Struct):
    """The latest version of each stage's materials, and every version (oldest first)."""

    latest: list[MaterialOut]
    versions: list[MaterialOut]


def _out(row: dict[str, Any]) -> MaterialOut:
    kind = MaterialKind(row["kind"])
    out = MaterialOut(
        id=row["id"],
        team_id=row["team"],
        stage_id=row["stage"],
        kind=kind,
        version=row["version"],
        created_at=row["created_at"],
        uploaded_by_id=row["uploaded_by"],
    )
    if kind in FILE_LIMITS:
        out.file_name, out.content_type = row["file_name"], row["content_type"]
        out.size, out.sha256 = row["size"], row["sha256"]
        out.download_url = f"/api/v1/materials/{row['id']}/file"
    elif kind is MaterialKind.video_link:
        out.url = row["text"]
    else:
        out.text = row["text"]
    return out


# Reading ---------------------------------------------------------------------------------------


async def list_materials(actor: Principal, team_id: int) -> MaterialsOut:
    """Every version of the team's materials, and the latest of each stage and kind."""
    await team_access(actor, team_id, Action.view_team)
    rows = await Material.select().where(Material.team == team_id).order_by(Material.id)
    versions = [_out(r) for r in rows]
    latest: dict[tuple[int, str], MaterialOut] = {}
    for material in versions:
        current = latest.get((material.stage_id, material.kind))
        if current is None or material.version > current.version:
            latest[(material.stage_id, material.kind)] = material
    return MaterialsOut(latest=sorted(latest.values(), key=lambda m: (m.stage_id, m.kind)), versions=versions)


async def may_read(principal: Principal | None, material: dict[str, Any]) -> None:
    """Who may read a material: the team and the organizers whose scope covers it (the policy's
    ``view_team``); refused like the team itself (404). The one place to admit more readers: the
    judges assigned to the team's entry join here with the judging service."""
    await team_access(principal, material["team"], Action.view_team)


async def open_file(
    principal: Principal | None, material_id: int
) -> tuple[MaterialOut, AsyncIterator[bytes]]:
    """A file material, if the caller may read it, with its bytes."""
    row = await Material.select().where(Material.id == material_id).first()
    if row is None:
        raise NotFound("Material")
    await may_read(principal, row)
    if row["storage_key"] is None:
        raise DomainError("not_found", "This material is a link or a text, not a file", status_code=404)
    files = storage()
    if not await files.exists(row["storage_key"]):  # removed from the disk by hand: say so before streaming
        logger.error("material %s: its file %s is missing", material_id, row["storage_key"])
        raise NotFound("Material")
    return _out(row), files.open(row["storage_key"])


# Submitting ------------------------------------------------------------------------------------


async def submittable(actor: Principal, team_id: int, stage_id: int) -> TeamAccess:
    """The team, if the caller may submit its materials for this stage of its contest now: asked
    before a byte of the submission is read."""
    access = await team_access(actor, team_id, Action.submit_materials)
    stage = await Stage.select().where(Stage.id == stage_id).first()
    if stage is None or stage["event"] != access.row["event"]:
        raise NotFound("Stage")
    await _require_open(access.row, stage)
    return access


def file_too_large(limit: int) -> DomainError:
    return DomainError(
        "material_too_large",
        "The file is larger than {limit} MiB",
        status_code=413,
        fields={"file": "must be at most {limit} MiB"},
        params={"limit": limit // MiB},
    )


async def submit_file(
    actor: Principal,
    access: TeamAccess,
    stage_id: int,
    kind: MaterialKind,
    file_name: str | None,
    chunks: AsyncIterable[bytes],
) -> MaterialOut:
    """Store a PDF (business plan, slides) as the next version: read at most the kind's limit, then
    checked from its content."""
    limit = FILE_LIMITS[kind]
    pdf = _PdfCheck()
    try:
        stored = await storage().save(f"teams/{access.row['id']}", pdf.watch(chunks), limit)
    except TooLarge:
        raise file_too_large(limit) from None
    try:
        if not pdf.is_pdf(stored.size):
            raise DomainError(
                "not_a_pdf",
                "The file is not a PDF document",
                status_code=415,
                fields={"file": "must be a PDF document"},
            )
        values = {
            "storage_key": stored.key,
            "file_name": safe_file_name(file_name, kind),
            "content_type": PDF,
            "size": stored.size,
            "sha256": stored.sha256,
        }
        return await _add_version(actor, access, stage_id, kind, values, stored)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await storage().delete(stored.key)
        raise


async def submit_link(actor: Principal, access: TeamAccess, stage_id: int, url: str) -> MaterialOut:
    """Record the video link (an https address) as the next version."""
    return await _add_version(actor, access, stage_id, MaterialKind.video_link, {"text": video_link(url)})


async def submit_summary(actor: Principal, access: TeamAccess, stage_id: int, text: str) -> MaterialOut:
    """Record the summary (free text) as the next version."""
    checks = FieldChecks()
    if not has_visible_text(text):
        checks.add(
            "validation_error",
            INVALID_INPUT,
            "text",
            "must contain visible text, not only spaces or control characters",
        )
    elif not is_printable(text):
        checks.add("validation_error", INVALID_INPUT, "text", "must not contain control characters")
    elif len(text) > SUMMARY_MAX:
        checks.add(
            "summary_too_long",
            "The summary is longer than {max} characters",
            "text",
            "must be at most {max} characters",
            max=SUMMARY_MAX,
        )
    checks.raise_if_any()
    return await _add_version(actor, access, stage_id, MaterialKind.summary, {"text": text})


def is_link(url: str, schemes: tuple[str, ...]) -> bool:
    """Whether ``url`` is an address with one of ``schemes`` (lower case) of a host with a dot in its
    name, with no user name or password, a port that is a number, and nothing hidden in it (no blank,
    backslash, angle bracket, quote or unprintable character)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is no number or out of range)
    except ValueError:
        return False
    return (
        parts.scheme.lower() in schemes
        and "." in (parts.hostname or "").strip(".")
        and parts.username is None
        and parts.password is None
        and not re.search(r"[\s\\<>\"'`]", url)
        and is_printable(url)
    )


def video_link(url: str) -> str:
    """``url`` if it is an https address of a host (no user name or password in it), else a 400."""
    url = url.strip()
    if len(url) > URL_MAX:
        raise DomainError(
            "invalid_video_link",
            "The video link is longer than {max} characters",
            fields={"url": "must be at most {max} characters"},
            params={"max": URL_MAX},
        )
    if not is_link(url, ("https",)):
        raise DomainError(
            "invalid_video_link",
            "The video link must be an https:// address",
            fields={"url": "must be an https:// link, such as https://www.bilibili.com/video/..."},
        )
    return url


async def _require_open(team: dict[str, Any], stage: dict[str, Any]) -> None:
    if team["status"] == TeamStatus.withdrawn.value:
        raise Conflict("team_withdrawn", "The team has withdrawn; its materials can no longer change")
    deadline = stage["submission_deadline"]
    if deadline is not None and utcnow() >= deadline:
        event = await Event.select(Event.time_zone).where(Event.id == team["event"]).first()
        local = deadline.astimezone(ZoneInfo(event["time_zone"]))
        raise Conflict(
            "materials_locked",
            "The stage's materials closed at its deadline, {deadline}",
            params={"deadline": local.isoformat(timespec="minutes")},
        )


async def _add_version(
    actor: Principal,
    access: TeamAccess,
    stage_id: int,
    kind: MaterialKind,
    values: dict[str, Any],
    stored: Stored | None = None,
) -> MaterialOut:
    """Insert the next version under the team's lock, with its audit entry and timeline line."""
    async with transaction():
        team = await locked_row(Team, access.row["id"])
        stage = await Stage.select().where(Stage.id == stage_id).first()
        if team is None or stage is None:
            raise NotFound("Team" if team is None else "Stage")
        await _require_open(team, stage)
        latest = await (
            Material.select(Max(Material.version, alias="latest"))
            .where(
                (Material.team == team["id"]) & (Material.stage == stage_id) & (Material.kind == kind.value)
            )
            .first()
        )
        version = (latest["latest"] or 0) + 1
        row = Material(
            team=team["id"], stage=stage_id, kind=kind.value, version=version, uploaded_by=actor.id, **values
        )
        await row.save()
        data: dict[str, Any] = {
            "material_id": row.id,
            "stage_id": stage_id,
            "material": kind.value,
            "version": version,
        }
        if stored is not None:
            data.update(size=stored.size, sha256=stored.sha256)
        await team_changed(actor.id, team, "material_submitted", **data)
    return _out(row.to_dict())


class _PdfCheck:
    """Keeps a stream's first and last bytes as it passes, to tell a PDF from its content."""

    def __init__(self) -> None:
        self.head = b""
        self.tail = b""

    async def watch(self, chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        async for chunk in chunks:
            if len(self.head) < 16:
                self.head = (self.head + chunk)[:16]
            self.tail = (self.tail + chunk)[-_TAIL:]
            yield chunk

    def is_pdf(self, size: int) -> bool:
        """A PDF header at the very start, and a trailer pointing inside the file at the end."""
        if not _PDF_HEADER.match(self.head):
            return False
        trailers = list(_PDF_TRAILER.finditer(self.tail))
        return bool(trailers) and int(trailers[-1][1]) < size


def safe_file_name(name: str | None, kind: MaterialKind) -> str:
    """The client's file name, made harmless to show and to send back: its last path component only,
    without control, format or bidirectional characters, not hidden, at most ``FILE_NAME_MAX``
    characters, and ending in ``.pdf``; ``<kind>.pdf`` when nothing is left."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if not unicodedata.category(c).startswith(("C", "Z")) or c == " ")
    name = " ".join(name.split()).lstrip(". ")
    stem = name[:-4] if name.lower().endswith(".pdf") else name
    stem = stem[: FILE_NAME_MAX - 4].rstrip(". ")
    return f"{stem or kind.value}.pdf"
